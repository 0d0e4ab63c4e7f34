"""The self-check against the real emulator and the real receiver on loopback ports."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from dramatiq.brokers.stub import StubBroker

from billoget_hooks.procs import free_port
from core.errors import StoreUnavailableError
from core.events import parse_envelope
from core.selfcheck.report import (
    CONFIGURATION,
    READ_SCOPES,
    ROUND_TRIP,
    WEBHOOKS_SCOPE,
    SelfCheckReport,
)
from core.selfcheck.run import run_selfcheck, selfcheck_in_background, selfcheck_readiness
from core.settings import Settings
from core.store import Status, StoredEvent
from core.store.sqlite.store import SQLiteEventStore
from emulator.keys import Scope
from tests.fixtures.emulator import (
    RunningEmulator,
    call_api,
    emulator,
    emulator_factory,
    http_session,
)
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET
from tests.fixtures.receiver import MakeReceiver

__all__ = ["emulator", "emulator_factory", "http_session"]

SHORT_WAIT_S = 1.5
ALL_SCOPES = [scope.value for scope in Scope]


@dataclass
class Stack:
    emulator: RunningEmulator
    receiver_url: str
    store: SQLiteEventStore
    make_settings: Callable[..., Settings]
    http: aiohttp.ClientSession

    async def key(self, **spec: Any) -> dict[str, Any]:
        """An emulator key delivering to the receiver with the receiver's secret."""
        values: dict[str, Any] = {"webhookUrl": self.receiver_url, "webhookSecret": TEST_SECRET}
        return await self.emulator.admin.create_key(**(values | spec))

    def settings(self, key: dict[str, Any], **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "billoget_api_url": self.emulator.api_url,
            "billoget_api_key": key["key"],
            "billoget_public_url": self.receiver_url,
        }
        return self.make_settings(**(values | overrides))

    async def run(self, key: dict[str, Any], **kwargs: Any) -> SelfCheckReport:
        settings = self.settings(key, **kwargs.pop("settings", {}))
        kwargs.setdefault("wait_s", 10.0)
        return await run_selfcheck(settings, store=self.store, session=self.http, **kwargs)


@pytest.fixture
async def stack(
    emulator: RunningEmulator,
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
    http_session: aiohttp.ClientSession,
) -> Stack:
    client = await make_receiver(store=store, broker=StubBroker())
    url = str(client.make_url("/webhooks/billoget"))
    return Stack(emulator, url, store, make_settings, http_session)


def summary(report: SelfCheckReport, name: str) -> str:
    check = report.check(name)
    assert check is not None
    return check.summary


def status(report: SelfCheckReport, name: str) -> str:
    check = report.check(name)
    assert check is not None
    return check.status


# -- passing ---------------------------------------------------------------------------------


async def test_selfcheck_passes_and_reports_the_round_trip_latency(stack: Stack) -> None:
    report = await stack.run(await stack.key())

    assert report.ok, report.lines()
    assert [c.status for c in report.checks] == ["pass"] * 4
    assert report.latency_ms is not None and 0 <= report.latency_ms < 10_000
    assert "ms" in summary(report, ROUND_TRIP)


async def _stored_round_trip(stack: Stack) -> StoredEvent:
    """Run the self-check; the test delivery it stored."""
    report = await stack.run(await stack.key())
    round_trip = report.check(ROUND_TRIP)
    assert round_trip is not None
    found = stack.store.find_selfcheck(round_trip.detail["nonce"])
    assert found is not None
    return found


async def test_selfcheck_delivery_is_stored_as_processed_and_not_handed_to_handlers(
    stack: Stack,
) -> None:
    found = await _stored_round_trip(stack)
    assert found.status is Status.PROCESSED
    assert found.attempts == 0


async def test_selfcheck_sends_a_connection_test_event_no_handler_can_take_for_a_change(
    stack: Stack,
) -> None:
    found = await _stored_round_trip(stack)
    assert found.event_type == "connection_test"  # what Billoget's SDK sends to the endpoint
    envelope = parse_envelope(found.body)
    assert not envelope.is_known and envelope.entity_id is None
    assert envelope.data["test"] is True and envelope.data["sentBy"] == "billoget-hooks selfcheck"
    assert found.outcome is not None and found.outcome.startswith("selfcheck")


