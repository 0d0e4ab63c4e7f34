"""The self-check: is this installation able to receive Billoget webhooks, end to end?

1. configuration (no network): :mod:`core.selfcheck.config`;
2. the key and its WEBHOOKS scope: one ``POST /api/public/webhooks/test`` carrying a nonce;
3. the round trip: that delivery reaches the receiver, verified, and lands in the store (so it
   works when the receiver runs in another process); the latency is reported;
4. which READ scopes the mirror handlers lack: :mod:`core.selfcheck.api_checks`.

The test endpoint allows 10 calls a minute: the time of the last call is kept in the store and
the self-check refuses to call again within :data:`TEST_ENDPOINT_MIN_INTERVAL_S`, saying when
to retry. It never loops on the endpoint. The report is saved in the store for ``/readyz``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from typing import Any

import aiohttp

from core.billoget.client import BillogetClient
from core.errors import StoreUnavailableError
from core.samples import SELFCHECK_EVENT, selfcheck_data
from core.selfcheck.api_checks import KEY_UNUSABLE, check_read_scopes, check_webhooks_scope
from core.selfcheck.config import CheckedConfig, check_configuration
from core.selfcheck.report import (
    READ_SCOPES,
    ROUND_TRIP,
    WEBHOOKS_SCOPE,
    CheckResult,
    SelfCheckReport,
    failed,
    passed,
    skipped,
)
from core.settings import Settings
from core.store import EventStore
from core.times import epoch, utcnow

log = logging.getLogger(__name__)

DEFAULT_WAIT_S = 30.0
DEFAULT_POLL_INTERVAL_S = 0.2
TEST_ENDPOINT_MIN_INTERVAL_S = 6.0  # Billoget allows 10 test webhooks a minute
RECEIVER_PROBE_TIMEOUT_S = 1.0


def new_nonce() -> str:
    return "sc_" + secrets.token_urlsafe(18)


def selfcheck_event_data(nonce: str) -> dict[str, Any]:
    """The test event's data: the nonce the receiver looks for, and nothing that reads as a
    business change (see :func:`core.samples.selfcheck_data`)."""
    return selfcheck_data(nonce)


async def wait_for_round_trip(
    store: EventStore,
    nonce: str,
    *,
    sent_at: float,
    wait_s: float,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
) -> float | None:
    """Milliseconds from the request to the receiver's commit; None if nothing came in time."""
    deadline = time.monotonic() + wait_s
    while True:
        found = await asyncio.to_thread(store.find_selfcheck, nonce)
        if found is not None:
            return max(0.0, (epoch(found.received_at) - sent_at) * 1000)
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(min(poll_interval_s, max(0.0, deadline - time.monotonic())))


async def _receiver_answers(settings: Settings, session: aiohttp.ClientSession) -> bool | None:
    """Does something answer HTTP on the receiver's port here? None when the port is unknown."""
    if not settings.port:
        return None
    url = f"http://127.0.0.1:{settings.port}/healthz"
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=RECEIVER_PROBE_TIMEOUT_S)):
            return True
    except (aiohttp.ClientError, TimeoutError):
        return False


async def _round_trip_failure(
    settings: Settings,
    config: CheckedConfig,
    session: aiohttp.ClientSession,
    *,
    wait_s: float,
    test_message: str,
) -> CheckResult:
    where = config.webhook_url
    if "no webhook url" in test_message.lower():
        cause = f"Billoget has no webhook URL for this key: register {where} as its webhook URL"
    else:
        cause = (
            f"the test endpoint answered but no delivery reached the receiver within "
            f"{wait_s:g} s: register {where} as the webhook URL in Billoget and check "
            "BILLOGET_WEBHOOK_SECRET matches (a wrong secret or signature scheme shows up as 401s "
            "in the receiver log: `billoget-hooks diagnose --signatures` names the fix)"
        )
    if await _receiver_answers(settings, session) is False:
        cause += (
            f"; nothing answers on port {settings.port} here: is `billoget-hooks serve` running "
            "with the same DATABASE_URL?"
        )
    return failed(ROUND_TRIP, cause, webhook_url=where, waited_s=wait_s)


async def _claim_slot(store: EventStore, *, min_interval_s: float) -> float:
    return await asyncio.to_thread(
        lambda: store.claim_selfcheck_slot(min_interval_s=min_interval_s, now=time.time())
    )


