"""The Billoget API misbehaves (emulator faults): 500s, 429 bursts, slow answers. Workers back
off, honour Retry-After, make a bounded number of calls (no retry storm), and every event ends
processed or dead with the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.fixtures.stack import MakeStack, Stack


def trigger_customers(stack: Stack, count: int) -> list[str]:
    return [d for _ in range(count) for d in stack.trigger("customer.created")]


def at(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00")).timestamp()


@pytest.mark.slow
def test_api_500s_are_retried_with_backoff_and_a_bounded_number_of_calls(
    make_stack: MakeStack,
) -> None:
    events = 20
    stack = make_stack(worker_env={"WORKER_MAX_ATTEMPTS": "10"})
    stack.set_faults(api_error_rate=0.5)
    ids = trigger_customers(stack, events)
    stack.wait_done(ids, timeout_s=45, what="events done despite API 500s")
    stored, processed, dead = stack.report_counts("api-500s", ids)
    calls = stack.api_requests()
    errors = sum(1 for c in calls if c["status"] == 500)
    print(f"  (API calls: {len(calls)}, of which 500: {errors}; dead: {dead})")
    assert errors > 0
    assert len(calls) <= events * 4  # expected ~2 per event at a 50 % error rate
    rows = stack.rows(ids)
    assert all(r[0] == "processed" or (r[0] == "dead" and r[2]) for r in rows.values())
    assert stored == events and processed + dead == events and processed >= events - 1


@pytest.mark.slow
def test_a_429_burst_is_waited_out_with_retry_after_and_no_retry_storm(
    make_stack: MakeStack,
) -> None:
    events, burst, retry_after_s = 20, 10, 1
    stack = make_stack()
    stack.set_faults(api_429_burst=burst, retry_after_s=retry_after_s)
    ids = trigger_customers(stack, events)
    stack.wait_done(ids, timeout_s=45, what="events done after a 429 burst")
    stored, processed, dead = stack.report_counts("api-429-burst", ids)
    calls = sorted(stack.api_requests(), key=at)
    limited = [c for c in calls if c["status"] == 429]
    print(f"  (API calls: {len(calls)}, of which 429: {len(limited)})")
    assert len(limited) == burst
    # no storm: one successful call per event plus the refused ones (and a little slack)
    assert len(calls) <= events + burst + 4
    # Retry-After honoured: after a 429, no call starts before it expires, except those that
    # were already in flight when the 429 came back (they finish within a few ms)
    for refused in limited:
        t0 = at(refused)
        too_soon = [c for c in calls if 0.15 < at(c) - t0 < retry_after_s * 0.9]
        assert too_soon == [], f"calls within Retry-After of a 429: {too_soon[:3]}"
    assert events == stored == processed and dead == 0


@pytest.mark.slow
def test_slow_api_answers_within_the_timeout_are_processed_with_one_call_each(
    make_stack: MakeStack,
) -> None:
    events = 10
    stack = make_stack()
    stack.set_faults(api_latency_ms=400)
    ids = trigger_customers(stack, events)
    stack.wait_done(ids, timeout_s=30, what="events done with a slow API")
    stored, processed, dead = stack.report_counts("api-slow", ids)
    calls = stack.api_requests()
    assert len(calls) == events
    assert events == stored == processed and dead == 0


@pytest.mark.slow
def test_api_answers_slower_than_the_timeout_end_dead_with_the_reason_after_bounded_calls(
    make_stack: MakeStack,
) -> None:
    events, attempts = 6, 3
    stack = make_stack(
        worker_env={"BILLOGET_API_TIMEOUT_S": "0.5", "WORKER_MAX_ATTEMPTS": str(attempts)}
    )
    stack.set_faults(api_latency_ms=1500)
    ids = trigger_customers(stack, events)
    stack.wait_done(ids, timeout_s=40, what="events dead after timeouts")
    stored, processed, dead = stack.report_counts("api-timeout", ids, with_dead=True)
    rows = stack.rows(ids)
    print(f"  (dead: {dead}; reasons: {sorted({r[2] for r in rows.values()})})")
    assert stored == events and dead == events and processed == 0
    assert all(r[2] and "retries exhausted" in r[2] for r in rows.values())
    assert all(r[1] == attempts for r in rows.values())
    # the emulator logs a call when it answers; the last attempts may still be answering
    assert len(stack.api_requests()) <= events * attempts