async def test_selfcheck_report_is_saved_and_shown_by_the_readiness_check(stack: Stack) -> None:
    report = await stack.run(await stack.key())

    at, ok, text = stack.store.last_selfcheck() or ("", False, "")
    assert ok is True
    assert SelfCheckReport.model_validate_json(text) == report
    ready, detail = selfcheck_readiness(stack.store)
    assert ready is True
    assert detail.startswith(f"passed at {at}")


async def test_selfcheck_json_report_has_an_ok_flag_per_check(stack: Stack) -> None:
    report = await stack.run(await stack.key())

    data = json.loads(report.to_json())
    assert data["ok"] is True
    assert [c["ok"] for c in data["checks"]] == [True] * 4
    assert {c["name"] for c in data["checks"]} == {
        CONFIGURATION,
        WEBHOOKS_SCOPE,
        ROUND_TRIP,
        READ_SCOPES,
    }


# -- the key and its scopes -------------------------------------------------------------------


async def test_selfcheck_diagnoses_an_unknown_key(stack: Stack) -> None:
    unknown = {"key": "bk_test_" + "Z" * 32}

    report = await stack.run(unknown)

    assert not report.ok
    line = summary(report, WEBHOOKS_SCOPE)
    assert "BILLOGET_API_KEY was rejected (invalid_api_key" in line
    assert "create a key" in line
    assert status(report, ROUND_TRIP) == "skip"
    assert status(report, READ_SCOPES) == "skip"
    assert "Z" * 32 not in report.to_json()


async def test_selfcheck_diagnoses_a_key_without_the_webhooks_scope(stack: Stack) -> None:
    key = await stack.key(scopes=[s for s in ALL_SCOPES if s != "WEBHOOKS"])

    report = await stack.run(key)

    assert not report.ok
    assert "lacks the WEBHOOKS scope" in summary(report, WEBHOOKS_SCOPE)
    assert "add it" in summary(report, WEBHOOKS_SCOPE)
    assert status(report, ROUND_TRIP) == "skip"
    assert status(report, READ_SCOPES) == "pass"


async def test_selfcheck_diagnoses_an_ip_not_on_the_allowlist(stack: Stack) -> None:
    key = await stack.key(allowedIps=["10.9.9.9"])

    report = await stack.run(key)

    assert not report.ok
    line = summary(report, WEBHOOKS_SCOPE)
    assert "IP is not on the key's allowed IPs" in line
    assert "clear the allowlist" in line


async def test_selfcheck_diagnoses_a_suspended_key(stack: Stack) -> None:
    key = await stack.key(status="SUSPENDED")

    report = await stack.run(key)

    assert not report.ok
    assert "suspended: reactivate it" in summary(report, WEBHOOKS_SCOPE)


async def test_selfcheck_reports_the_wait_when_billoget_rate_limits_the_test_endpoint(
    emulator_factory: Callable[..., Awaitable[RunningEmulator]],
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
    http_session: aiohttp.ClientSession,
) -> None:
    limited = await emulator_factory(test_endpoint_limit=1)
    client = await make_receiver(store=store, broker=StubBroker())
    stack = Stack(
        limited, str(client.make_url("/webhooks/billoget")), store, make_settings, http_session
    )
    key = await stack.key()
    first = await call_api(
        http_session,
        f"{limited.api_url}/api/public/webhooks/test",
        key["key"],
        "POST",
        json_body={"event": "customer.created", "data": {}},
    )
    assert first.status == 200

    report = await stack.run(key)

    assert not report.ok
    check = report.check(WEBHOOKS_SCOPE)
    assert check is not None
    assert check.detail["status"] == 429
    assert check.detail["retry_after_s"] > 0
    assert "retry the self-check in" in check.summary


async def test_selfcheck_refuses_to_call_the_test_endpoint_again_within_six_seconds(
    stack: Stack,
) -> None:
    key = await stack.key()
    await stack.run(key)

    again = await stack.run(key)

    line = summary(again, WEBHOOKS_SCOPE)
    assert "less than 6 s ago" in line
    assert "retry in" in line
    requests = await stack.emulator.admin.requests()
    calls = [r for r in requests if r["path"].endswith("/webhooks/test")]
    assert len(calls) == 1


