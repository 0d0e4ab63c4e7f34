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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from core.store.models import NewDelivery, RelayItem, Status, StoredEvent, WorkerWrite
from core.store.postgres import batch, migrations, reads
from core.store.postgres import worker_writes as worker
from core.store.postgres.connections import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_POOL_MAX_SIZE,
    DEFAULT_POOL_MIN_SIZE,
    DEFAULT_POOL_TIMEOUT_S,
    TRANSIENT,
    PostgresConnections,
    unavailable,
)
from core.store.postgres.lease import AdvisoryLease
from core.times import format_time, utcnow

log = logging.getLogger(__name__)


def _ago(seconds: float) -> str:
    return format_time(datetime.now(UTC) - timedelta(seconds=seconds))


class PostgresEventStore(PostgresConnections):
    """The event store in a PostgreSQL database (``DATABASE_URL=postgresql://...``)."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = DEFAULT_POOL_MIN_SIZE,
        max_size: int = DEFAULT_POOL_MAX_SIZE,
        timeout_s: float = DEFAULT_POOL_TIMEOUT_S,
        connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
        prepare: bool = True,
        name: str = "billoget-hooks",
    ) -> None:
        super().__init__(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            prepare=prepare,
            name=name,
        )
        self._connect_timeout_s = connect_timeout_s

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
                self.url, autocommit=True, connect_timeout=self._connect_timeout_s
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

    def due_for_relay(
        self, *, received_grace_s: float, stale_after_s: float, limit: int
    ) -> list[RelayItem]:
        received, stale = _ago(received_grace_s), _ago(stale_after_s)
        with self.reading() as conn:
            return reads.due_for_relay(
                conn, received_before=received, stale_before=stale, limit=limit
            )

    def sweeper_lease(self) -> AdvisoryLease:
        """A session advisory lock on a connection of its own (see :mod:`.lease`)."""
        return AdvisoryLease(self.url, connect_timeout_s=self._connect_timeout_s)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, delivery_id: str) -> StoredEvent | None:
        with self.reading() as conn:
            return reads.get_event(conn, delivery_id)

    def list_events(
        self,
        *,
        status: Status | None = None,
        event_type: str | None = None,
        since: str | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        with self.reading() as conn:
            return reads.list_events(
                conn, status=status, event_type=event_type, since=since, limit=limit
            )

    def counts(self) -> dict[str, int]:
        with self.reading() as conn:
            return reads.counts(conn)

    def find_selfcheck(self, nonce: str) -> StoredEvent | None:
        with self.reading() as conn:
            return reads.find_selfcheck(conn, nonce)

    def last_selfcheck(self) -> tuple[str, bool, str] | None:
        with self.reading() as conn:
            return reads.last_selfcheck(conn)

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
