"""The event store: the source of truth for every delivery.

:mod:`core.store.models` holds the :class:`EventStore` protocol and its records, and
:mod:`core.store.mirror` the mirror's; each backend is a package beside them
(:mod:`core.store.sqlite`, :mod:`core.store.postgres`). :func:`open_store` and
:func:`open_worker_stores` pick one from ``DATABASE_URL`` and migrate it, waiting a bounded
time for a database that is still starting. Status moves ``received → queued → processed |
failed | dead``; ``failed`` goes back to ``queued`` when retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError, StoreUnavailableError
from core.store.mirror import MirrorStore
from core.store.models import (
    DONE_STATUSES,
    EventStore,
    NewDelivery,
    Outcome,
    RelayItem,
    Result,
    StagedBatch,
    StagesBatches,
    StartAttempt,
    Status,
    StoredEvent,
    SweeperLease,
    Unfinished,
    WorkerWrite,
)
from core.store.reconcile import ReconcileStore

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "DONE_STATUSES",
    "EventStore",
    "MirrorStore",
    "NewDelivery",
    "Outcome",
    "ReconcileStore",
    "RelayItem",
    "Result",
    "StagedBatch",
    "StagesBatches",
    "StartAttempt",
    "Status",
    "StoredEvent",
    "SweeperLease",
    "Unfinished",
    "WorkerWrite",
    "build_reconcile_store",
    "build_store",
    "describe_store",
    "migrate_when_ready",
    "mirror_of",
    "open_store",
    "open_worker_stores",
]

log = logging.getLogger(__name__)


def describe_store(settings: Settings) -> str:
    """Where the store is, for logs: the SQLite file, or PostgreSQL's host:port/db (never
    the URL's user or password)."""
    if settings.store_backend() == "sqlite":
        return str(settings.sqlite_path())
    from core.store.postgres.connections import describe

    return f"postgresql {describe(settings.database_url)}"


def build_store(settings: Settings, *, worker: bool = False) -> tuple[EventStore, MirrorStore]:
    """The store of ``DATABASE_URL`` and its mirror, not migrated. ``worker``: SQLite writes
    on one connection with ``synchronous=NORMAL`` (see :mod:`core.store.sqlite.connections`)."""
    if settings.store_backend() == "sqlite":
        from core.store.sqlite.mirror import SQLiteMirror, SQLiteMirrorStore
        from core.store.sqlite.store import SQLiteEventStore

        if worker:  # one object: reconciliation uses the store and the mirror together
            both = SQLiteMirrorStore(settings.sqlite_path(), synchronous="NORMAL")
            return both, both
        sqlite = SQLiteEventStore(settings.sqlite_path())
        return sqlite, SQLiteMirror(sqlite)
    from core.store.postgres import PostgresEventStore, PostgresMirror, PostgresMirrorStore

    pool = _pool_settings(settings, "billoget-hooks worker" if worker else "billoget-hooks")
    if worker:  # one object, as on SQLite
        pg_both = PostgresMirrorStore(settings.database_url, **pool)
        return pg_both, pg_both
    pg = PostgresEventStore(settings.database_url, **pool)
    return pg, PostgresMirror(pg)


def _pool_settings(settings: Settings, name: str) -> dict[str, Any]:
    return {
        "min_size": settings.database_pool_min_size,
        "max_size": settings.database_pool_max_size,
        "timeout_s": settings.database_pool_timeout_s,
        "connect_timeout_s": settings.database_connect_timeout_s,
        "prepare": settings.database_prepared_statements,
        "name": name,
    }


def build_reconcile_store(settings: Settings) -> ReconcileStore:
    """The store of ``DATABASE_URL`` and its mirror as one object, not migrated, for
    ``billoget-hooks reconcile`` (SQLite with ``synchronous=FULL``, as the CLI's other writes)."""
    if settings.store_backend() == "sqlite":
        from core.store.sqlite.mirror import SQLiteMirrorStore

        return SQLiteMirrorStore(settings.sqlite_path())
    from core.store.postgres import PostgresMirrorStore

    return PostgresMirrorStore(
        settings.database_url, **_pool_settings(settings, "billoget-hooks reconcile")
    )


def mirror_of(store: EventStore) -> MirrorStore | None:
    """The mirror on ``store``'s own connections (for readers such as the inspector); None for
    a store of no known backend."""
    from core.store.postgres import PostgresMirror
    from core.store.postgres.connections import PostgresConnections
    from core.store.sqlite.connections import SQLiteConnections
    from core.store.sqlite.mirror import SQLiteMirror

    if isinstance(store, SQLiteConnections):
        return SQLiteMirror(store)
    if isinstance(store, PostgresConnections):
        return PostgresMirror(store)
    return None


def open_store(settings: Settings) -> EventStore:
    """The store named by ``DATABASE_URL``, migrated; ConfigError (exit 2) when the scheme is
    unknown or the store cannot be reached within ``DATABASE_STARTUP_WAIT_S``."""
    store, _ = build_store(settings)
    _migrate_or_stop(store, settings)
    return store


def open_worker_stores(settings: Settings) -> tuple[EventStore, MirrorStore]:
    """:func:`open_store` for a worker process: the store and its mirror, sharing connections."""
    store, mirror = build_store(settings, worker=True)
    _migrate_or_stop(store, settings)
    return store, mirror


def _migrate_or_stop(store: EventStore, settings: Settings) -> None:
    try:
        migrate_when_ready(store, timeout_s=settings.database_startup_wait_s)
    except StoreUnavailableError as exc:
        store.close()
        raise ConfigError(
            f"cannot open the event store {describe_store(settings)} within "
            f"{settings.database_startup_wait_s:g} s (DATABASE_STARTUP_WAIT_S): {exc.message}"
        ) from None


DEFAULT_MIGRATE_TIMEOUT_S = 30.0


def migrate_when_ready(
    store: EventStore,
    *,
    timeout_s: float = DEFAULT_MIGRATE_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Migrate, waiting out a store that is busy, locked or still starting at start-up
    (another process is writing, a backup holds a lock, PostgreSQL is coming up) with a
    warning per try; give up after ``timeout_s``."""
    deadline, delay_s = clock() + timeout_s, 0.2
    while True:
        try:
            store.migrate()
            return
        except StoreUnavailableError as exc:
            if clock() + delay_s > deadline:
                raise
            log.warning(
                "event store not ready at start-up (%s): again in %.1f s, waiting up to %g s",
                exc.message,
                delay_s,
                timeout_s,
            )
            sleep(delay_s)
            delay_s = min(delay_s * 2, 5.0)
