"""Retention: forget the bodies of events done long ago, keep their delivery ids long enough.

A done (``processed``/``dead``) event loses its body once it has been done for ``older_than_s``
and its row once it has been done for ``max(older_than_s, keep_ids_s)``. ``keep_ids_s`` is at
least the sender's retry horizon (Billoget retries for days; 7 by default), so a late retry of
a pruned delivery still meets its id and is answered as a duplicate instead of run twice.
Events not done are never touched. Work goes in small batches, each its own transaction, so the
receiver's group commits slip in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.store.models import EventStore
from core.times import format_time

log = logging.getLogger(__name__)

DEFAULT_PRUNE_BATCH = 500
DAY_S = 86400.0
MIN_KEEP_IDS_S = DAY_S  # never forget an id sooner than a day, whatever the setting


@dataclass(slots=True)
class PruneResult:
    emptied: int = 0
    deleted: int = 0


def cutoffs(*, older_than_s: float, keep_ids_s: float, now: datetime) -> tuple[str, str]:
    """``(bodies_before, ids_before)`` as the store's time text."""
    keep_s = max(older_than_s, keep_ids_s, MIN_KEEP_IDS_S)
    return (
        format_time(now - timedelta(seconds=older_than_s)),
        format_time(now - timedelta(seconds=keep_s)),
    )


def prune_all(
    store: EventStore,
    *,
    older_than_s: float,
    keep_ids_s: float,
    batch: int = DEFAULT_PRUNE_BATCH,
    now: datetime | None = None,
    each: Callable[[PruneResult], None] | None = None,
) -> PruneResult:
    """Prune batch after batch until nothing is left; the totals. ``each`` sees the running
    totals after every batch."""
    bodies_before, ids_before = cutoffs(
        older_than_s=older_than_s, keep_ids_s=keep_ids_s, now=now or datetime.now(UTC)
    )
    total = PruneResult()
    while True:
        emptied, deleted = store.prune(
            bodies_before=bodies_before, ids_before=ids_before, limit=batch
        )
        total.emptied += emptied
        total.deleted += deleted
        if each is not None:
            each(total)
        if emptied < batch and deleted < batch:
            return total
