"""One reconciliation pass over a family: walk the API's list, compare with the mirror, repair.

The walk reads ``GET /api/public/{family}s?page=N&limit=100`` from the saved cursor (a pass
interrupted by a crash resumes where it stopped), within the background share of the rate
budget (:meth:`workers.api.BudgetedApi.call` with ``background=True``). Each entity is
compared with the mirror: missing, or newer in the API, is drift (a synthetic event,
:mod:`.repairs`); the same is *confirmed* (the store records when). After the last page, the
mirrored entities neither confirmed nor written since the pass began are checked one GET each
(a list that shifted under the walk may have hidden them): a 404 is drift ``gone``.

Waits for the budget or a 429's ``Retry-After`` are slept through when shorter than
``max_wait_s``; a longer one stops the pass (its cursor is saved) with the time to come back.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core.billoget import (
    ApiConnectionError,
    ApiError,
    ApiNotFoundError,
    ApiServerError,
    ApiTimeoutError,
    Entity,
    RateLimitedError,
)
from core.errors import RetryLater
from core.events import Family
from core.store.reconcile import ReconcileCursor, ReconcileStore
from core.times import normalize_time, utcnow
from workers.api import BudgetedApi
from workers.errors import KeyRejected
from workers.handlers.payload import wire_data
from workers.reconcile.repairs import Drift, Enqueue, submit

log = logging.getLogger(__name__)

PAGE_SIZE = 100
DEFAULT_MAX_WAIT_S = 120.0
TRANSIENT_TRIES = 3
T = TypeVar("T")


class PassStopped(Exception):
    """The pass stopped before its end (its cursor is saved): ``reason``, maybe ``resume_at``."""

    def __init__(self, reason: str, *, resume_at: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.resume_at = resume_at


@dataclass
class PassProgress:
    family: str
    pages: int = 0
    checked: int = 0
    total: int | None = None
    requests: int = 0
    repairs: dict[str, int] = field(default_factory=lambda: {"missing": 0, "stale": 0, "gone": 0})
    stored: int = 0
    completed: bool = False
    stopped: str | None = None
    resume_at: float | None = None
    started_page: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "pages": self.pages,
            "started_page": self.started_page,
            "checked": self.checked,
            "total": self.total,
            "requests": self.requests,
            "repairs": dict(self.repairs),
            "stored": self.stored,
            "completed": self.completed,
            "stopped": self.stopped,
            "resume_at": self.resume_at,
        }


@dataclass
class Allowance:
    """Requests a run may still spend (``--max-requests``; None: no limit)."""

    left: int | None = None

    def take(self) -> None:
        if self.left is not None:
            if self.left <= 0:
                raise PassStopped("stopped: --max-requests reached")
            self.left -= 1

    def refund(self) -> None:
        if self.left is not None:
            self.left += 1


Progress = Callable[[PassProgress], None]


class FamilyPass:
    def __init__(
        self,
        family: Family,
        *,
        api: BudgetedApi,
        store: ReconcileStore,
        enqueue: Enqueue,
        allowance: Allowance,
        dry_run: bool = False,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        progress: Progress | None = None,
    ) -> None:
        self.family = family
        self._api = api
        self._store = store
        self._enqueue = enqueue
        self._allowance = allowance
        self._dry_run = dry_run
        self._max_wait_s = max_wait_s
        self._progress = progress
        self.state = PassProgress(family)
        self._seen: set[str] = set()

    async def run(self) -> PassProgress:
        cursor = await asyncio.to_thread(self._store.reconcile_cursor, self.family)
        if self._dry_run or cursor is None or cursor.pass_started_at is None:
            last = cursor.last_completed_at if cursor else None
            cursor = ReconcileCursor(self.family, utcnow(), 1, last)
            await self._save(cursor)
        assert cursor.pass_started_at is not None
        self.state.started_page = cursor.next_page
        try:
            cursor = await self._walk(cursor)
            await self._check_unseen(cursor.pass_started_at or "")
        except PassStopped as stop:
            self.state.stopped, self.state.resume_at = stop.reason, stop.resume_at
            self._report()
            return self.state
        await self._save(ReconcileCursor(self.family, None, 1, utcnow()))
        self.state.completed = True
        self._report()
        return self.state

    # -- the walk ---------------------------------------------------------------------------------

    async def _walk(self, cursor: ReconcileCursor) -> ReconcileCursor:
        page = cursor.next_page
        while True:
            result = await self._call(
                functools.partial(
                    self._api.list_page, self.family, page=page, limit=PAGE_SIZE, background=True
                )
            )
            self.state.pages += 1
            self.state.total = result.pagination.total
            await self._compare(result.data)
            cursor = ReconcileCursor(
                self.family, cursor.pass_started_at, page + 1, cursor.last_completed_at
            )
            await self._save(cursor)
            self._report()
            if not result.has_more or not result.data:
                return cursor
            page += 1

    async def _compare(self, entities: Sequence[Entity]) -> None:
        drifts, same = await asyncio.to_thread(self._diff, entities)
        self.state.checked += len(entities)
        self._seen.update(str(e.id) for e in entities)
        await self._repair(drifts)
        if same and not self._dry_run:
            await asyncio.to_thread(self._store.confirm_entities, self.family, same, at=utcnow())

    def _diff(self, entities: Sequence[Entity]) -> tuple[list[Drift], list[str]]:
        drifts, same = [], []
        for entity in entities:
            entity_id = str(entity.id)
            row = self._store.get_entity(self.family, entity_id)
            updated = normalize_time(entity.updated_at)
            if row is None:
                drifts.append(Drift(self.family, entity_id, "missing", wire_data(entity)))
            elif row.deleted:
                continue  # a tombstone wins: ids are never reused
            elif updated is not None and (row.updated_at is None or updated > row.updated_at):
                drifts.append(Drift(self.family, entity_id, "stale", wire_data(entity)))
            else:
                same.append(entity_id)
        return drifts, same

    async def _check_unseen(self, pass_started_at: str) -> None:
        """Mirrored, live, not seen by this pass: GET each; a 404 is drift ``gone``."""
        candidates = await asyncio.to_thread(
            self._store.unconfirmed_live_ids, self.family, before=pass_started_at
        )
        for entity_id in candidates:
            if entity_id in self._seen:
                continue
            try:
                entity = await self._call(
                    functools.partial(self._api.get_entity, self.family, entity_id, background=True)
                )
            except ApiNotFoundError:
                row = await asyncio.to_thread(self._store.get_entity, self.family, entity_id)
                last = dict(row.data or {}) if row is not None else {}
                data = {**last, "id": _wire_id(entity_id), "deletedAt": _now_wire()}
                await self._repair([Drift(self.family, entity_id, "gone", data)])
                continue
            await self._compare([entity])

    async def _repair(self, drifts: list[Drift]) -> None:
        for drift in drifts:
            self.state.repairs[drift.kind] += 1
        if drifts and not self._dry_run:
            self.state.stored += await asyncio.to_thread(
                submit, self._store, drifts, enqueue=self._enqueue
            )

    # -- requests within the budget ---------------------------------------------------------------

    async def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        failures = 0
        while True:
            self._allowance.take()
            try:
                self.state.requests += 1
                return await request()
            except RetryLater as exc:  # the budget refused: nothing was sent
                self.state.requests -= 1
                self._allowance.refund()
                await self._wait(exc.delay_s, "the API budget share is spent for now")
            except RateLimitedError as exc:
                await self._wait(exc.retry_after_s, "Billoget answered 429")
            except (ApiServerError, ApiConnectionError, ApiTimeoutError) as exc:
                failures += 1
                if failures >= TRANSIENT_TRIES:
                    raise PassStopped(f"stopped: the API keeps failing ({exc})") from exc
                await asyncio.sleep(2.0**failures)
            except ApiNotFoundError:
                raise
            except KeyRejected as exc:
                raise PassStopped(
                    f"stopped: Billoget rejects BILLOGET_API_KEY ({exc.code})"
                ) from exc
            except ApiError as exc:
                raise PassStopped(f"stopped: {exc.message}") from exc

    async def _wait(self, wait_s: float, why: str) -> None:
        if wait_s > self._max_wait_s:
            raise PassStopped(f"paused: {why}", resume_at=time.time() + wait_s)
        log.info("reconcile %s: %s, waiting %.1f s", self.family, why, wait_s)
        await asyncio.sleep(wait_s)

    async def _save(self, cursor: ReconcileCursor) -> None:
        if not self._dry_run:
            await asyncio.to_thread(self._store.save_reconcile_cursor, cursor)

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(self.state)


def _wire_id(entity_id: str) -> int | str:
    return int(entity_id) if entity_id.isdigit() else entity_id


def _now_wire() -> str:
    return utcnow()
