"""The SQLite event store's connections and transactions.

One connection per thread (WAL, a busy timeout, ``synchronous`` as asked), opened on first use;
:meth:`SQLiteConnections._write` is one ``BEGIN IMMEDIATE`` transaction and
:meth:`SQLiteConnections._reading` a read, each turning a SQLite failure into a
StoreUnavailableError. :class:`core.store.sqlite.store.SQLiteEventStore` (and its subclass,
the workers' :class:`core.store.sqlite.mirror.SQLiteMirrorStore`) build on it. The connections
are plain ``sqlite3``; :meth:`SQLiteConnections.db` wraps one in a sqlite-utils ``Database`` for
tools and is the only use of sqlite-utils in the store.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from core.errors import StoreUnavailableError

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_MS = 5000


class SQLiteConnections:
    """Connections to one SQLite file: per thread, plus the receiver's staging one."""

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ):
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        # FULL for the receiver (a 2xx only after the commit is on disk); the workers may use
        # NORMAL (WAL: a power loss can forget the last outcomes; those events run again).
        self._synchronous = synchronous
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._staging: sqlite3.Connection | None = None  # see stage_batch

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open(self._busy_timeout_ms)
        return conn

    def _open(self, busy_timeout_ms: int) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=0
            )
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"cannot open the event store: {exc}") from exc
        with self._all_lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction; any SQLite failure becomes a 503-able error."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    log.warning("rollback failed after %s", type(exc).__name__)
            raise StoreUnavailableError(f"event store write failed: {exc}") from exc

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection; any SQLite failure becomes a 503-able error."""
        try:
            yield self._connect()
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"event store read failed: {exc}") from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._reading() as conn:
            return conn.execute(sql, params).fetchall()

    def db(self) -> sqlite_utils.Database:
        """A sqlite-utils view of this thread's connection (for queries and tools)."""
        return sqlite_utils.Database(self._connect())

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                log.warning("closing a store connection failed")
        self._local = threading.local()
        self._staging = None
