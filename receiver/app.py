"""The receiver's application factory.

Every resource lives in a ``cleanup_ctx``, in dependency order: the store-writer and relay
threads, the store, the broker, the relay task, the group-commit task, the sweeper. On shutdown
they stop in reverse: the sweeper stops, pending commits finish, the relay sends what it holds,
then the broker and the store close. A store or broker passed in is used, not closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import dramatiq
from aiohttp import web

from core.selfcheck.run import selfcheck_in_background
from core.settings import Settings
from core.store import EventStore, open_store
from core.store.retention import DAY_S
from receiver import broker as broker_mod
from receiver.access import ACCESS_KEY, AccessPolicy, access_middleware
from receiver.admin import add_admin_routes
from receiver.batcher import DEFAULT_MAX_BATCH, DEFAULT_MAX_PENDING, GroupCommitter
from receiver.checks_extra import selfcheck_check, workers_check
from receiver.health import DEFAULT_CHECKS, healthz, readyz
from receiver.httplog import server_logger
from receiver.ingest import build_ingestor
from receiver.inspector import setup_inspector
from receiver.inspector.guard import inspector_middleware
from receiver.inspector.state import SIGNALS_KEY
from receiver.keys import (
    BATCHER_KEY,
    BROKER_KEY,
    INGESTOR_KEY,
    METRICS_KEY,
    READ_EXECUTOR_KEY,
    READINESS_CHECKS_KEY,
    REFUSED_KEY,
    RELAY_KEY,
    SETTINGS_KEY,
    STORE_KEY,
    WRITE_EXECUTOR_KEY,
)
from receiver.middleware import error_middleware
from receiver.observability.families import ReceiverMetrics
from receiver.observability.overview import inspector_signals
from receiver.observability.routes import add_observability
from receiver.redis_epoch import redis_recovery
from receiver.refused import RefusedLog
from receiver.relay import Relay, sweep_forever
from receiver.retention import prune_forever
from receiver.views import WEBHOOK_PATH, receive_webhook

log = logging.getLogger(__name__)

SHUTDOWN_FLUSH_TIMEOUT_S = 2.0
CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def create_app(
    settings: Settings,
    *,
    store: EventStore | None = None,
    broker: dramatiq.Broker | None = None,
    clock: Callable[[], float] = time.time,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_pending: int = DEFAULT_MAX_PENDING,
) -> web.Application:
    """The receiver; raises :class:`core.errors.ConfigError` without a webhook secret."""
    secrets = settings.webhook_secrets()
    metrics = ReceiverMetrics([secret.fingerprint() for secret in secrets])
    ingestor = build_ingestor(settings, clock=clock, on_verified=metrics.verified)
    app = web.Application(
        middlewares=[error_middleware, access_middleware, inspector_middleware],
        handler_args={"logger": server_logger()},
    )
    app[SETTINGS_KEY] = settings
    app[ACCESS_KEY] = AccessPolicy.from_settings(settings)
    app[INGESTOR_KEY] = ingestor
    app[REFUSED_KEY] = RefusedLog(settings.billoget_refused_keep)
    app[READINESS_CHECKS_KEY] = {
        **DEFAULT_CHECKS,
        "selfcheck": selfcheck_check,
        "workers": workers_check,
    }
    app.router.add_post(WEBHOOK_PATH, receive_webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    add_admin_routes(app)
    sweep = partial(
        sweep_forever,
        interval_s=settings.relay_sweep_interval_s,
        received_grace_s=settings.relay_received_grace_s,
        stale_after_s=settings.relay_stale_after_s,
    )
    app.cleanup_ctx.extend(
        [
            partial(_store_ctx, given=store),
            _executor_ctx,
            partial(_broker_ctx, given=broker),
            _relay_ctx,
            partial(_batcher_ctx, max_batch=max_batch, max_pending=max_pending),
            partial(_sweeper_ctx, sweep=sweep),
        ]
    )
    add_observability(app, settings, metrics)  # after the store's contexts: it reads the store
    setup_inspector(app)
    app[SIGNALS_KEY] = inspector_signals  # the overview's secret matches, silence and alerts
    if settings.retention_days > 0:
        app.cleanup_ctx.append(_retention_ctx)
    return app


async def _store_ctx(app: web.Application, *, given: EventStore | None) -> AsyncIterator[None]:
    store = given if given is not None else await asyncio.to_thread(open_store, app[SETTINGS_KEY])
    app[STORE_KEY] = store
    yield
    if given is None:
        store.close()


async def _executor_ctx(app: web.Application) -> AsyncIterator[None]:
    """The store's threads; on shutdown wait for their last call, so the store closes idle."""
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
    reader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="store-reader")
    app[WRITE_EXECUTOR_KEY], app[READ_EXECUTOR_KEY] = writer, reader
    yield
    for executor in (writer, reader):
        await asyncio.to_thread(executor.shutdown, wait=True)


