"""SQLite implementation of :class:`core.store.EventStore` (through sqlite-utils).

WAL mode, ``synchronous=FULL`` (a 2xx is only sent after the commit is on disk), a busy
timeout, one connection per thread. ``commit_batch`` is the group commit: the receiver hands it
every request that arrived while the previous commit was on disk and they share one
transaction. ``stage_batch`` splits it in two on a connection of its own that never waits for
the lock: the statements run on the caller's thread, the ``COMMIT`` (the fsync) wherever the
caller likes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from core.errors import StoreUnavailableError
from core.migrations import MIGRATIONS
from core.store import (
    DONE_STATUSES,
    NewDelivery,
    Outcome,
    RelayItem,
    StartAttempt,
    Status,
    StoredEvent,
    WorkerWrite,
    format_time,
    utcnow,
)

log = logging.getLogger(__name__)

SELFCHECK_OUTCOME = "selfcheck: recorded, not handed to handlers"

DEFAULT_BUSY_TIMEOUT_MS = 5000
SELFCHECK_RESULTS_KEPT = 200
_EVENT_COLUMNS = (
    "delivery_id, event_type, status, attempts, last_error, outcome, received_at, updated_at, "
    "queued_at, processed_at, next_attempt_at, event_timestamp, webhook_timestamp, body, "
    "selfcheck_nonce"
)


def _row_to_event(row: Sequence[Any]) -> StoredEvent:
    values = list(row)
    values[2] = Status(values[2])
    body = values[13]
    values[13] = body.encode() if isinstance(body, str) else bytes(body)
    return StoredEvent(*values)


def _ago(seconds: float) -> str:
    return format_time(datetime.now(UTC) - timedelta(seconds=seconds))


_INSERT_COLUMNS = (
    "delivery_id, event_type, status, outcome, received_at, updated_at, event_timestamp,"
    " webhook_timestamp, body, selfcheck_nonce"
)
# Batches are written with a few multi-row statements (chunks of these sizes) rather than one
# statement per row: far less Python per row, and the store-writer thread takes the GIL back
# a few times per batch instead of twice per row (each time can cost the event loop a switch).
_CHUNK_SIZES = (256, 64, 16, 4, 1)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    start = 0
    for size in _CHUNK_SIZES:
        while len(items) - start >= size:
            yield items[start : start + size]
            start += size


def _params(count: int) -> str:
    return ", ".join("?" * count)


_SELECT_EXISTING = {
    n: f"SELECT delivery_id FROM events WHERE delivery_id IN ({_params(n)})" for n in _CHUNK_SIZES
}
_INSERT_ROWS = {
    n: f"INSERT INTO events ({_INSERT_COLUMNS}) VALUES " + ", ".join([f"({_params(10)})"] * n)
    for n in _CHUNK_SIZES
}
_SET_QUEUED = {
    n: "UPDATE events SET status = 'queued', queued_at = ?, updated_at = ?"
    f" WHERE delivery_id IN ({_params(n)})"
    # ``+status``: look rows up by delivery id, never by scanning the status index
    " AND +status IN ('received', 'failed', 'queued')"
    for n in _CHUNK_SIZES
}


# The sweeper's query: ``received`` for longer than the grace, ``queued`` with no progress (nor
# a retry pending) for the stale period, ``failed`` whose retry is overdue by it; oldest first.
# One branch per status, each a range on the (status, updated_at) index (``MAX(updated_at, x) <
# t`` is ``updated_at < t AND x < t``), so a sweep reads only the rows that are due instead of
# every queued one.
_DUE_BRANCH = (
    "SELECT * FROM (SELECT delivery_id, event_type, updated_at FROM events WHERE {}"
    " ORDER BY updated_at LIMIT ?)"
)
_DUE_FOR_RELAY = (
    " UNION ALL ".join(
        _DUE_BRANCH.format(where)
        for where in (
            "status = 'received' AND updated_at < ?",
            "status = 'queued' AND updated_at < ? AND COALESCE(next_attempt_at, '') < ?",
            "status = 'failed' AND COALESCE(next_attempt_at, updated_at) < ?",
        )
    )
    + " ORDER BY updated_at LIMIT ?"
)


def _insert_deliveries(
    conn: sqlite3.Connection, deliveries: Sequence[NewDelivery], now: str
) -> list[bool]:
    """Insert the deliveries whose id is not stored yet (nor earlier in the batch); per
    delivery True if inserted, False if a duplicate. Runs inside a write transaction."""
    seen: set[str] = set()
    for chunk in _chunks([d.delivery_id for d in deliveries]):
        seen.update(row[0] for row in conn.execute(_SELECT_EXISTING[len(chunk)], chunk))
    stored: list[bool] = []
    rows: list[tuple[Any, ...]] = []
    for d in deliveries:
        is_new = d.delivery_id not in seen
        stored.append(is_new)
        if is_new:
            seen.add(d.delivery_id)
            selfcheck = bool(d.selfcheck_nonce)
            rows.append(
                (
                    d.delivery_id,
                    d.event_type,
                    # a self-check round trip is recorded, never handed to handlers
                    "processed" if selfcheck else "received",
                    SELFCHECK_OUTCOME if selfcheck else None,
                    now,
                    now,
                    d.event_timestamp,
                    d.webhook_timestamp,
                    d.body,
                    d.selfcheck_nonce,
                )
            )
    for chunk in _chunks(rows):
        conn.execute(_INSERT_ROWS[len(chunk)], [value for row in chunk for value in row])
    return stored


def _set_queued(conn: sqlite3.Connection, delivery_ids: Sequence[str], now: str) -> None:
    for chunk in _chunks(delivery_ids):
        conn.execute(_SET_QUEUED[len(chunk)], (now, now, *chunk))


class SQLiteStagedBatch:
    """A group commit's open transaction (:meth:`SQLiteEventStore.stage_batch`)."""

    __slots__ = ("_conn", "stored")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.stored: list[bool] = []

    def commit(self) -> None:
        """``COMMIT`` (blocking: the fsync); rolls back and raises StoreUnavailableError if it
        fails."""
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self.rollback()
            raise StoreUnavailableError(f"event store write failed: {exc}") from exc

    def rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                log.warning("rollback failed after %s", type(exc).__name__)


