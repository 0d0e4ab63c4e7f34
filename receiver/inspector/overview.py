"""The overview: counts, deliveries per minute, queue lag, last delivery, the self-check, the
workers' problems and the alert-side signals (see :data:`receiver.inspector.state.SIGNALS_KEY`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from core.errors import StoreUnavailableError
from core.selfcheck.run import last_report, run_selfcheck
from core.store.inspect import InspectsEvents
from core.times import format_time
from receiver.admin import read
from receiver.broker import BrokerErrors
from receiver.checks_extra import worker_problems
from receiver.inspector.guard import see_other
from receiver.inspector.present import duration_text, minute_chart, seconds_since
from receiver.inspector.render import render
from receiver.inspector.state import SIGNALS_KEY, STATE_KEY, Signals
from receiver.keys import SETTINGS_KEY, STORE_KEY

log = logging.getLogger(__name__)


async def _problems(app: web.Application) -> dict[str, str] | None:
    try:
        return await asyncio.to_thread(worker_problems, app)
    except BrokerErrors:
        return None  # the broker is unreachable: unknown


async def _signals(app: web.Application) -> Signals | None:
    provider = app.get(SIGNALS_KEY)
    if provider is None:
        return None
    try:
        return await provider(app)
    except Exception:
        log.exception("the inspector's signals provider failed")
        return None


async def overview_page(request: web.Request) -> web.Response:
    app = request.app
    store: InspectsEvents = app[STORE_KEY]  # type: ignore[assignment]
    now = datetime.now(UTC)
    counts = await read(request, app[STORE_KEY].counts)
    per_minute = await read(
        request, store.received_per_minute, since=format_time(now - timedelta(minutes=60))
    )
    oldest = await read(request, store.oldest_unfinished)
    last = await read(request, store.last_received)
    try:
        selfcheck = await read(request, last_report, app[STORE_KEY])
    except (StoreUnavailableError, ValueError):
        selfcheck = None
    problems, signals = await asyncio.gather(_problems(app), _signals(app))
    context: dict[str, Any] = {
        "counts": counts,
        "total": sum(counts.values()),
        "chart": minute_chart(per_minute, now=now),
        "lag": duration_text(seconds_since(oldest, now=now)) if oldest else None,
        "oldest": oldest,
        "last": last,
        "last_ago": duration_text(seconds_since(last, now=now)) if last else None,
        "selfcheck": selfcheck,
        "selfcheck_running": app[STATE_KEY].selfcheck_running,
        "problems": problems,
        "signals": signals,
    }
    return render(request, "overview.html", context)


async def _run_selfcheck(app: web.Application) -> None:
    try:
        report = await run_selfcheck(app[SETTINGS_KEY], store=app[STORE_KEY])
        log.info("self-check from the inspector: %s", report.verdict())
    except Exception:
        log.exception("the self-check started from the inspector could not run")


async def run_selfcheck_now(request: web.Request) -> web.Response:
    """``POST /admin/selfcheck/run``: start one (unless one is running) and show the overview."""
    state = request.app[STATE_KEY]
    if not state.selfcheck_running:
        state.selfcheck_task = asyncio.create_task(_run_selfcheck(request.app), name="selfcheck")
    return see_other("/admin/")
