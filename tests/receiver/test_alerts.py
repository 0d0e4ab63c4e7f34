"""Alerts that come to the operator: silence, dead letters, a spike of signature failures.
On a real receiver app (real HTTP, Redis, SQLite): ``/readyz`` warns (still 200), the metric
shows it, and one WARNING line is logged per onset."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest

from core.settings import Settings
from core.store.sqlite.store import SQLiteEventStore
from receiver.observability.observer import OBSERVER_KEY
from tests.fixtures.receiver import (
    WEBHOOK_PATH,
    MakeReceiver,
    ReceiverClient,
    eventually,
    post_delivery,
    record_selfcheck,
    signed,
)

FAST = {"alert_check_interval_s": 0.05}


async def _has(names: Awaitable[set[str]], name: str) -> bool:
    return name in await names


async def _lacks(names: Awaitable[set[str]], name: str) -> bool:
    return name not in await names


async def _starts_with(text: Callable[[], Awaitable[str]], prefix: str) -> bool:
    return (await text()).startswith(prefix)


@pytest.fixture
def receiver_with(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings], receiver_redis_url: str
) -> Callable[..., Any]:
    async def build(**overrides: Any) -> ReceiverClient:
        settings = make_settings(redis_url=receiver_redis_url, **{**FAST, **overrides})
        return await make_receiver(settings=settings)

    return build


async def readyz(client: ReceiverClient) -> dict[str, Any]:
    async with client.get("/readyz") as resp:
        assert resp.status == 200  # a warning never takes the process out of rotation
        body: dict[str, Any] = await resp.json()
        return body


async def warned(client: ReceiverClient) -> set[str]:
    return {w["alert"] for w in (await readyz(client))["warnings"]}


async def alert_metric(client: ReceiverClient, alert: str) -> str:
    async with client.get("/metrics") as resp:
        text = await resp.text()
    return next(
        line.rsplit(" ", 1)[1]
        for line in text.splitlines()
        if line.startswith(f'billoget_hooks_alert_active{{alert="{alert}"}}')
    )


async def more_ticks(client: ReceiverClient, count: int = 5) -> None:
    observer = client.app[OBSERVER_KEY]
    target = observer.ticks + count
    await eventually(lambda: observer.ticks >= target, what=f"{count} more observer ticks")


async def until(
    client: ReceiverClient, check: Callable[[], Awaitable[bool]], *, timeout_s: float = 10.0
) -> None:
    """Tick by tick until ``check()`` holds (bounded)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:g} s"
        await more_ticks(client, 1)


def alert_lines(caplog: pytest.LogCaptureFixture, alert: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "receiver.observability.alerts"
        and r.levelno == logging.WARNING
        and r.getMessage().startswith(f"alert {alert}:")
    ]


async def test_silence_warns_on_readyz_and_in_the_metric_and_logs_once(
    receiver_with: Callable[..., Any],
    store: SQLiteEventStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    record_selfcheck(store, ok=True)
    client = await receiver_with(silence_alert_after_s=0.3)
    assert await warned(client) == set()
    assert (await post_delivery(client, "dlv_quiet_1"))[0] == 200

    async def silent() -> bool:
        return "silence" in await warned(client)

    await until(client, silent)
    [warning] = [w for w in (await readyz(client))["warnings"] if w["alert"] == "silence"]
    assert "no verified delivery for" in warning["message"]
    assert "SILENCE_ALERT_AFTER_S=0.3" in warning["message"]
    assert await alert_metric(client, "silence") == "1.0"
    await more_ticks(client, 5)  # still silent: no second line
    assert len(alert_lines(caplog, "silence")) == 1

    assert (await post_delivery(client, "dlv_quiet_2"))[0] == 200
    await more_ticks(client, 2)
    assert "silence" not in await warned(client)
    assert await alert_metric(client, "silence") == "0.0"
    assert any("alert silence resolved" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("selfcheck", [None, False], ids=["no-selfcheck-yet", "selfcheck-failed"])
async def test_silence_is_not_claimed_unless_the_last_selfcheck_passed(
    receiver_with: Callable[..., Any], store: SQLiteEventStore, selfcheck: bool | None
) -> None:
    if selfcheck is not None:
        record_selfcheck(store, ok=selfcheck)
    client = await receiver_with(silence_alert_after_s=0.1)
    await more_ticks(client, 8)
    assert "silence" not in await warned(client)


async def test_silence_alert_is_off_by_default(
    receiver_with: Callable[..., Any], store: SQLiteEventStore
) -> None:
    record_selfcheck(store, ok=True)
    client = await receiver_with()
    await more_ticks(client, 5)
    assert await warned(client) == set()


async def test_dead_letters_warn_once_until_replayed(
    receiver_with: Callable[..., Any],
    store: SQLiteEventStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await receiver_with()

    async def dead_message() -> str:
        found = [w for w in (await readyz(client))["warnings"] if w["alert"] == "dead_letters"]
        return str(found[0]["message"]) if found else ""

    for n in (1, 2):
        assert (await post_delivery(client, f"dlv_dead_{n}"))[0] == 200
        store.start_attempt(f"dlv_dead_{n}")
        store.mark_dead(f"dlv_dead_{n}", reason="handler refused the event")
        await until(client, partial(_starts_with, dead_message, f"{n} event(s) are dead"))
    assert len(alert_lines(caplog, "dead_letters")) == 1  # one onset, however many follow
    assert await alert_metric(client, "dead_letters") == "1.0"

    store.requeue(["dlv_dead_1", "dlv_dead_2"])
    await until(client, lambda: _lacks(warned(client), "dead_letters"))
    assert await alert_metric(client, "dead_letters") == "0.0"


async def test_a_spike_of_signature_failures_warns_once(
    receiver_with: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    client = await receiver_with(signature_alert_count=3, signature_alert_window_s=60)
    for n in range(3):  # three is not more than three
        body, headers = signed(f"dlv_forged_{n}")
        async with client.post(WEBHOOK_PATH, data=body + b"x", headers=headers) as resp:
            assert resp.status == 401
    await more_ticks(client, 3)
    assert "signature_failures" not in await warned(client)
    for n in range(3, 6):
        body, headers = signed(f"dlv_forged_{n}")
        async with client.post(WEBHOOK_PATH, data=body + b"x", headers=headers) as resp:
            assert resp.status == 401
    await until(client, lambda: _has(warned(client), "signature_failures"))
    await more_ticks(client, 5)
    [warning] = [
        w for w in (await readyz(client))["warnings"] if w["alert"] == "signature_failures"
    ]
    assert warning["message"].startswith("6 deliveries failed signature verification")
    assert len(alert_lines(caplog, "signature_failures")) == 1
    assert await alert_metric(client, "signature_failures") == "1.0"


async def test_signature_failures_older_than_the_window_do_not_count(
    receiver_with: Callable[..., Any],
) -> None:
    client = await receiver_with(signature_alert_count=1, signature_alert_window_s=0.3)
    for n in range(2):
        body, headers = signed(f"dlv_old_forged_{n}")
        async with client.post(WEBHOOK_PATH, data=body + b"x", headers=headers) as resp:
            assert resp.status == 401
    await until(client, lambda: _has(warned(client), "signature_failures"))
    await until(client, lambda: _lacks(warned(client), "signature_failures"))  # window moved
