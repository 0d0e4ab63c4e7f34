"""Process one delivery: load it from the store, route it to handlers, record the outcome.

Every attempt ends in a :class:`core.store.Result`, the one vocabulary from the verdict to the
stored status (the store is the record, Redis only carries the delivery id):

- ``processed`` with what the handlers said (``mirrored``, ``coalesced``, ``no handler``, ...);
- ``failed``: any exception that is not one of those below (``ValueError``,
  ``pydantic.ValidationError``, ``JSONDecodeError``, a 5xx, a timeout, ...). Attempts, next
  attempt (exponential backoff, full jitter, at least the ``Retry-After`` of a 503), last error;
  then re-enqueued with that delay, and ``dead`` with the last error once ``WORKER_MAX_ATTEMPTS``
  are spent;
- ``deferred`` (stored as ``queued``): waiting for the API rate budget, a 429's ``Retry-After``
  or an entity another worker is fetching. The attempt is not counted: waiting never kills an
  event;
- ``dead`` at once only for :class:`core.errors.PermanentError`: the API's permanent answers
  (401, 403, 404, 422, a response that breaks the contract), a handler's own ``PermanentError``,
  or a stored body that is not an envelope.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from core.billoget import ApiError, ApiServerError, RateLimitedError
from core.errors import InvalidEnvelopeError, PermanentError, RetryLater, StoreUnavailableError
from core.events import parse_envelope
from core.logs import delivery_extra
from core.store import Outcome, Result, StartAttempt, StoredEvent
from core.store.sqlite.mirror import MirrorStore
from core.times import seconds_from_now
from workers.api import BudgetedApi
from workers.handlers.context import HandlerContext, delivery_logger
from workers.handlers.registry import Handler, HandlerRegistry
from workers.metrics import WorkerMetrics
from workers.redis_watch import REDIS_ERRORS
from workers.retry import RetryPolicy
from workers.storewriter import StoreWriter

log = logging.getLogger(__name__)

NO_HANDLER = "no handler"
MAX_TEXT = 500
DEFAULT_STORE_RETRY_S = 5.0
Enqueue = Callable[[str, str, float], None]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the worker made of one attempt: its :class:`~core.store.Result`, the outcome or error
    text, and for ``failed`` / ``deferred`` the least delay before the next one."""

    kind: Result
    text: str
    delay_s: float = 0.0


# runs the handlers' coroutine on the worker's event loop, from a worker thread
RunCoroutine = Callable[[Coroutine[Any, Any, Verdict]], Verdict]


def classify(exc: BaseException) -> Verdict:
    """What an exception raised by a handler means for the event (before the retry limit):
    only a :class:`PermanentError` is dead at once; anything else is ``failed`` (retried)."""
    if isinstance(exc, RateLimitedError):
        return Verdict(
            Result.DEFERRED, f"rate limited by Billoget (429): {exc.message}", exc.retry_after_s
        )
    if isinstance(exc, RetryLater):
        return Verdict(Result.DEFERRED, exc.message, exc.delay_s)
    if isinstance(exc, PermanentError):
        return Verdict(Result.DEAD, exc.message)
    if isinstance(exc, REDIS_ERRORS):  # the entity lock or the rate budget: Redis is away
        return Verdict(Result.FAILED, f"Redis unavailable: {type(exc).__name__}: {exc}")
    if isinstance(exc, ApiServerError):
        return Verdict(Result.FAILED, exc.message, exc.retry_after_s or 0.0)
    if isinstance(exc, ApiError):
        return Verdict(Result.FAILED, exc.message)
    if isinstance(exc, TimeoutError):
        return Verdict(Result.FAILED, "timed out")
    return Verdict(Result.FAILED, f"{type(exc).__name__}: {exc}")


