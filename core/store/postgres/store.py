"""PostgreSQL implementation of :class:`core.store.EventStore`: many receivers and workers on
many hosts, one database.

Blocking psycopg 3 on a ``psycopg_pool.ConnectionPool`` (:mod:`.connections`): the receiver's
group commit already runs on its store-writer thread, one batch at a time, so a thread pool
fits it without a second code path (the driver releases the GIL while it waits on the server).
The SQL lives by concern beside it: ``migrations`` (numbered, under an advisory lock),
``batch`` (the group commit's multi-row insert), ``reads``, ``worker_writes``, ``lease`` (the
sweeper's advisory lock) and ``mirror``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import psycopg

from core.store.inspect import AttemptRecord, Cursor, EventFilter, EventSummary
from core.store.models import NewDelivery, StoredEvent, WorkerWrite
from core.store.postgres import batch, inspect_reads, migrations, observe, reads, reconcile
from core.store.postgres import worker_writes as worker
from core.store.postgres.connections import TRANSIENT, PostgresConnections, unavailable
from core.store.postgres.lease import AdvisoryLease
from core.store.reading import ReadMethods, ReadsModule
from core.store.reconcile import Coverage
from core.times import utcnow

log = logging.getLogger(__name__)


class PostgresEventStore(PostgresConnections, ReadMethods):
    """The event store in a PostgreSQL database (``DATABASE_URL=postgresql://...``)."""

    reads: ClassVar[ReadsModule] = reads

    # -- schema and health -------------------------------------------------------------------

    def migrate(self) -> None:
        """Apply pending migrations on a connection of its own (not the pool's: at start-up
        the server's own error, e.g. "Connection refused", is what the operator needs)."""
        with self._direct("migration") as conn, conn.transaction():
            migrations.apply(conn)

    def pending_migrations(self) -> list[tuple[int, str, str]]:
        with self._direct("read") as conn:
            return migrations.pending(conn)

    @contextmanager
    def _direct(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        try:
            with psycopg.connect(
                self.url, autocommit=True, connect_timeout=self.connect_timeout_s
            ) as conn:
                yield conn
        except TRANSIENT as exc:
            raise unavailable(exc, what) from exc

    def check_writable(self) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO store_heartbeat VALUES (1, %s)"
                " ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                (utcnow(),),
            )

    # -- receiver ------------------------------------------------------------------------------

    def commit_batch(
        self, deliveries: Sequence[NewDelivery], *, queued_ids: Sequence[str] = ()
    ) -> list[bool]:
        now = utcnow()
        with self.write() as conn:
            stored = batch.insert_deliveries(conn, deliveries, now)
            batch.set_queued(conn, queued_ids, now)
            return stored

    def mark_queued(self, delivery_ids: Sequence[str]) -> None:
        if delivery_ids:
            with self.write() as conn:
                batch.set_queued(conn, delivery_ids, utcnow())

    def sweeper_lease(self) -> AdvisoryLease:
        """A session advisory lock on a connection of its own (see :mod:`.lease`)."""
        return AdvisoryLease(self.url, connect_timeout_s=self.connect_timeout_s)

    # -- workers, operator ---------------------------------------------------------------------

    def apply_worker_writes(self, writes: Sequence[WorkerWrite]) -> list[StoredEvent | None]:
        if not writes:
            return []
        with self.write() as conn:
            return worker.apply_worker_writes(conn, writes, utcnow())

    def requeue(self, delivery_ids: Sequence[str]) -> int:
        if not delivery_ids:
            return 0
        with self.write() as conn:
            return worker.requeue(conn, delivery_ids, utcnow())

    def prune(self, *, bodies_before: str, ids_before: str, limit: int) -> tuple[int, int]:
        with self.write() as conn:
            return worker.prune(
                conn, bodies_before=bodies_before, ids_before=ids_before, limit=limit, now=utcnow()
            )

    # -- self-check ----------------------------------------------------------------------------

    def save_selfcheck(self, report_json: str, ok: bool) -> None:
        with self.write() as conn:
            worker.save_selfcheck(conn, report_json, ok, utcnow())

    def claim_selfcheck_slot(self, *, min_interval_s: float, now: float) -> float:
        with self.write() as conn:
            return worker.claim_selfcheck_slot(conn, min_interval_s=min_interval_s, now=now)

    # -- observability (core.store.postgres.observe, issue 11) ---------------------------------

    def oldest_unprocessed_at(self) -> str | None:
        with self.reading() as conn:
            return observe.oldest_unprocessed_at(conn)

    def last_received_at(self) -> str | None:
        with self.reading() as conn:
            return observe.last_received_at(conn)

    # -- the inspector (core.store.inspect; SQL in core.store.postgres.inspect_reads) -----------

    def page_events(
        self, where: EventFilter, *, before: Cursor | None = None, limit: int = 50
    ) -> list[EventSummary]:
        with self.reading() as conn:
            return inspect_reads.page_events(conn, where, before=before, limit=limit)

    def count_events(self, where: EventFilter) -> int:
        with self.reading() as conn:
            return inspect_reads.count_events(conn, where)

    def received_per_minute(self, *, since: str) -> list[tuple[str, int]]:
        with self.reading() as conn:
            return inspect_reads.received_per_minute(conn, since)

    def oldest_unfinished(self) -> str | None:
        return self.oldest_unprocessed_at()

    def last_received(self) -> str | None:
        return self.last_received_at()

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        with self.reading() as conn:
            return inspect_reads.attempts(conn, delivery_id)

    def add_delivery_stats(self, minute: str, counts: Mapping[tuple[str, str], float]) -> None:
        if counts:
            with self.write() as conn:
                observe.add_delivery_stats(conn, minute, counts)

    def delivery_stats(self, since: str) -> dict[tuple[str, str], float]:
        with self.reading() as conn:
            return observe.delivery_stats(conn, since)

    def prune_delivery_stats(self, before: str) -> int:
        with self.write() as conn:
            return observe.prune_delivery_stats(conn, before)

    # -- reconciliation's coverage (core.store.postgres.reconcile; /readyz and the metrics) -----

    def mirror_coverage(self, *, confirmed_since: str) -> dict[str, Coverage]:
        """Per family: live mirrored entities, and those confirmed against the API since
        ``confirmed_since``."""
        with self.reading() as conn:
            return reconcile.coverage(conn, confirmed_since)

    def reconcile_repair_counts(self) -> dict[str, int]:
        """Repairs only reconciliation found, by kind (``missing``, ``stale``, ``gone``)."""
        with self.reading() as conn:
            return reconcile.repair_counts(conn)
