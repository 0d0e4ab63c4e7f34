"""The SQLite event store's connections and transactions.

One connection per thread (WAL, a busy timeout, ``synchronous`` as asked), opened on first use;
:meth:`SQLiteConnections.write` is one ``BEGIN IMMEDIATE`` transaction and
:meth:`SQLiteConnections.reading` a read, each turning a SQLite failure into a
StoreUnavailableError. :class:`core.store.sqlite.store.SQLiteEventStore` is one; the mirror
(:class:`core.store.sqlite.mirror.SQLiteMirror`) composes it. The connections are plain
``sqlite3``; :meth:`SQLiteConnections.db` wraps one in a sqlite-utils ``Database`` for tools and
is the only use of sqlite-utils in the store.

``single_writer=True`` (the workers): the threads write in turn, on ONE connection, behind a
Python lock. The lock hands over as soon as it is free (SQLite's busy handler sleeps 1, 2, 5,
10… ms between tries; only other processes, the receiver, still meet it), and that connection's
page cache stays warm (a connection's cache is dropped whenever another one commits). Reads
keep one connection per thread.
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
        single_writer: bool = False,
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
        self._write_lock: threading.Lock | None = threading.Lock() if single_writer else None
        self._write_conn: sqlite3.Connection | None = None

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
    def write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction; any SQLite failure becomes a 503-able error."""
        if self._write_lock is None:
            with self._transaction(self._connect()) as conn:
                yield conn
            return
        with self._write_lock:
            if self._write_conn is None:
                self._write_conn = self._open(self._busy_timeout_ms)
            with self._transaction(self._write_conn) as conn:
                yield conn

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
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
    def reading(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection; any SQLite failure becomes a 503-able error."""
        try:
            yield self._connect()
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"event store read failed: {exc}") from exc

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.reading() as conn:
            return conn.execute(sql, params).fetchall()

    def db(self) -> sqlite_utils.Database:
        """A sqlite-utils view of this thread's connection (for queries and tools)."""
        return sqlite_utils.Database(self._connect())

    def close(self) -> None:
        self._write_conn = None
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                log.warning("closing a store connection failed")
        self._local = threading.local()
        self._staging = None
