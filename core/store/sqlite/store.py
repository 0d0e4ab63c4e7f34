"""SQLite implementation of :class:`core.store.EventStore`.

WAL mode, ``synchronous=FULL`` (a 2xx is only sent after the commit is on disk), a busy
timeout, one connection per thread. ``commit_batch`` is the group commit: the receiver hands it
every request that arrived while the previous commit was on disk and they share one
transaction. ``stage_batch`` splits it in two on a connection of its own that never waits for
the lock: the statements run on the caller's thread, the ``COMMIT`` (the fsync) wherever the
caller likes.

This module holds the public class; the connections and transactions live in ``connections``
beside it, the schema in ``migrations``, and the SQL by concern in ``batch`` (the receiver's
group commit, plain ``sqlite3`` on the hot path), ``reads``, ``worker_writes`` and
``selfcheck``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import ClassVar

from core.store.inspect import AttemptRecord, Cursor, EventFilter, EventSummary
from core.store.models import (
    NewDelivery,
    StoredEvent,
    WorkerWrite,
)
from core.store.reading import ReadMethods, ReadsModule
from core.store.sqlite import batch as batch
from core.store.sqlite import observe as observe
from core.store.sqlite import reads as reads
from core.store.sqlite import reconcile as reconcile
from core.store.sqlite import retention as retention
from core.store.sqlite import selfcheck as selfcheck
from core.store.sqlite import worker_writes as worker
from core.store.sqlite.batch import SQLiteStagedBatch
from core.store.sqlite.connections import SQLiteConnections
from core.store.sqlite.lease import FileLease
from core.store.sqlite.migrations import MIGRATIONS
from core.times import utcnow

log = logging.getLogger(__name__)


_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def _pending(conn: sqlite3.Connection) -> list[tuple[int, str, str]]:
    known = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")} if known else set()
    return [m for m in MIGRATIONS if m[0] not in done]


class SQLiteEventStore(SQLiteConnections, ReadMethods):
    """The event store in one SQLite file."""

    reads: ClassVar[ReadsModule] = reads

    def __repr__(self) -> str:
        return f"SQLiteEventStore({str(self.path)!r})"

    # -- schema and health -------------------------------------------------------------------

    def migrate(self) -> None:
        """Apply what is pending in one ``BEGIN IMMEDIATE`` transaction (the file's write lock
        keeps other processes out meanwhile)."""
        with self.write() as conn:
            conn.execute(_SCHEMA_MIGRATIONS)
            for version, name, sql in _pending(conn):
                for statement in filter(str.strip, sql.split(";")):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, utcnow())
                )
                log.info("applied migration %s (%s)", version, name)

    def pending_migrations(self) -> list[tuple[int, str, str]]:
        if not self.path.exists():
            return list(MIGRATIONS)
        with self.reading() as conn:
            return _pending(conn)

    def check_writable(self) -> None:
        with self.write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS store_heartbeat (id INTEGER PRIMARY KEY, at TEXT)"
            )
            conn.execute("INSERT OR REPLACE INTO store_heartbeat VALUES (1, ?)", (utcnow(),))

    # -- receiver (core.store.sqlite.batch) --------------------------------------------------------

    def commit_batch(
        self, deliveries: Sequence[NewDelivery], *, queued_ids: Sequence[str] = ()
    ) -> list[bool]:
        now = utcnow()
        with self.write() as conn:
            return batch.write_batch(conn, deliveries, queued_ids, now)

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
        return batch.stage_batch(conn, deliveries, queued_ids)

    def mark_queued(self, delivery_ids: Sequence[str]) -> None:
        if not delivery_ids:
            return
        with self.write() as conn:
            batch.set_queued(conn, delivery_ids, utcnow())

    # -- reads: core.store.reading.ReadMethods on core.store.sqlite.reads ----------------------

    # -- the inspector (core.store.inspect; SQL in core.store.sqlite.reads) ----------------------

    def page_events(
        self, where: EventFilter, *, before: Cursor | None = None, limit: int = 50
    ) -> list[EventSummary]:
        with self.reading() as conn:
            return reads.page_events(conn, where, before=before, limit=limit)

    def count_events(self, where: EventFilter) -> int:
        with self.reading() as conn:
            return reads.count_events(conn, where)

    def received_per_minute(self, *, since: str) -> list[tuple[str, int]]:
        with self.reading() as conn:
            return reads.received_per_minute(conn, since=since)

    def oldest_unfinished(self) -> str | None:
        with self.reading() as conn:
            return reads.oldest_unfinished(conn)

    def last_received(self) -> str | None:
        with self.reading() as conn:
            return reads.last_received(conn)

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        with self.reading() as conn:
            return reads.attempts(conn, delivery_id)

    # -- workers (core.store.sqlite.worker_writes) -------------------------------------------------

    def apply_worker_writes(self, writes: Sequence[WorkerWrite]) -> list[StoredEvent | None]:
        """Every write in one ``BEGIN IMMEDIATE`` transaction, in order, each with the SQL of
        its single method (``start_attempt``, ``mark_*``)."""
        if not writes:
            return []
        with self.write() as conn:
            return worker.apply_worker_writes(conn, writes, utcnow())

    def requeue(self, delivery_ids: Sequence[str]) -> int:
        now = utcnow()
        with self.write() as conn:
            return worker.requeue(conn, delivery_ids, now)

    def prune(self, *, bodies_before: str, ids_before: str, limit: int) -> tuple[int, int]:
        now = utcnow()
        with self.write() as conn:
            return retention.prune(
                conn, bodies_before=bodies_before, ids_before=ids_before, limit=limit, now=now
            )

    # -- the relay sweeper's lease ---------------------------------------------------------------

    def sweeper_lease(self) -> FileLease:
        """A lock file beside the database (``<file>.sweeper.lock``): one sweeper per file,
        handed over the moment its holder's process ends."""
        return FileLease(self.path.with_name(self.path.name + ".sweeper.lock"))

    # -- self-check (core.store.sqlite.selfcheck) --------------------------------------------------

    def save_selfcheck(self, report_json: str, ok: bool) -> None:
        with self.write() as conn:
            selfcheck.save_selfcheck(conn, report_json, ok, utcnow())

    def claim_selfcheck_slot(self, *, min_interval_s: float, now: float) -> float:
        with self.write() as conn:
            return selfcheck.claim_selfcheck_slot(conn, min_interval_s=min_interval_s, now=now)

    # -- observability (core.store.sqlite.observe, issue 11) -----------------------------------

    def oldest_unprocessed_at(self) -> str | None:
        with self.reading() as conn:
            return observe.oldest_unprocessed_at(conn)

    def last_received_at(self) -> str | None:
        with self.reading() as conn:
            return observe.last_received_at(conn)

    def add_delivery_stats(self, minute: str, counts: Mapping[tuple[str, str], float]) -> None:
        if not counts:
            return
        with self.write() as conn:
            observe.add_delivery_stats(conn, minute, counts)

    def delivery_stats(self, since: str) -> dict[tuple[str, str], float]:
        with self.reading() as conn:
            return observe.delivery_stats(conn, since)

    def prune_delivery_stats(self, before: str) -> int:
        with self.write() as conn:
            return observe.prune_delivery_stats(conn, before)

    # -- reconciliation's coverage (core.store.sqlite.reconcile; /readyz and the metrics) -------

    def mirror_coverage(self, *, confirmed_since: str) -> dict[str, reconcile.Coverage]:
        """Per family: live mirrored entities, and those confirmed against the API since
        ``confirmed_since``."""
        with self.reading() as conn:
            return reconcile.coverage(conn, confirmed_since)

    def reconcile_repair_counts(self) -> dict[str, int]:
        """Repairs only reconciliation found, by kind (``missing``, ``stale``, ``gone``)."""
        with self.reading() as conn:
            return reconcile.repair_counts(conn)
