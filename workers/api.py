"""The Billoget API as handlers see it: every call within the shared rate budget.

:class:`BudgetedApi` wraps :class:`core.billoget.BillogetClient`. Before a call it checks the
remembered problems (a rejected key, a missing scope: no doomed call is made) and takes one
call from the :class:`~workers.ratebudget.RateBudget`, waiting up to ``max_inline_wait_s`` and
otherwise raising :class:`~workers.errors.BudgetWait` (the event is re-enqueued with that
delay, never failed). After a call it records the ``X-RateLimit-*`` values; a 429 blocks every
worker until its ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.billoget import (
    BillogetClient,
    Entity,
    Family,
    IpNotWhitelistedError,
    KeySuspendedError,
    RateLimitedError,
    RateLimitInfo,
    ScopeError,
    UnauthorizedError,
)
from workers.errors import BudgetWait, KeyRejected, NoApiKey, ScopeMissing
from workers.metrics import WorkerMetrics
from workers.problems import ProblemBoard
from workers.ratebudget import RateBudget

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_MAX_INLINE_WAIT_S = 2.0
KEY_PROBLEM = "api_key_rejected"
READ_SCOPES = {"budget": "READ_BUDGETS", "customer": "READ_CUSTOMERS", "product": "READ_PRODUCTS"}
_FAMILY_OF_SCOPE = {scope: family for family, scope in READ_SCOPES.items()}


def scope_problem(scope: str) -> str:
    return f"missing_scope:{scope}"


def scope_message(scope: str) -> str:
    family = _FAMILY_OF_SCOPE.get(scope)
    what = f"{family} events are stored but not mirrored" if family else "calls needing it fail"
    return f"BILLOGET_API_KEY lacks {scope}: {what} (grant the scope in Billoget, then replay)"


class BudgetedApi:
    """Rate-budgeted, problem-aware access to the Billoget API for handlers."""

    def __init__(
        self,
        client: BillogetClient | None,
        *,
        budget: RateBudget | None,
        problems: ProblemBoard,
        max_inline_wait_s: float = DEFAULT_MAX_INLINE_WAIT_S,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self._client = client
        self._budget = budget
        self._problems = problems
        self._max_inline_wait_s = max_inline_wait_s
        self._latest: RateLimitInfo | None = None
        self._metrics = metrics
        if client is not None:
            client.on_rate_limit = self._seen
            if metrics is not None:
                client.on_answer = metrics.api_answer

    def _seen(self, info: RateLimitInfo) -> None:
        self._latest = info
        if self._metrics is not None:
            self._metrics.budget_remaining(info.remaining)

    async def get_entity(self, family: Family, entity_id: int | str) -> Entity:
        """``GET /api/public/{family}s/{id}``; :class:`ApiNotFoundError` if it is gone."""
        scope = READ_SCOPES.get(family)
        if scope is not None and await self._problems.active(scope_problem(scope)) is not None:
            raise ScopeMissing(scope)
        return await self.call(lambda client: client.get_entity(family, entity_id), scope=scope)

    async def call(
        self, request: Callable[[BillogetClient], Awaitable[T]], *, scope: str | None = None
    ) -> T:
        """Make one API call (``request(client)``) within the budget."""
        if self._client is None or self._budget is None:
            raise NoApiKey()
        rejected = await self._problems.active(KEY_PROBLEM)
        if rejected is not None:
            raise KeyRejected(rejected)
        await self._take_budget()
        try:
            result = await request(self._client)
        except RateLimitedError as exc:
            await self._budget.block_for(exc.retry_after_s)
            log.warning("Billoget answered 429: every worker waits %.1f s", exc.retry_after_s)
            raise
        except (UnauthorizedError, KeySuspendedError, IpNotWhitelistedError) as exc:
            await self._problems.report(
                KEY_PROBLEM,
                f"Billoget rejects BILLOGET_API_KEY ({exc.code}): events needing the API are "
                "marked dead; fix the key, then replay them",
                detail=exc.code,
                level=logging.ERROR,
            )
            raise KeyRejected(exc.code) from exc
        except ScopeError as exc:
            missing = exc.missing_scope or scope or "a required scope"
            await self._problems.report(scope_problem(missing), scope_message(missing))
            raise ScopeMissing(missing) from exc
        finally:
            await self._learn()
        await self._problems.clear(KEY_PROBLEM, *([scope_problem(scope)] if scope else []))
        return result

    async def _take_budget(self) -> None:
        assert self._budget is not None
        while True:
            wait_s = await self._budget.acquire()
            if wait_s <= 0:
                return
            if wait_s > self._max_inline_wait_s:
                # spread the comeback a little so waiting events do not return as one herd
                delay_s = wait_s + random.uniform(0, min(wait_s * 0.1, 30.0))
                raise BudgetWait("waiting for the API rate budget", delay_s=delay_s)
            await asyncio.sleep(wait_s)

    async def _learn(self) -> None:
        info, self._latest = self._latest, None
        if info is not None and self._budget is not None:
            await self._budget.learn(
                limit=info.limit,
                remaining=info.remaining,
                reset_at=info.reset_at,
                window_s=info.window_s,
            )
