"""The receiver's group commit on SQLite: insert a batch of deliveries, mark relayed ones queued.

:func:`write_batch` runs inside a write transaction of the caller's. :func:`stage_batch` opens
its own on a connection that never waits for the lock and hands back a
:class:`SQLiteStagedBatch` whose ``COMMIT`` (the fsync) may run on another thread.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from core.errors import StoreUnavailableError
from core.store.models import NewDelivery
from core.times import utcnow

log = logging.getLogger(__name__)

SELFCHECK_OUTCOME = "selfcheck: recorded, not handed to handlers"

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


def _row(d: NewDelivery, now: str) -> tuple[Any, ...]:
    selfcheck = bool(d.selfcheck_nonce)
    return (
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


def insert_deliveries(
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
            rows.append(_row(d, now))
    for chunk in _chunks(rows):
        conn.execute(_INSERT_ROWS[len(chunk)], [value for row in chunk for value in row])
    return stored


def set_queued(conn: sqlite3.Connection, delivery_ids: Sequence[str], now: str) -> None:
    for chunk in _chunks(delivery_ids):
        conn.execute(_SET_QUEUED[len(chunk)], (now, now, *chunk))


def write_batch(
    conn: sqlite3.Connection, deliveries: Sequence[NewDelivery], queued_ids: Sequence[str], now: str
) -> list[bool]:
    """A group commit's statements (inside the caller's write transaction)."""
    stored = insert_deliveries(conn, deliveries, now)
    if queued_ids:
        set_queued(conn, queued_ids, now)
    return stored


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


def _begin(conn: sqlite3.Connection) -> bool:
    """``BEGIN IMMEDIATE``; False, at once, when another writer holds the lock."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return False
        raise StoreUnavailableError(f"event store write failed: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"event store write failed: {exc}") from exc
    return True


def stage_batch(
    conn: sqlite3.Connection, deliveries: Sequence[NewDelivery], queued_ids: Sequence[str]
) -> SQLiteStagedBatch | None:
    """:func:`write_batch` in a transaction of its own on ``conn`` (one that does not wait for
    the lock), left open; None if the lock is taken."""
    if not _begin(conn):
        return None
    staged = SQLiteStagedBatch(conn)
    try:
        staged.stored = write_batch(conn, deliveries, queued_ids, utcnow())
    except sqlite3.Error as exc:
        staged.rollback()
        raise StoreUnavailableError(f"event store write failed: {exc}") from exc
    except BaseException:
        staged.rollback()
        raise
    return staged
