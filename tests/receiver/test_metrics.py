"""``GET /metrics`` after real deliveries and refusals, on a real receiver (real HTTP, Redis,
SQLite), and who may read it."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from core.signing import WebhookSecret, sign_headers
from core.store.sqlite.store import SQLiteEventStore
from receiver.observability.families import RESULTS
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET
from tests.fixtures.receiver import (
    WEBHOOK_PATH,
    MakeReceiver,
    ReceiverClient,
    envelope,
    eventually,
    post_delivery,
    signed,
)

ADMIN_TOKEN = "admin-token-456"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: ReceiverClient, **headers: str) -> tuple[str, Samples]:
    async with client.get("/metrics", headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await resp.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return text, samples


async def scrape_until(
    client: ReceiverClient, condition: Callable[[Samples], bool], *, timeout_s: float = 10.0
) -> tuple[str, Samples]:
    """Scrape until ``condition`` holds (the store's gauges are cached for a tick)."""
    deadline = time.monotonic() + timeout_s
    while True:
        text, samples = await scrape(client)
        try:
            if condition(samples):
                return text, samples
        except KeyError:
            pass
        assert time.monotonic() < deadline, "the metrics never showed the condition"
        await asyncio.sleep(0.05)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def post_raw(client: ReceiverClient, body: bytes, headers: dict[str, str]) -> int:
    async with client.post(WEBHOOK_PATH, data=io.BytesIO(body), headers=headers) as resp:
        return resp.status


@pytest.fixture
def receiver_with(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings], receiver_redis_url: str
) -> Callable[..., Any]:
    async def build(*, create_app_kwargs: dict[str, Any] | None = None, **overrides: Any) -> Any:
        settings = make_settings(redis_url=receiver_redis_url, **overrides)
        return await make_receiver(settings=settings, **(create_app_kwargs or {}))

    return build


async def test_metrics_count_deliveries_by_result_secret_skew_and_commit(
    receiver_with: Callable[..., Any], store: SQLiteEventStore
) -> None:
    client = await receiver_with(
        billoget_webhook_secret=f"{TEST_SECRET} {OTHER_SECRET}", alert_check_interval_s=0.1
    )
    now = int(time.time())
    assert (await post_delivery(client, "dlv_m_1", timestamp=now - 3))[0] == 200
    assert (await post_delivery(client, "dlv_m_1", timestamp=now - 3))[0] == 200  # duplicate
    assert (await post_delivery(client, "dlv_m_2", secret=OTHER_SECRET))[0] == 200
    body, headers = signed("dlv_bad_sig")
    assert await post_raw(client, body + b" ", headers) == 401
    assert (await post_delivery(client, "dlv_old", timestamp=now - 3600))[0] == 401
    assert (await post_delivery(client, "dlv_future", timestamp=now + 3600))[0] == 401
    assert await post_raw(client, body, {}) == 401
    not_json = b"not json"
    assert await post_raw(client, not_json, sign_headers(TEST_SECRET, "dlv_nj", not_json)) == 400
    other_id = envelope("dlv_other")
    assert await post_raw(client, other_id, sign_headers(TEST_SECRET, "dlv_x", other_id)) == 400
    big = b"x" * (2 * 1024 * 1024)
    assert await post_raw(client, big, sign_headers(TEST_SECRET, "dlv_big", big)) == 413

    text, samples = await scrape_until(
        client,
        lambda s: (
            value(s, "billoget_hooks_events", status="received")
            + value(s, "billoget_hooks_events", status="queued")
            == 2
        ),
    )
    expected = {
        "stored": 2,
        "duplicate": 1,
        "invalid_signature": 1,
        "timestamp_too_old": 1,
        "timestamp_in_future": 1,
        "missing_headers": 1,
        "malformed_body": 1,
        "id_mismatch": 1,
        "payload_too_large": 1,
    }
    for result in RESULTS:  # every reason is exported, counted or 0
        got = value(samples, "billoget_hooks_deliveries_total", result=result)
        assert got == expected.get(result, 0), result
    first = WebhookSecret.parse(TEST_SECRET).fingerprint()
    second = WebhookSecret.parse(OTHER_SECRET).fingerprint()
    # verified: 2 stored + the duplicate + the two bodies refused after verification
    assert value(samples, "billoget_hooks_signature_matches_total", secret=first) == 4
    assert value(samples, "billoget_hooks_signature_matches_total", secret=second) == 1
    assert f'billoget_hooks_signature_matches_total{{secret="{first}"}} 4.0' in text
    assert TEST_SECRET.removeprefix("whsec_") not in text
    assert OTHER_SECRET.removeprefix("whsec_") not in text
    assert value(samples, "billoget_hooks_clock_skew_seconds_count") == 5
    # the two deliveries signed 3 s ago are above 2 s and at most 5 s
    assert value(samples, "billoget_hooks_clock_skew_seconds_bucket", le="2.0") <= 3
    assert value(samples, "billoget_hooks_clock_skew_seconds_bucket", le="5.0") == 5
    assert value(samples, "billoget_hooks_commit_batch_size_count") >= 2
    assert value(samples, "billoget_hooks_commit_batch_size_sum") == 3  # three deliveries
    assert value(samples, "billoget_hooks_commit_duration_seconds_count") >= 2
    assert value(samples, "billoget_hooks_last_delivery_timestamp_seconds") >= now - 1
    assert value(samples, "billoget_hooks_oldest_unprocessed_age_seconds") >= 0
    assert value(samples, "billoget_hooks_alert_active", alert="dead_letters") == 0