async def test_selfcheck_reports_the_read_scopes_the_key_lacks(stack: Stack) -> None:
    key = await stack.key(scopes=["WEBHOOKS", "READ_BUDGETS"])

    report = await stack.run(key)

    assert not report.ok
    line = summary(report, READ_SCOPES)
    assert "lacks READ_CUSTOMERS, READ_PRODUCTS" in line
    assert "customers, products events are stored but not mirrored" in line
    assert status(report, ROUND_TRIP) == "pass"


async def test_selfcheck_can_accept_missing_read_scopes_as_a_warning(stack: Stack) -> None:
    key = await stack.key(scopes=["WEBHOOKS"])

    report = await stack.run(key, allow_missing_read_scopes=True)

    assert report.ok
    assert status(report, READ_SCOPES) == "warn"


# -- the round trip ---------------------------------------------------------------------------


async def test_selfcheck_names_the_url_to_register_when_nothing_is_delivered(
    stack: Stack,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/webhooks/billoget"
    key = await stack.key(webhookUrl=nowhere)

    report = await stack.run(key, wait_s=SHORT_WAIT_S)

    assert not report.ok
    line = summary(report, ROUND_TRIP)
    assert "the test endpoint answered but no delivery reached the receiver" in line
    assert f"register {stack.receiver_url} as the webhook URL" in line
    assert status(report, WEBHOOKS_SCOPE) == "pass"


async def test_selfcheck_says_when_billoget_has_no_webhook_url_for_the_key(stack: Stack) -> None:
    key = await stack.emulator.admin.create_key()  # no webhookUrl

    report = await stack.run(key, wait_s=SHORT_WAIT_S)

    assert f"no webhook URL for this key: register {stack.receiver_url}" in summary(
        report, ROUND_TRIP
    )


async def test_selfcheck_round_trip_fails_when_the_secret_does_not_match(stack: Stack) -> None:
    key = await stack.key(webhookSecret=OTHER_SECRET)

    report = await stack.run(key, wait_s=SHORT_WAIT_S)

    assert not report.ok
    assert "check BILLOGET_WEBHOOK_SECRET matches" in summary(report, ROUND_TRIP)


async def test_selfcheck_says_when_nothing_listens_on_the_receiver_port(stack: Stack) -> None:
    port = free_port()
    key = await stack.key(webhookUrl=f"http://127.0.0.1:{port}/webhooks/billoget")

    report = await stack.run(
        key, wait_s=SHORT_WAIT_S, settings={"port": port, "billoget_public_url": None}
    )

    line = summary(report, ROUND_TRIP)
    assert f"nothing answers on port {port} here" in line
    assert f":{port}/webhooks/billoget" in line


# -- configuration ----------------------------------------------------------------------------


async def test_selfcheck_without_an_api_key_fails_the_configuration_and_skips_the_rest(
    make_settings: Callable[..., Settings], store: SQLiteEventStore
) -> None:
    report = await run_selfcheck(make_settings(billoget_api_key=None), store=store)

    assert not report.ok
    assert "BILLOGET_API_KEY is not set" in summary(report, CONFIGURATION)
    assert [c.status for c in report.checks[1:]] == ["skip"] * 3
    assert store.last_selfcheck() is not None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"billoget_webhook_secret": None}, "BILLOGET_WEBHOOK_SECRET is not set"),
        ({"billoget_api_key": "sk_live_nope"}, "must start with 'bk_live_' or 'bk_test_'"),
        (
            {"billoget_api_url": "http://api.example.com/v1"},
            "plain http to a non-loopback host",
        ),
        ({"billoget_public_url": "ftp://example.com/x"}, "BILLOGET_PUBLIC_URL must be an http(s)"),
    ],
)
async def test_selfcheck_configuration_failures_name_the_setting(
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
    overrides: dict[str, Any],
    expected: str,
) -> None:
    values = {"billoget_api_key": "bk_test_" + "a" * 32} | overrides
    report = await run_selfcheck(make_settings(**values), store=store, save=False)

    assert not report.ok
    assert expected in summary(report, CONFIGURATION)
    assert "a" * 32 not in report.to_json()