class Processor:
    """Runs on a Dramatiq worker thread: the store's bookkeeping there (through the process's
    group commit, :class:`~workers.storewriter.StoreWriter`), only the handlers on the event
    loop (``run_coroutine``). An event no handler wants never touches the loop."""

    def __init__(
        self,
        *,
        writer: StoreWriter,
        mirror: MirrorStore,
        registry: HandlerRegistry,
        api: BudgetedApi,
        policy: RetryPolicy,
        enqueue: Enqueue,
        run_coroutine: RunCoroutine,
        time_limit_s: float,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self._writer = writer
        self._mirror = mirror
        self._registry = registry
        self._api = api
        self._policy = policy
        self._enqueue = enqueue
        self._run_coroutine = run_coroutine
        self._time_limit_s = time_limit_s
        self._metrics = metrics

    def process(self, delivery_id: str, *, event_type: str | None = None) -> Verdict | None:
        """Handle one delivery; None if it was unknown or already done (a duplicate)."""
        try:
            event = self._writer.write(StartAttempt(delivery_id))
            if event is None:
                log.debug(
                    "[%s] already done or unknown: skipped",
                    delivery_id,
                    extra=delivery_extra(delivery_id, event_type),
                )
                return None
            verdict = self._run(event)
            self._record(event, verdict)
        except StoreUnavailableError as exc:
            delay_s = DEFAULT_STORE_RETRY_S * (1 + random.random())
            log.warning(
                "[%s] event store unavailable (%s): again in %.1f s",
                delivery_id, exc, delay_s, extra=delivery_extra(delivery_id, event_type),
            )  # fmt: skip
            self._enqueue(delivery_id, event_type or "", delay_s)
            return Verdict(Result.DEFERRED, "event store unavailable", delay_s)
        return verdict

    def _run(self, event: StoredEvent) -> Verdict:
        try:
            envelope = parse_envelope(event.body)
        except InvalidEnvelopeError as exc:
            return Verdict(Result.DEAD, f"stored body is not a Billoget envelope: {exc.message}")
        handlers = self._registry.resolve(envelope.event)
        if not handlers:
            return Verdict(Result.PROCESSED, NO_HANDLER)
        ctx = HandlerContext(
            envelope=envelope,
            event=event,
            api=self._api,
            mirror=self._mirror,
            log=delivery_logger(logging.getLogger("workers.handlers"), event.delivery_id),
        )
        started = time.perf_counter()
        verdict = self._run_coroutine(self._handle(ctx, handlers))
        if self._metrics is not None:
            self._metrics.handled(event.event_type, time.perf_counter() - started)
        return verdict

    async def _handle(self, ctx: HandlerContext, handlers: list[Handler]) -> Verdict:
        """On the event loop: every handler in turn, within the time limit."""
        outcomes: list[str] = []
        try:
            async with asyncio.timeout(self._time_limit_s):
                for handler in handlers:
                    outcome = await _call(handler, ctx)
                    if outcome:
                        outcomes.append(outcome)
        except StoreUnavailableError:
            raise
        except Exception as exc:
            verdict = classify(exc)
            if verdict.kind is Result.FAILED and not isinstance(
                exc, (ApiError, TimeoutError, *REDIS_ERRORS)
            ):
                log.warning(
                    "[%s] handler raised",
                    ctx.delivery_id,
                    exc_info=True,
                    extra=delivery_extra(ctx.delivery_id, ctx.event.event_type),
                )
            return verdict
        return Verdict(Result.PROCESSED, "; ".join(outcomes) or "processed")

    def _record(self, event: StoredEvent, verdict: Verdict) -> None:
        delivery_id = event.delivery_id
        attempt = event.attempts + 1
        text = verdict.text[:MAX_TEXT]
        extra = delivery_extra(delivery_id, event.event_type)
        if verdict.kind is Result.FAILED and self._policy.exhausted(attempt):
            verdict = Verdict(Result.DEAD, f"retries exhausted after {attempt} attempts: {text}")
            text = verdict.text[:MAX_TEXT]
        if verdict.kind is Result.PROCESSED:
            self._writer.write(Outcome(delivery_id, Result.PROCESSED, text))
            log.debug("[%s] processed: %s", delivery_id, text, extra=extra)
        elif verdict.kind is Result.DEAD:
            self._writer.write(Outcome(delivery_id, Result.DEAD, text))
            log.warning("[%s] %s is dead: %s", delivery_id, event.event_type, text, extra=extra)
        elif verdict.kind is Result.FAILED:
            delay_s = self._policy.delay_s(attempt, retry_after_s=verdict.delay_s or None)
            self._writer.write(Outcome(delivery_id, Result.FAILED, text, seconds_from_now(delay_s)))
            log.info(
                "[%s] attempt %d failed (%s): retry in %.1f s",
                delivery_id, attempt, text, delay_s, extra=extra,
            )  # fmt: skip
            self._enqueue(delivery_id, event.event_type, delay_s)
        else:
            delay_s = max(verdict.delay_s, 0.0)
            self._writer.write(
                Outcome(delivery_id, Result.DEFERRED, text, seconds_from_now(delay_s))
            )
            log.debug("[%s] deferred %.1f s: %s", delivery_id, delay_s, text, extra=extra)
            self._enqueue(delivery_id, event.event_type, delay_s)
        if self._metrics is not None:
            self._metrics.outcome(verdict.kind.value)


async def _call(handler: Handler, ctx: HandlerContext) -> str | None:
    if inspect.iscoroutinefunction(handler):
        result = await handler(ctx)
    else:
        result = await asyncio.to_thread(handler, ctx)
        if inspect.isawaitable(result):
            result = await result
    return None if result is None else str(result)