async def test_the_store_gauges_follow_the_store_within_a_few_seconds(
    receiver_with: Callable[..., Any], store: SQLiteEventStore
) -> None:
    client = await receiver_with(alert_check_interval_s=0.1)
    assert (await post_delivery(client, "dlv_g_1"))[0] == 200
    store.start_attempt("dlv_g_1")
    store.mark_dead("dlv_g_1", reason="handler refused the event")

    _, samples = await scrape_until(
        client, lambda s: value(s, "billoget_hooks_events", status="dead") == 1
    )
    assert value(samples, "billoget_hooks_oldest_unprocessed_age_seconds") == 0


async def test_refusals_for_the_sender_allowlist_and_an_overloaded_store_are_counted(
    receiver_with: Callable[..., Any],
) -> None:
    client = await receiver_with(allowed_sender_ips="203.0.113.0/24")
    assert (await post_delivery(client, "dlv_ip"))[0] == 403
    _, samples = await scrape(client)
    assert value(samples, "billoget_hooks_deliveries_total", result="ip_not_allowed") == 1

    busy = await receiver_with(create_app_kwargs={"max_pending": 0})
    assert (await post_delivery(busy, "dlv_busy"))[0] == 503
    _, samples = await scrape(busy)
    assert value(samples, "billoget_hooks_deliveries_total", result="overloaded") == 1
    assert value(samples, "billoget_hooks_deliveries_total", result="stored") == 0


async def test_counters_are_kept_per_minute_in_the_store_for_diagnose(
    receiver_with: Callable[..., Any], store: SQLiteEventStore
) -> None:
    client = await receiver_with(alert_check_interval_s=0.1)
    assert (await post_delivery(client, "dlv_s_1"))[0] == 200
    body, headers = signed("dlv_s_bad")
    assert await post_raw(client, body + b"!", headers) == 401
    fingerprint = WebhookSecret.parse(TEST_SECRET).fingerprint()

    def recorded() -> dict[tuple[str, str], float]:
        return store.delivery_stats("2000-01-01T00:00")

    await eventually(
        lambda: recorded().get(("result", "invalid_signature")) == 1, what="the stats row"
    )
    stats = recorded()
    assert stats[("result", "stored")] == 1
    assert stats[("secret", fingerprint)] == 1
    assert stats[("skew", "+Inf")] == 1
    assert ("result", "duplicate") not in stats  # nothing grew: nothing written


@pytest.mark.parametrize(
    ("overrides", "headers", "forwarded", "status"),
    [
        ({}, {}, None, 200),
        ({"trusted_proxies": "127.0.0.1"}, {}, "203.0.113.9", 403),
        ({"metrics_token": "scrape-token-123"}, {}, None, 401),
        ({"metrics_token": "scrape-token-123"}, {"Authorization": "Bearer nope"}, None, 401),
        (
            {"metrics_token": "scrape-token-123", "trusted_proxies": "127.0.0.1"},
            {"Authorization": "Bearer scrape-token-123"},
            "203.0.113.9",
            200,
        ),
        ({"admin_token": ADMIN_TOKEN}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}, None, 200),
        ({"admin_token": ADMIN_TOKEN}, {}, None, 401),
    ],
    ids=[
        "loopback-without-tokens",
        "remote-without-tokens",
        "token-set-none-given",
        "wrong-token",
        "metrics-token-from-remote",
        "admin-token-works",
        "admin-token-set-none-given",
    ],
)
async def test_metrics_answer_loopback_or_a_token(
    receiver_with: Callable[..., Any],
    overrides: dict[str, str],
    headers: dict[str, str],
    forwarded: str | None,
    status: int,
) -> None:
    client = await receiver_with(**overrides)
    sent = dict(headers)
    if forwarded:
        sent["X-Forwarded-For"] = forwarded
    async with client.get("/metrics", headers=sent) as resp:
        assert resp.status == status
        if status != 200:
            assert "billoget_hooks" not in await resp.text()