class SQLiteEventStore:
    """The event store in one SQLite file."""

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

    def __repr__(self) -> str:
        return f"SQLiteEventStore({str(self.path)!r})"

    # -- connections -------------------------------------------------------------------------

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

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._connect().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"event store read failed: {exc}") from exc

    def db(self) -> sqlite_utils.Database:
        """A sqlite-utils view of this thread's connection (for queries and tools)."""
        return sqlite_utils.Database(self._connect())

    # -- schema ------------------------------------------------------------------------------

    def migrate(self) -> None:
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in MIGRATIONS:
                if version in done:
                    continue
                for statement in filter(str.strip, sql.split(";")):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, utcnow())
                )
                log.info("applied migration %s (%s)", version, name)

    # -- receiver ----------------------------------------------------------------------------

    def insert_batch(self, deliveries: Sequence[NewDelivery]) -> list[bool]:
        return self.commit_batch(deliveries)

    def commit_batch(
        self, deliveries: Sequence[NewDelivery], *, queued_ids: Sequence[str] = ()
    ) -> list[bool]:
        now = utcnow()
        with self._write() as conn:
            stored = _insert_deliveries(conn, deliveries, now)
            if queued_ids:
                _set_queued(conn, queued_ids, now)
        return stored

    def stage_batch(
        self, deliveries: Sequence[NewDelivery], *, queued_ids: Sequence[str] = ()
    ) -> SQLiteStagedBatch | None:
        """:meth:`commit_batch` up to, not including, the ``COMMIT``: the statements (CPU work,
        no disk wait) run here, the returned batch's :meth:`~SQLiteStagedBatch.commit` (the
        fsync) may run on another thread. None, at once, when another writer holds the lock
        (use :meth:`commit_batch`, which waits for it). One staged batch at a time: commit or
        roll it back before staging the next."""
        conn = self._staging
        if conn is None:
            conn = self._staging = self._open(busy_timeout_ms=0)  # never wait for the lock
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                return None
            raise StoreUnavailableError(f"event store write failed: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"event store write failed: {exc}") from exc
        staged = SQLiteStagedBatch(conn)
        try:
            now = utcnow()
            staged.stored = _insert_deliveries(conn, deliveries, now)
            if queued_ids:
                _set_queued(conn, queued_ids, now)
        except sqlite3.Error as exc:
            staged.rollback()
            raise StoreUnavailableError(f"event store write failed: {exc}") from exc
        except BaseException:
            staged.rollback()
            raise
        return staged

    def mark_queued(self, delivery_ids: Sequence[str]) -> None:
        if not delivery_ids:
            return
        with self._write() as conn:
            _set_queued(conn, delivery_ids, utcnow())

    def due_for_relay(
        self, *, received_grace_s: float, stale_after_s: float, limit: int
    ) -> list[RelayItem]:
        stale = _ago(stale_after_s)
        rows = self._read(
            _DUE_FOR_RELAY,
            (_ago(received_grace_s), limit, stale, stale, limit, stale, limit, limit),
        )
        return [RelayItem(r[0], r[1]) for r in rows]

    # -- reads -------------------------------------------------------------------------------

    def get(self, delivery_id: str) -> StoredEvent | None:
        rows = self._read(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE delivery_id = ?", (delivery_id,)
        )
        return _row_to_event(rows[0]) if rows else None

    def list_events(
        self,
        *,
        status: Status | None = None,
        event_type: str | None = None,
        since: str | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        where, params = ["1 = 1"], []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if event_type is not None:
            where.append("event_type = ?")
            params.append(event_type)
        if since is not None:
            where.append("received_at >= ?")
            params.append(since)
        rows = self._read(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)}"
            " ORDER BY received_at DESC, delivery_id LIMIT ?",
            (*params, limit),
        )
        return [_row_to_event(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self._read("SELECT status, COUNT(*) FROM events GROUP BY status")
        found = {str(r[0]): int(r[1]) for r in rows}
        return {s.value: found.get(s.value, 0) for s in Status}

    def find_selfcheck(self, nonce: str) -> StoredEvent | None:
        rows = self._read(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE selfcheck_nonce = ? LIMIT 1", (nonce,)
        )
        return _row_to_event(rows[0]) if rows else None

    # -- workers -----------------------------------------------------------------------------

    def start_attempt(self, delivery_id: str) -> StoredEvent | None:
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE delivery_id = ?", (delivery_id,)
            ).fetchone()
            if row is None:
                return None
            event = _row_to_event(row)
            if event.status in DONE_STATUSES:
                return None
            conn.execute(
                "UPDATE events SET attempts = attempts + 1, updated_at = ? WHERE delivery_id = ?",
                (utcnow(), delivery_id),
            )
        return event

    def mark_processed(self, delivery_id: str, *, outcome: str) -> None:
        now = utcnow()
        with self._write() as conn:
            conn.execute(
                "UPDATE events SET status = 'processed', outcome = ?, processed_at = ?,"
                " updated_at = ?, next_attempt_at = NULL WHERE delivery_id = ?",
                (outcome, now, now, delivery_id),
            )

    def mark_failed(self, delivery_id: str, *, error: str, next_attempt_at: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE events SET status = 'failed', last_error = ?, next_attempt_at = ?,"
                " updated_at = ? WHERE delivery_id = ? AND status NOT IN ('processed', 'dead')",
                (error, next_attempt_at, utcnow(), delivery_id),
            )

    def mark_dead(self, delivery_id: str, *, reason: str) -> None:
        now = utcnow()
        with self._write() as conn:
            conn.execute(
                "UPDATE events SET status = 'dead', last_error = ?, outcome = 'dead',"
                " updated_at = ?, next_attempt_at = NULL WHERE delivery_id = ?",
                (reason, now, delivery_id),
            )

    def mark_deferred(self, delivery_id: str, *, reason: str, next_attempt_at: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE events SET status = 'queued', last_error = ?, next_attempt_at = ?,"
                " attempts = MAX(attempts - 1, 0), updated_at = ?"
                " WHERE delivery_id = ? AND status NOT IN ('processed', 'dead')",
                (reason, next_attempt_at, utcnow(), delivery_id),
            )

    def requeue(self, delivery_ids: Sequence[str]) -> int:
        now = utcnow()
        changed = 0
        with self._write() as conn:
            for delivery_id in delivery_ids:
                cur = conn.execute(
                    "UPDATE events SET status = 'received', attempts = 0, next_attempt_at = NULL,"
                    " outcome = NULL, updated_at = ? WHERE delivery_id = ?",
                    (now, delivery_id),
                )
                changed += cur.rowcount
        return changed

    # -- self-check --------------------------------------------------------------------------

    def save_selfcheck(self, report_json: str, ok: bool) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO selfcheck_results (at, ok, json) VALUES (?, ?, ?)",
                (utcnow(), int(ok), report_json),
            )
            conn.execute(
                "DELETE FROM selfcheck_results WHERE id <= (SELECT MAX(id) FROM selfcheck_results)"
                " - ?",
                (SELFCHECK_RESULTS_KEPT,),
            )

    def last_selfcheck(self) -> tuple[str, bool, str] | None:
        rows = self._read("SELECT at, ok, json FROM selfcheck_results ORDER BY id DESC LIMIT 1")
        return (str(rows[0][0]), bool(rows[0][1]), str(rows[0][2])) if rows else None

    def claim_selfcheck_slot(self, *, min_interval_s: float, now: float) -> float:
        with self._write() as conn:
            row = conn.execute(
                "SELECT last_call_at FROM selfcheck_throttle WHERE id = 1"
            ).fetchone()
            if row is not None and 0 <= now - float(row[0]) < min_interval_s:
                return min_interval_s - (now - float(row[0]))
            conn.execute("INSERT OR REPLACE INTO selfcheck_throttle VALUES (1, ?)", (now,))
        return 0.0

    # -- health ------------------------------------------------------------------------------

    def check_writable(self) -> None:
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS store_heartbeat (id INTEGER PRIMARY KEY, at TEXT)"
            )
            conn.execute("INSERT OR REPLACE INTO store_heartbeat VALUES (1, ?)", (utcnow(),))

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

    # -- workers: group commit ---------------------------------------------------------------

    def apply_worker_writes(self, writes: Sequence[WorkerWrite]) -> list[StoredEvent | None]:
        """Every write in one ``BEGIN IMMEDIATE`` transaction, in order, each with the SQL of
        its single method (``start_attempt``, ``mark_*``)."""
        if not writes:
            return []
        results: list[StoredEvent | None] = []
        with self._write() as conn:
            now = utcnow()
            for write in writes:
                if isinstance(write, StartAttempt):
                    results.append(_start_attempt_in(conn, write.delivery_id, now))
                else:
                    _outcome_in(conn, write, now)
                    results.append(None)
        return results


