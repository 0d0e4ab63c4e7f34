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
from collections.abc import Mapping, Sequence

from core.store.inspect import AttemptRecord, Cursor, EventFilter, EventSummary
from core.store.models import (
    NewDelivery,
    RelayItem,
    Status,
    StoredEvent,
    Unfinished,
    WorkerWrite,
)
from core.store.sqlite import batch as batch
from core.store.sqlite import observe as observe
from core.store.sqlite import reads as reads
from core.store.sqlite import reconcile as reconcile
from core.store.sqlite import selfcheck as selfcheck
from core.store.sqlite import worker_writes as worker
from core.store.sqlite.batch import SQLiteStagedBatch
from core.store.sqlite.connections import SQLiteConnections
from core.store.sqlite.migrations import MIGRATIONS
from core.times import seconds_from_now, utcnow

log = logging.getLogger(__name__)


class SQLiteEventStore(SQLiteConnections):
    """The event store in one SQLite file."""

    def __repr__(self) -> str:
        return f"SQLiteEventStore({str(self.path)!r})"

    # -- schema and health -------------------------------------------------------------------

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

    def check_writable(self) -> None:
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS store_heartbeat (id INTEGER PRIMARY KEY, at TEXT)"
            )
            conn.execute("INSERT OR REPLACE INTO store_heartbeat VALUES (1, ?)", (utcnow(),))

    # -- receiver (core.store.sqlite.batch) --------------------------------------------------------

    def insert_batch(self, deliveries: Sequence[NewDelivery]) -> list[bool]:
        return self.commit_batch(deliveries)

    def commit_batch(
        self, deliveries: Sequence[NewDelivery], *, queued_ids: Sequence[str] = ()
    ) -> list[bool]:
        now = utcnow()
        with self._write() as conn:
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
        with self._write() as conn:
            batch.set_queued(conn, delivery_ids, utcnow())

    # -- reads (core.store.sqlite.reads) -----------------------------------------------------------

    def due_for_relay(
        self, *, received_grace_s: float, stale_after_s: float, limit: int
    ) -> list[RelayItem]:
        stale = seconds_from_now(-stale_after_s)
        received = seconds_from_now(-received_grace_s)
        with self._reading() as conn:
            return reads.due_for_relay(
                conn, received_before=received, stale_before=stale, limit=limit
            )

    def unfinished(
        self, *, before: str, after: tuple[str, str] | None = None, limit: int
    ) -> list[Unfinished]:
        with self._reading() as conn:
            return reads.unfinished(conn, before=before, after=after, limit=limit)

    def get(self, delivery_id: str) -> StoredEvent | None:
        with self._reading() as conn:
            return reads.get_event(conn, delivery_id)

    def list_events(
        self,
        *,
        status: Status | None = None,
        event_type: str | None = None,
        since: str | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        with self._reading() as conn:
            return reads.list_events(
                conn, status=status, event_type=event_type, since=since, limit=limit
            )

    def counts(self) -> dict[str, int]:
        with self._reading() as conn:
            return reads.counts(conn)

    def find_selfcheck(self, nonce: str) -> StoredEvent | None:
        with self._reading() as conn:
            return reads.find_selfcheck(conn, nonce)

    def last_selfcheck(self) -> tuple[str, bool, str] | None:
        with self._reading() as conn:
            return reads.last_selfcheck(conn)

    # -- the inspector (core.store.inspect; SQL in core.store.sqlite.reads) ----------------------

    def page_events(
        self, where: EventFilter, *, before: Cursor | None = None, limit: int = 50
    ) -> list[EventSummary]:
        with self._reading() as conn:
            return reads.page_events(conn, where, before=before, limit=limit)

    def count_events(self, where: EventFilter) -> int:
        with self._reading() as conn:
            return reads.count_events(conn, where)

    def received_per_minute(self, *, since: str) -> list[tuple[str, int]]:
        with self._reading() as conn:
            return reads.received_per_minute(conn, since=since)

    def oldest_unfinished(self) -> str | None:
        with self._reading() as conn:
            return reads.oldest_unfinished(conn)

    def last_received(self) -> str | None:
        with self._reading() as conn:
            return reads.last_received(conn)

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        with self._reading() as conn:
            return reads.attempts(conn, delivery_id)

    # -- workers (core.store.sqlite.worker_writes) -------------------------------------------------

    def start_attempt(self, delivery_id: str) -> StoredEvent | None:
        with self._write() as conn:
            return worker.start_attempt(conn, delivery_id, utcnow())

    def mark_processed(self, delivery_id: str, *, outcome: str) -> None:
        now = utcnow()
        with self._write() as conn:
            worker.mark_processed(conn, delivery_id, outcome, now)

    def mark_failed(self, delivery_id: str, *, error: str, next_attempt_at: str) -> None:
        with self._write() as conn:
            worker.mark_failed(conn, delivery_id, error, next_attempt_at, utcnow())

    def mark_dead(self, delivery_id: str, *, reason: str) -> None:
        now = utcnow()
        with self._write() as conn:
            worker.mark_dead(conn, delivery_id, reason, now)

    def mark_deferred(self, delivery_id: str, *, reason: str, next_attempt_at: str) -> None:
        with self._write() as conn:
            worker.mark_deferred(conn, delivery_id, reason, next_attempt_at, utcnow())

    def apply_worker_writes(self, writes: Sequence[WorkerWrite]) -> list[StoredEvent | None]:
        """Every write in one ``BEGIN IMMEDIATE`` transaction, in order, each with the SQL of
        its single method (``start_attempt``, ``mark_*``)."""
        if not writes:
            return []
        with self._write() as conn:
            return worker.apply_worker_writes(conn, writes, utcnow())

    def requeue(self, delivery_ids: Sequence[str]) -> int:
        now = utcnow()
        with self._write() as conn:
            return worker.requeue(conn, delivery_ids, now)

    # -- self-check (core.store.sqlite.selfcheck) --------------------------------------------------

    def save_selfcheck(self, report_json: str, ok: bool) -> None:
        with self._write() as conn:
            selfcheck.save_selfcheck(conn, report_json, ok, utcnow())

    def claim_selfcheck_slot(self, *, min_interval_s: float, now: float) -> float:
        with self._write() as conn:
            return selfcheck.claim_selfcheck_slot(conn, min_interval_s=min_interval_s, now=now)

    # -- observability (core.store.sqlite.observe, issue 11) -----------------------------------

    def oldest_unprocessed_at(self) -> str | None:
        with self._reading() as conn:
            return observe.oldest_unprocessed_at(conn)

    def last_received_at(self) -> str | None:
        with self._reading() as conn:
            return observe.last_received_at(conn)

    def add_delivery_stats(self, minute: str, counts: Mapping[tuple[str, str], float]) -> None:
        if not counts:
            return
        with self._write() as conn:
            observe.add_delivery_stats(conn, minute, counts)

    def delivery_stats(self, since: str) -> dict[tuple[str, str], float]:
        with self._reading() as conn:
            return observe.delivery_stats(conn, since)

    def prune_delivery_stats(self, before: str) -> int:
        with self._write() as conn:
            return observe.prune_delivery_stats(conn, before)

    # -- reconciliation's coverage (core.store.sqlite.reconcile; /readyz and the metrics) -------

    def mirror_coverage(self, *, confirmed_since: str) -> dict[str, reconcile.Coverage]:
        """Per family: live mirrored entities, and those confirmed against the API since
        ``confirmed_since``."""
        with self._reading() as conn:
            return reconcile.coverage(conn, confirmed_since)

    def reconcile_repair_counts(self) -> dict[str, int]:
        """Repairs only reconciliation found, by kind (``missing``, ``stale``, ``gone``)."""
        with self._reading() as conn:
            return reconcile.repair_counts(conn)