async def _broker_ctx(
    app: web.Application, *, given: dramatiq.Broker | None
) -> AsyncIterator[None]:
    broker = given if given is not None else broker_mod.build_broker(app[SETTINGS_KEY].redis_url)
    app[BROKER_KEY] = broker
    yield
    if given is None:
        broker_mod.close_broker(broker)


async def _relay_ctx(app: web.Application) -> AsyncIterator[None]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay") as broker_executor:
        relay = Relay(
            app[STORE_KEY],
            app[BROKER_KEY],
            write_executor=app[WRITE_EXECUTOR_KEY],
            broker_executor=broker_executor,
            linger_s=app[SETTINGS_KEY].relay_linger_s,
        )
        app[RELAY_KEY] = relay
        async with _background(relay.run(), name="relay"):
            yield
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(relay.flush(), SHUTDOWN_FLUSH_TIMEOUT_S)


async def _batcher_ctx(
    app: web.Application, *, max_batch: int, max_pending: int
) -> AsyncIterator[None]:
    batcher = GroupCommitter(
        app[STORE_KEY],
        executor=app[WRITE_EXECUTOR_KEY],
        on_committed=app[RELAY_KEY].push,
        on_batch=app[METRICS_KEY].committed,
        max_batch=max_batch,
        max_pending=max_pending,
        inline_max_commit_s=app[SETTINGS_KEY].commit_inline_max_ms / 1000,
    )
    app[BATCHER_KEY] = batcher
    app[RELAY_KEY].mark_queued_via(batcher.mark_queued_later)  # no transaction of its own
    yield
    try:
        await batcher.drain()
    finally:
        batcher.fail_pending()


async def _sweeper_ctx(
    app: web.Application, *, sweep: Callable[..., Coroutine[Any, Any, None]]
) -> AsyncIterator[None]:
    store, relay, reader = app[STORE_KEY], app[RELAY_KEY], app[READ_EXECUTOR_KEY]
    recovery = redis_recovery(store, relay, app[BROKER_KEY], read_executor=reader)
    before = recovery.check if recovery is not None else None
    lease = store.sweeper_lease()
    task = sweep(store, relay, read_executor=reader, before_sweep=before, lease=lease)
    async with _background(task, name="sweeper"):
        yield
    await asyncio.to_thread(lease.release)  # the next receiver takes over at once


async def _retention_ctx(app: web.Application) -> AsyncIterator[None]:
    s = app[SETTINGS_KEY]
    task = prune_forever(
        app[STORE_KEY],
        executor=app[WRITE_EXECUTOR_KEY],
        interval_s=s.retention_interval_s,
        older_than_s=s.retention_days * DAY_S,
        keep_ids_s=s.retention_keep_ids_days * DAY_S,
    )
    async with _background(task, name="retention"):
        yield


async def selfcheck_at_start(app: web.Application) -> AsyncIterator[None]:
    """``serve`` runs the self-check once the server listens (the round trip needs it)."""
    task = selfcheck_in_background(app[SETTINGS_KEY], app[STORE_KEY])
    async with _background(task, name="selfcheck"):
        yield


@contextlib.asynccontextmanager
async def _background(coro: Coroutine[Any, Any, object], *, name: str) -> AsyncIterator[None]:
    """Run ``coro`` as a task for the duration of the block; cancel it afterwards."""
    task = asyncio.create_task(coro, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
