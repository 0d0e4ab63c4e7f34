"""The event store: the source of truth for every delivery.

:mod:`core.store.models` holds the :class:`EventStore` protocol and its records; each backend
is a package beside it (:mod:`core.store.sqlite`). :func:`open_store` picks one from
``DATABASE_URL`` and migrates it. Status moves ``received → queued → processed | failed |
dead``; ``failed`` goes back to ``queued`` when retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.errors import StoreUnavailableError
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
    Unfinished,
    WorkerWrite,
)

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "DONE_STATUSES",
    "EventStore",
    "NewDelivery",
    "Outcome",
    "RelayItem",
    "Result",
    "StagedBatch",
    "StagesBatches",
    "StartAttempt",
    "Status",
    "StoredEvent",
    "Unfinished",
    "WorkerWrite",
    "migrate_when_ready",
    "open_store",
]

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> EventStore:
    """The store named by ``DATABASE_URL``, migrated."""
    from core.store.sqlite.store import SQLiteEventStore

    store = SQLiteEventStore(settings.sqlite_path())
    migrate_when_ready(store)
    return store


DEFAULT_MIGRATE_TIMEOUT_S = 30.0


def migrate_when_ready(
    store: EventStore,
    *,
    timeout_s: float = DEFAULT_MIGRATE_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Migrate, waiting out a store that is busy or locked at start-up (another process is
    writing, a backup holds a lock) with a warning per try; give up after ``timeout_s``."""
    deadline, delay_s = clock() + timeout_s, 0.2
    while True:
        try:
            store.migrate()
            return
        except StoreUnavailableError as exc:
            if clock() + delay_s > deadline:
                raise
            log.warning("event store not ready at start-up (%s): again in %.1f s", exc, delay_s)
            sleep(delay_s)
            delay_s = min(delay_s * 2, 5.0)