async def test_selfcheck_warns_about_a_plain_http_public_url(
    make_settings: Callable[..., Settings], store: SQLiteEventStore
) -> None:
    settings = make_settings(
        billoget_api_key="bk_test_" + "a" * 32,
        billoget_api_url="http://127.0.0.1:1/v1",
        billoget_public_url="http://hooks.example.com/webhooks/billoget",
    )
    from core.selfcheck.config import check_configuration

    result, checked = check_configuration(settings)

    assert result.status == "warn"
    assert checked is not None
    assert "plain http" in result.summary


# -- serve and /readyz ------------------------------------------------------------------------


async def test_background_selfcheck_logs_each_line(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    settings = stack.settings(await stack.key())
    caplog.set_level(logging.INFO, logger="core.selfcheck.run")

    report = await selfcheck_in_background(settings, stack.store, delay_s=0)

    assert report is not None and report.ok
    assert "self-check passed" in caplog.text
    assert "round trip" in caplog.text


class BrokenStore(SQLiteEventStore):
    def claim_selfcheck_slot(self, *, min_interval_s: float, now: float) -> float:
        raise StoreUnavailableError("disk on fire")


async def test_background_selfcheck_never_raises(
    stack: Stack, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = stack.settings(await stack.key())
    broken = BrokenStore(tmp_path / "broken.db")
    broken.migrate()
    try:
        report = await selfcheck_in_background(settings, broken, delay_s=0)
    finally:
        broken.close()

    assert report is None
    assert "could not run" in caplog.text


def test_readiness_before_any_selfcheck_is_ready_unless_required(
    store: SQLiteEventStore,
) -> None:
    assert selfcheck_readiness(store) == (
        True,
        "no self-check has run yet (run `billoget-hooks selfcheck`)",
    )
    assert selfcheck_readiness(store, required=True)[0] is False


async def test_readiness_shows_the_failed_check_and_fails_only_when_required(
    make_settings: Callable[..., Settings], store: SQLiteEventStore
) -> None:
    await run_selfcheck(make_settings(billoget_api_key=None), store=store)

    ready, detail = selfcheck_readiness(store)
    assert ready is True
    assert "FAILED at" in detail
    assert "BILLOGET_API_KEY is not set" in detail
    assert selfcheck_readiness(store, required=True)[0] is False


# -- wired into the receiver the way `serve` does it ------------------------------------------


async def _receiver_as_serve_runs_it(
    emulator: RunningEmulator,
    aiohttp_client: Any,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
) -> Any:
    from receiver.app import create_app, selfcheck_at_start

    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/billoget"
    key = await emulator.admin.create_key(webhookUrl=url, webhookSecret=TEST_SECRET)
    settings = make_settings(
        billoget_api_url=emulator.api_url, billoget_api_key=key["key"], billoget_public_url=url
    )
    app = create_app(settings, store=store, broker=StubBroker())
    app.cleanup_ctx.append(selfcheck_at_start)  # exactly what `serve` adds
    return await aiohttp_client(app, server_kwargs={"port": port})


async def _readyz_selfcheck_once_passed(client: Any, *, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        async with client.get("/readyz") as resp:
            body: dict[str, Any] = await resp.json()
        detail = body["checks"]["selfcheck"]["detail"]
        if detail.startswith("passed") or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.1)


async def test_receiver_runs_the_selfcheck_at_start_and_shows_it_on_readyz(
    emulator: RunningEmulator,
    aiohttp_client: Any,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
) -> None:
    client = await _receiver_as_serve_runs_it(emulator, aiohttp_client, make_settings, store)

    body = await _readyz_selfcheck_once_passed(client, timeout_s=10)

    assert body["checks"]["selfcheck"]["detail"].startswith("passed at"), body
    assert body["ready"] is True


async def test_start_up_selfcheck_waits_for_the_slot_when_another_just_ran(
    emulator: RunningEmulator,
    aiohttp_client: Any,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
) -> None:
    assert store.claim_selfcheck_slot(min_interval_s=6, now=time.time()) == 0  # "another" ran
    client = await _receiver_as_serve_runs_it(emulator, aiohttp_client, make_settings, store)

    body = await _readyz_selfcheck_once_passed(client, timeout_s=15)

    assert body["checks"]["selfcheck"]["detail"].startswith("passed at"), body
    saved = [row["ok"] for row in store.db()["selfcheck_results"].rows]
    assert saved == [1]  # the throttled first try was not kept
