"""Rate windows: the hourly sliding window per key, the test endpoint's own window, bursts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from emulator.ratelimit import SlidingWindowLimiter
from tests.fixtures.emulator import RunningEmulator, call_api, without_meta

BUDGETS = "/api/public/budgets"
TEST_ENDPOINT = "/api/public/webhooks/test"
RATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Window",
)
Factory = Callable[..., Awaitable[RunningEmulator]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_refuses_over_the_limit_and_frees_as_hits_age() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(window_s=60, clock=clock)
    assert [limiter.hit(1, 2).allowed for _ in range(3)] == [True, True, False]
    clock.now += 30
    refused = limiter.hit(1, 2)
    assert (refused.allowed, refused.retry_after_s, refused.reset_at) == (False, 30, 1060)
    clock.now += 30.001
    assert limiter.hit(1, 2).allowed


def test_sliding_window_counts_each_key_separately() -> None:
    limiter = SlidingWindowLimiter(window_s=60, clock=FakeClock())
    assert limiter.hit(1, 1).allowed
    assert limiter.hit(2, 1).allowed
    assert not limiter.hit(1, 1).allowed


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [(BUDGETS, "GET", 200), ("/api/public/budgets/999", "GET", 404), ("/nope", "GET", 404)],
)
async def test_every_authenticated_response_carries_rate_headers(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    key: dict[str, Any],
    path: str,
    method: str,
    status: int,
) -> None:
    reply = await call_api(http_session, emulator.api_url + path, key["key"], method)
    assert reply.status == status
    assert reply.headers["X-RateLimit-Limit"] == "1000"
    assert reply.headers["X-RateLimit-Remaining"] == "999"
    assert reply.headers["X-RateLimit-Window"] == "3600"
    assert 0 < int(reply.headers["X-RateLimit-Reset"]) - time.time() <= 3601


async def test_insufficient_scope_answers_also_count_and_carry_headers(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession
) -> None:
    created = await emulator.admin.create_key(scopes=["READ_CUSTOMERS"])
    reply = await call_api(http_session, emulator.api_url + BUDGETS, created["key"])
    assert reply.status == 403
    assert reply.headers["X-RateLimit-Remaining"] == "999"


async def test_exceeding_the_hourly_limit_is_429_with_details_and_retry_after(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession
) -> None:
    created = await emulator.admin.create_key(rateLimitPerHour=3)
    url = emulator.api_url + BUDGETS
    replies = [await call_api(http_session, url, created["key"]) for _ in range(4)]
    assert [r.status for r in replies] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["2", "1", "0", "0"]
    refused = replies[-1]
    retry_after = int(refused.headers["Retry-After"])
    assert 3598 <= retry_after <= 3600
    assert without_meta(refused.body) == {
        "error": "rate_limit_exceeded",
        "message": f"Rate limit exceeded. Try again in {retry_after} seconds",
        "details": {"limit": 3, "window": 3600, "retryAfter": retry_after},
    }
    assert all(h in refused.headers for h in RATE_HEADERS)


async def test_hourly_window_slides_so_requests_pass_again(
    emulator_factory: Factory, http_session: aiohttp.ClientSession
) -> None:
    emulator = await emulator_factory(hour_window_s=0.3)
    created = await emulator.admin.create_key(rateLimitPerHour=1)
    url = emulator.api_url + BUDGETS
    assert (await call_api(http_session, url, created["key"])).status == 200
    refused = await call_api(http_session, url, created["key"])
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    await asyncio.sleep(0.35)
    assert (await call_api(http_session, url, created["key"])).status == 200


async def test_keys_have_separate_hourly_windows(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession
) -> None:
    first = await emulator.admin.create_key(rateLimitPerHour=1)
    second = await emulator.admin.create_key(rateLimitPerHour=1)
    url = emulator.api_url + BUDGETS
    assert (await call_api(http_session, url, first["key"])).status == 200
    assert (await call_api(http_session, url, first["key"])).status == 429
    assert (await call_api(http_session, url, second["key"])).status == 200


async def test_test_endpoint_has_its_own_ten_per_minute_window(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    url = emulator.api_url + TEST_ENDPOINT
    body = {"event": "budget.created", "data": {}}
    replies = [
        await call_api(http_session, url, key["key"], "POST", json_body=body) for _ in range(11)
    ]
    assert [r.status for r in replies] == [200] * 10 + [429]
    refused = replies[-1]
    assert refused.body["error"] == "rate_limit_exceeded"
    assert refused.body["details"]["limit"] == 10
    assert refused.body["details"]["window"] == 60
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "989"  # still counted hourly
    other = await call_api(http_session, emulator.api_url + BUDGETS, key["key"])
    assert other.status == 200


async def test_test_endpoint_window_length_is_configurable(
    emulator_factory: Factory, http_session: aiohttp.ClientSession
) -> None:
    emulator = await emulator_factory(test_endpoint_limit=1, test_endpoint_window_s=0.2)
    created = await emulator.admin.create_key()
    url = emulator.api_url + TEST_ENDPOINT
    statuses = []
    for pause in (0, 0, 0.25):
        await asyncio.sleep(pause)
        statuses.append(
            (await call_api(http_session, url, created["key"], "POST", json_body={})).status
        )
    assert statuses == [200, 429, 200]


async def test_429_burst_fault_refuses_the_next_n_requests(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    await emulator.admin.set_faults(api_429_burst=2, retry_after_s=7)
    url = emulator.api_url + BUDGETS
    replies = [await call_api(http_session, url, key["key"]) for _ in range(3)]
    assert [r.status for r in replies] == [429, 429, 200]
    assert replies[0].headers["Retry-After"] == "7"
    assert replies[0].body["message"] == "Rate limit exceeded. Try again in 7 seconds"
    log = await emulator.admin.requests()
    assert [entry["status"] for entry in log] == [429, 429, 200]
