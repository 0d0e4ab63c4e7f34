"""Everything a worker process holds: store, Redis, API client, handlers; built lazily on the
worker's event loop and closed when the worker shuts down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

import dramatiq
import redis
import redis.asyncio as aioredis
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware

from core.billoget import ApiKey, BillogetClient, check_api_config
from core.settings import Settings
from core.store import EventStore, MirrorStore, open_worker_stores
from core.store.postgres import PostgresMirrorStore
from core.store.reconcile import ReconcileStore
from core.store.sqlite.mirror import SQLiteMirrorStore
from workers.api import BudgetedApi
from workers.coalesce import EntityLock
from workers.fetchplan import FetchPlanner
from workers.handlers.mirror import MirrorHandlers
from workers.handlers.registry import HandlerRegistry, handler_modules
from workers.metrics import WorkerMetrics
from workers.problems import ProblemBoard
from workers.processing import Processor
from workers.ratebudget import RateBudget
from workers.reconcile import Lease, ReconcileSchedule
from workers.redis_watch import DramatiqOutageFilter, RedisWatch, redis_ping, worker_redis
from workers.retry import RetryPolicy
from workers.storewriter import StoreWriter

log = logging.getLogger(__name__)

T = TypeVar("T")


def api_key_of(settings: Settings) -> ApiKey | None:
    """The configured key (ConfigError if malformed); None when not set."""
    raw = settings.billoget_api_key.get_secret_value().strip() if settings.billoget_api_key else ""
    if not raw:
        return None
    key = ApiKey.parse(raw)
    for warning in check_api_config(settings.billoget_api_url, key):
        log.warning("%s", warning)
    return key


def build_registry(
    settings: Settings, *, lock: EntityLock, planner: FetchPlanner | None = None
) -> HandlerRegistry:
    """Default mirror handlers first, then the ``BILLOGET_HANDLERS`` modules."""
    registry = HandlerRegistry()
    MirrorHandlers(
        lock=lock, from_payload=settings.mirror_source == "payload", planner=planner
    ).register(registry)
    registry.load_modules(handler_modules(settings.billoget_handlers))
    return registry


def build_api(
    settings: Settings,
    client: aioredis.Redis,
    api_key: ApiKey | None,
    *,
    problems: ProblemBoard,
    metrics: WorkerMetrics | None = None,
) -> tuple[BillogetClient | None, BudgetedApi]:
    """The API client (None without a key) and its rate-budgeted wrapper on the shared budget."""
    s = settings
    if api_key is None:
        return None, BudgetedApi(None, budget=None, problems=problems, metrics=metrics)
    api_client = BillogetClient(
        base_url=s.billoget_api_url, api_key=api_key, timeout_s=s.billoget_api_timeout_s
    )
    budget = RateBudget(
        client,
        scope=api_key.prefix,
        budget_per_hour=s.billoget_api_budget_per_hour,
        reserve=s.billoget_api_budget_reserve,
        pace_below=s.billoget_api_pace_below,
    )
    api = BudgetedApi(
        api_client,
        budget=budget,
        problems=problems,
        metrics=metrics,
        background_share=s.reconcile_budget_share,
    )
    return api_client, api


class WorkerRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        broker: dramatiq.Broker,
        stores: tuple[EventStore, MirrorStore] | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        """``stores``: the event store and its mirror (opened from ``DATABASE_URL`` and closed
        with the runtime when not given)."""
        self.settings = settings
        self.metrics = metrics or WorkerMetrics()
        self.broker = broker
        self.api_key = api_key_of(settings)
        self._owns_store = stores is None
        self.store, self.mirror = stores if stores is not None else open_worker_stores(settings)
        store = self.store
        self.writer = StoreWriter(store)
        self.redis_watch = RedisWatch(broker, redis_ping(settings.redis_url))
        self._outage_filter = DramatiqOutageFilter(self.redis_watch)
        self._outage_filter.install()
        self._processor: Processor | None = None
        self._redis: aioredis.Redis | None = None
        self._client: BillogetClient | None = None
        self._lock: asyncio.Lock | None = None
        self._planner: FetchPlanner | None = None
        self._api: BudgetedApi | None = None
        self._schedule: asyncio.Task[None] | None = None
        if self.api_key is None:
            log.warning("BILLOGET_API_KEY is not set: events are stored but not mirrored")

    def process(self, delivery_id: str, *, event_type: str | None = None) -> None:
        """Process one delivery, on a Dramatiq worker thread (the actor)."""
        processor = self._processor or self.run_coroutine(self.processor())
        processor.process(delivery_id, event_type=event_type)

    def run_coroutine(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the worker's event loop (Dramatiq's AsyncIO middleware) and wait."""
        thread = get_event_loop_thread()
        if thread is None:
            coro.close()
            raise RuntimeError("the worker's event loop is not running (AsyncIO middleware)")
        return thread.run_coroutine(coro)

    async def processor(self) -> Processor:
        """The processor, built on first use on the running loop."""
        if self._processor is not None:
            return self._processor
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._processor is None:
                self._processor = self._build()
        return self._processor

    def _build(self) -> Processor:
        s = self.settings
        self._redis = worker_redis(s.redis_url)
        problems = ProblemBoard(self._redis, ttl_s=s.worker_problem_ttl_s)
        self._client, api = build_api(
            s, self._redis, self.api_key, problems=problems, metrics=self.metrics
        )
        self._api = api
        lock = EntityLock(self._redis, ttl_s=s.worker_fetch_lock_s)
        if s.mirror_fetch_window_s > 0:
            self._planner = FetchPlanner(
                self._redis, api=api, mirror=self.mirror, window_s=s.mirror_fetch_window_s
            )
        return Processor(
            writer=self.writer,
            mirror=self.mirror,
            registry=build_registry(s, lock=lock, planner=self._planner),
            api=api,
            policy=RetryPolicy(
                base_s=s.worker_retry_base_s,
                cap_s=s.worker_retry_cap_s,
                max_attempts=s.worker_max_attempts,
            ),
            enqueue=self.enqueue,
            run_coroutine=self.run_coroutine,
            time_limit_s=s.worker_time_limit_s,
            metrics=self.metrics,
        )

    def start_background(self) -> None:
        """Start scheduled reconciliation on the worker's event loop (RECONCILE_INTERVAL_S)."""
        thread = get_event_loop_thread()
        if self.settings.reconcile_interval_s <= 0 or self.api_key is None or thread is None:
            return
        if _reconciler(self.store) is None:
            log.warning(
                "reconciliation needs the store and its mirror as one object: not scheduled on %s",
                type(self.store).__name__,
            )
            return
        thread.loop.call_soon_threadsafe(self._start_schedule)

    def _start_schedule(self) -> None:
        self._schedule = asyncio.get_running_loop().create_task(self._reconcile_forever())

    async def _reconcile_forever(self) -> None:
        await self.processor()
        assert self._redis is not None and self._api is not None
        store = _reconciler(self.store)
        assert store is not None  # start_background checked it
        schedule = ReconcileSchedule(
            interval_s=self.settings.reconcile_interval_s,
            api=self._api,
            store=store,
            enqueue=self._enqueue_now,
            lease=Lease(self._redis),
        )
        await schedule.run_forever()

    def _enqueue_now(self, delivery_id: str, event_type: str) -> bool:
        try:
            self.enqueue(delivery_id, event_type, 0)
        except (redis.RedisError, OSError) as exc:
            log.info("[%s] not enqueued (%s): the sweeper relays it", delivery_id, exc)
            return False
        return True

    def enqueue(self, delivery_id: str, event_type: str, delay_s: float) -> None:
        """Schedule a retry (kept until Redis is back if it is away: see RedisWatch)."""
        self.redis_watch.enqueue(delivery_id, event_type, delay_s)

    async def aclose(self) -> None:
        if self._schedule is not None:
            self._schedule.cancel()
            await asyncio.gather(self._schedule, return_exceptions=True)
            self._schedule = None
        if self._planner is not None:
            await self._planner.aclose()
            self._planner = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        self._processor = None

    def close(self) -> None:
        """Close what the event loop holds (on it, if it still runs), then the store."""
        thread = get_event_loop_thread()
        if thread is not None and thread.loop.is_running():
            try:
                thread.run_coroutine(self.aclose())
            except Exception:
                log.warning("closing the worker's API client failed", exc_info=True)
        self.redis_watch.close()
        self._outage_filter.remove()
        self.writer.close()
        if self._owns_store:
            self.store.close()


class RuntimeCloser(Middleware):
    """Closes the runtime after the worker stopped, while the event loop still runs (add it
    after :class:`dramatiq.middleware.AsyncIO`: ``after_*`` hooks run in reverse order)."""

    def __init__(self, runtime: WorkerRuntime) -> None:
        self.runtime = runtime

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self.runtime.start_background()

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self.runtime.close()


def _reconciler(store: EventStore) -> ReconcileStore | None:
    """``store`` when it is also its mirror (the worker's store on either backend)."""
    if isinstance(store, SQLiteMirrorStore | PostgresMirrorStore):
        return store
    return None