def _start_attempt_in(conn: sqlite3.Connection, delivery_id: str, now: str) -> StoredEvent | None:
    row = conn.execute(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE delivery_id = ?", (delivery_id,)
    ).fetchone()
    if row is None:
        return None
    event = _row_to_event(row)
    if event.status in DONE_STATUSES:
        return None
    conn.execute(
        "UPDATE events SET attempts = attempts + 1, updated_at = ? WHERE delivery_id = ?",
        (now, delivery_id),
    )
    return event


def _outcome_in(conn: sqlite3.Connection, outcome: Outcome, now: str) -> None:
    i, text, at = outcome.delivery_id, outcome.text, outcome.next_attempt_at
    if outcome.kind == "processed":
        conn.execute(
            "UPDATE events SET status = 'processed', outcome = ?, processed_at = ?,"
            " updated_at = ?, next_attempt_at = NULL WHERE delivery_id = ?",
            (text, now, now, i),
        )
    elif outcome.kind == "dead":
        conn.execute(
            "UPDATE events SET status = 'dead', last_error = ?, outcome = 'dead',"
            " updated_at = ?, next_attempt_at = NULL WHERE delivery_id = ?",
            (text, now, i),
        )
    elif outcome.kind == "failed":
        conn.execute(
            "UPDATE events SET status = 'failed', last_error = ?, next_attempt_at = ?,"
            " updated_at = ? WHERE delivery_id = ? AND status NOT IN ('processed', 'dead')",
            (text, at, now, i),
        )
    else:
        conn.execute(
            "UPDATE events SET status = 'queued', last_error = ?, next_attempt_at = ?,"
            " attempts = MAX(attempts - 1, 0), updated_at = ?"
            " WHERE delivery_id = ? AND status NOT IN ('processed', 'dead')",
            (text, at, now, i),
        )
