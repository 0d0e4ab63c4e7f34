"""Readiness checks beyond store and broker: the last self-check and the workers' problems.

Neither takes the receiver out of rotation by itself (a bad API key needs a person, not a
restart); both make ``/readyz`` say plainly what is wrong.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from core.queue import WORKER_PROBLEMS_KEY
from core.selfcheck.run import selfcheck_readiness
from receiver.broker import BrokerErrors
from receiver.keys import BROKER_KEY, READ_EXECUTOR_KEY, STORE_KEY
from receiver.readiness import CheckResult


async def selfcheck_check(app: web.Application) -> CheckResult:
    loop = asyncio.get_running_loop()
    ok, detail = await loop.run_in_executor(
        app[READ_EXECUTOR_KEY], selfcheck_readiness, app[STORE_KEY]
    )
    return CheckResult(ok, detail)


def worker_problems(app: web.Application) -> dict[str, str]:
    """Problem → message, from the workers' Redis hash (blocking: run it in a thread)."""
    client = getattr(app[BROKER_KEY], "client", None)
    if client is None:
        return {}
    raw = client.hgetall(WORKER_PROBLEMS_KEY)
    problems = {}
    for name, record in raw.items():
        try:
            message = str(json.loads(record)["message"])
        except (ValueError, KeyError, TypeError):
            message = "unreadable problem record"
        problems[name.decode() if isinstance(name, bytes) else str(name)] = message
    return problems


async def workers_check(app: web.Application) -> CheckResult:
    """Configuration problems the workers reported (e.g. a missing READ scope)."""
    try:
        problems = await asyncio.to_thread(worker_problems, app)
    except BrokerErrors:
        return CheckResult(True, "unknown: the broker is unreachable")
    if not problems:
        return CheckResult(True, "no problems reported")
    return CheckResult(True, "; ".join(sorted(problems.values())))
