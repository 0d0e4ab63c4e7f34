"""``GET /healthz`` (the process is alive) and ``GET /readyz`` (it can do its job).

Readiness is a small registry of named checks, each an async function of the app returning a
:class:`CheckResult`. Adding one is one line in ``create_app``::

    app[READINESS_CHECKS_KEY] = {**DEFAULT_CHECKS, "selfcheck": selfcheck_check, ...}

Each check runs with a timeout; blocking work inside a check runs on a thread.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Any

from aiohttp import web

from core.errors import StoreUnavailableError
from receiver.broker import BrokerErrors, ping
from receiver.keys import (
    BROKER_KEY,
    READ_EXECUTOR_KEY,
    READINESS_CHECKS_KEY,
    READINESS_WARNINGS_KEY,
    STORE_KEY,
    WRITE_EXECUTOR_KEY,
)
from receiver.readiness import CheckResult, ReadinessCheck

log = logging.getLogger(__name__)

DEFAULT_CHECK_TIMEOUT_S = 2.0


async def store_check(app: web.Application) -> CheckResult:
    """The store can commit a write now (on the store-writer thread, like every write)."""
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(app[WRITE_EXECUTOR_KEY], app[STORE_KEY].check_writable)
    except StoreUnavailableError as exc:
        return CheckResult(False, exc.message)
    return CheckResult(True, "writable")


async def broker_check(app: web.Application) -> CheckResult:
    try:
        detail = await asyncio.to_thread(ping, app[BROKER_KEY])
    except BrokerErrors as exc:
        return CheckResult(False, f"unreachable: {type(exc).__name__}")
    return CheckResult(True, detail)


DEFAULT_CHECKS: dict[str, ReadinessCheck] = {"store": store_check, "broker": broker_check}


async def _run_check(
    app: web.Application, check: ReadinessCheck, *, timeout_s: float
) -> CheckResult:
    try:
        return await asyncio.wait_for(check(app), timeout_s)
    except TimeoutError:
        return CheckResult(False, f"no answer within {timeout_s:g} s")
    except Exception as exc:
        log.exception("readiness check failed unexpectedly")
        return CheckResult(False, f"check failed: {type(exc).__name__}")


async def _counts(app: web.Application) -> dict[str, int] | None:
    try:
        loop = asyncio.get_running_loop()
        counts = loop.run_in_executor(app[READ_EXECUTOR_KEY], app[STORE_KEY].counts)
        return await asyncio.wait_for(counts, DEFAULT_CHECK_TIMEOUT_S)
    except (StoreUnavailableError, TimeoutError):
        return None


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"alive": True})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    checks = app[READINESS_CHECKS_KEY]
    results = await asyncio.gather(
        *(_run_check(app, c, timeout_s=DEFAULT_CHECK_TIMEOUT_S) for c in checks.values())
    )
    ready = all(r.ok for r in results)
    body: dict[str, Any] = {
        "ready": ready,
        "checks": {name: asdict(r) for name, r in zip(checks, results, strict=True)},
        "counts": await _counts(app),
        # alerts that hold (receiver.observability.alerts): worth a look, not a reason to
        # take the process out of rotation
        "warnings": app[READINESS_WARNINGS_KEY]() if READINESS_WARNINGS_KEY in app else [],
    }
    return web.json_response(body, status=200 if ready else 503)