async def _network_checks(
    settings: Settings,
    config: CheckedConfig,
    *,
    store: EventStore,
    session: aiohttp.ClientSession,
    wait_s: float,
    poll_interval_s: float,
    allow_missing_read_scopes: bool,
    min_interval_s: float,
) -> tuple[list[CheckResult], float | None]:
    client = BillogetClient(
        base_url=config.api_url,
        api_key=config.key,
        session=session,
        timeout_s=settings.billoget_api_timeout_s,
    )
    wait_left = await _claim_slot(store, min_interval_s=min_interval_s)
    error, nonce, sent_at = None, new_nonce(), time.time()
    if wait_left > 0:
        scope_check = failed(
            WEBHOOKS_SCOPE,
            f"a self-check called Billoget's test endpoint less than {min_interval_s:g} s ago "
            f"(it allows 10 calls a minute): retry in {math.ceil(wait_left)} s",
            retry_after_s=round(wait_left, 1),
            throttled=True,
        )
    else:
        sent_at = time.time()
        scope_check, error = await check_webhooks_scope(
            client, event=SELFCHECK_EVENT, data=selfcheck_event_data(nonce), api_url=config.api_url
        )
    if isinstance(error, KEY_UNUSABLE):
        read_check = skipped(READ_SCOPES, "skipped: the key itself was refused (see above)")
    else:
        read_check = await check_read_scopes(
            client, api_url=config.api_url, allow_missing=allow_missing_read_scopes
        )
    latency_ms = None
    if not scope_check.ok:
        trip = skipped(ROUND_TRIP, "skipped: Billoget did not accept the test webhook request")
    else:
        latency_ms = await wait_for_round_trip(
            store, nonce, sent_at=sent_at, wait_s=wait_s, poll_interval_s=poll_interval_s
        )
        if latency_ms is None:
            message = str(scope_check.detail.get("message", ""))
            trip = await _round_trip_failure(
                settings, config, session, wait_s=wait_s, test_message=message
            )
        else:
            trip = passed(
                ROUND_TRIP,
                f"the test delivery reached the receiver, verified and stored, in "
                f"{latency_ms:.0f} ms",
                latency_ms=round(latency_ms, 1),
                nonce=nonce,
            )
    return [scope_check, trip, read_check], latency_ms


async def run_selfcheck(
    settings: Settings,
    *,
    store: EventStore,
    session: aiohttp.ClientSession | None = None,
    wait_s: float = DEFAULT_WAIT_S,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    allow_missing_read_scopes: bool = False,
    min_interval_s: float = TEST_ENDPOINT_MIN_INTERVAL_S,
    save: bool = True,
) -> SelfCheckReport:
    """Run every check; save the report in ``store`` (unless ``save`` is false) and return it."""
    started_at = utcnow()
    config_check, config = check_configuration(settings)
    checks = [config_check]
    latency_ms = None
    if config is None:
        checks += [
            skipped(name, "skipped: fix the configuration first")
            for name in (WEBHOOKS_SCOPE, ROUND_TRIP, READ_SCOPES)
        ]
    else:
        own = session is None
        session = session or aiohttp.ClientSession()
        try:
            more, latency_ms = await _network_checks(
                settings,
                config,
                store=store,
                session=session,
                wait_s=wait_s,
                poll_interval_s=poll_interval_s,
                allow_missing_read_scopes=allow_missing_read_scopes,
                min_interval_s=min_interval_s,
            )
            checks += more
        finally:
            if own:
                await session.close()
    report = SelfCheckReport.build(
        checks, started_at=started_at, finished_at=utcnow(), latency_ms=latency_ms
    )
    if save:
        await asyncio.to_thread(store.save_selfcheck, report.to_json(), report.ok)
    return report


async def selfcheck_in_background(
    settings: Settings,
    store: EventStore,
    *,
    delay_s: float = 1.0,
    wait_s: float = DEFAULT_WAIT_S,
) -> SelfCheckReport | None:
    """For ``serve``: run once the server listens, log each line, never raise (but cancel)."""
    try:
        await asyncio.sleep(delay_s)
        report = await run_selfcheck(settings, store=store, wait_s=wait_s, save=False)
        throttled = throttled_wait_s(report)
        if throttled is None:
            await asyncio.to_thread(store.save_selfcheck, report.to_json(), report.ok)
        else:  # another self-check just ran: take the next slot, once
            await asyncio.sleep(throttled)
            report = await run_selfcheck(settings, store=store, wait_s=wait_s)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("the start-up self-check could not run")
        return None
    for check in report.checks:
        level = logging.WARNING if check.status == "fail" else logging.INFO
        log.log(level, "self-check %s", check.line())
    log.log(logging.INFO if report.ok else logging.WARNING, "%s", report.verdict())
    return report


def throttled_wait_s(report: SelfCheckReport) -> float | None:
    """How long to wait when the report only failed because another self-check just ran."""
    for check in report.checks:
        if check.detail.get("throttled"):
            return float(check.detail.get("retry_after_s", TEST_ENDPOINT_MIN_INTERVAL_S)) + 0.5
    return None


def last_report(store: EventStore) -> tuple[str, SelfCheckReport] | None:
    """The latest saved report and when it was saved (blocking)."""
    found = store.last_selfcheck()
    if found is None:
        return None
    at, _ok, text = found
    return at, SelfCheckReport.model_validate_json(text)


def selfcheck_readiness(store: EventStore, *, required: bool = False) -> tuple[bool, str]:
    """For ``/readyz`` (blocking: run it in a thread). Shows the last self-check; only fails
    readiness when ``required`` (a failed self-check usually needs a person, not a restart)."""
    try:
        found = last_report(store)
    except StoreUnavailableError as exc:
        return False, f"cannot read the last self-check: {exc.message}"
    if found is None:
        return not required, "no self-check has run yet (run `billoget-hooks selfcheck`)"
    at, report = found
    if report.ok:
        latency = f", round trip {report.latency_ms:.0f} ms" if report.latency_ms else ""
        return True, f"passed at {at}{latency}"
    problem = report.first_problem()
    reason = problem.line() if problem else report.verdict()
    return not required, f"FAILED at {at}: {reason}"
