"""``GET /metrics`` (Prometheus text exposition) and the observer's place in the app.

Access (see :mod:`receiver.access`): ``Authorization: Bearer <METRICS_TOKEN>`` (or the
``ADMIN_TOKEN``) when either is set, loopback clients only when neither is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from core.settings import Settings
from receiver.access import METRICS_PATH
from receiver.keys import METRICS_KEY, READINESS_WARNINGS_KEY
from receiver.observability.families import ReceiverMetrics
from receiver.observability.observer import OBSERVER_KEY, Observer

SHUTDOWN_STATS_TIMEOUT_S = 2.0


async def get_metrics(request: web.Request) -> web.Response:
    observer = request.app[OBSERVER_KEY]
    if observer.stale():
        await observer.refresh(request.app)
    # the workers' files are read here: off the event loop
    body = await asyncio.to_thread(generate_latest, observer.registry)
    # the classic text format: every Prometheus (and promtool) reads it
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


async def _observer_ctx(app: web.Application) -> AsyncIterator[None]:
    observer = app[OBSERVER_KEY]
    task = asyncio.create_task(observer.run(app), name="observer")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # what was counted since the last tick, before the store closes
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(observer.record_stats(app), SHUTDOWN_STATS_TIMEOUT_S)


def add_observability(app: web.Application, settings: Settings, metrics: ReceiverMetrics) -> None:
    """``/metrics``, the observer task (once the store and its threads are up: call it after
    the other ``cleanup_ctx`` entries are in) and the readiness warnings."""
    observer = Observer(settings, metrics)
    app[METRICS_KEY] = metrics
    app[OBSERVER_KEY] = observer
    app[READINESS_WARNINGS_KEY] = observer.warnings
    app.router.add_get(METRICS_PATH, get_metrics)
    app.cleanup_ctx.append(_observer_ctx)
