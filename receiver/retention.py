"""The background prune (``RETENTION_DAYS``): retention in small batches, between commits.

Each batch (:meth:`core.store.EventStore.prune`) runs on the store-writer thread like any other
write, so a group commit waits at most one small batch; the rules are
:mod:`core.store.retention`'s, the same as ``billoget-hooks prune``.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from datetime import UTC, datetime
from functools import partial

from core.errors import StoreUnavailableError
from core.store import EventStore
from core.store.retention import DEFAULT_PRUNE_BATCH, cutoffs

log = logging.getLogger(__name__)


async def prune_once(
    store: EventStore,
    *,
    executor: Executor,
    older_than_s: float,
    keep_ids_s: float,
    batch: int = DEFAULT_PRUNE_BATCH,
) -> tuple[int, int]:
    """Prune until nothing is left; ``(bodies emptied, events deleted)``."""
    bodies_before, ids_before = cutoffs(
        older_than_s=older_than_s, keep_ids_s=keep_ids_s, now=datetime.now(UTC)
    )
    one = partial(store.prune, bodies_before=bodies_before, ids_before=ids_before, limit=batch)
    emptied = deleted = 0
    loop = asyncio.get_running_loop()
    while True:
        e, d = await loop.run_in_executor(executor, one)
        emptied, deleted = emptied + e, deleted + d
        if e < batch and d < batch:
            break
        await asyncio.sleep(0)  # let the next group commit go first
    if emptied or deleted:
        log.info("retention: emptied %d bodies, deleted %d events", emptied, deleted)
    return emptied, deleted


async def prune_forever(
    store: EventStore,
    *,
    executor: Executor,
    interval_s: float,
    older_than_s: float,
    keep_ids_s: float,
) -> None:
    while True:
        try:
            await prune_once(
                store, executor=executor, older_than_s=older_than_s, keep_ids_s=keep_ids_s
            )
        except StoreUnavailableError as exc:
            log.warning("retention: the store is unavailable (%s); again later", exc.message)
        except Exception:
            log.exception("retention failed; trying again in %.0f s", interval_s)
        await asyncio.sleep(interval_s)
