"""Redis is transport, the store is the truth: with Redis stopped for seconds under load the
receiver keeps answering 2xx fast, and every event is processed once Redis is back; a FLUSHALL
of queued messages loses nothing either (the sweeper re-enqueues from the store)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from billoget_hooks.procs import wait_until
from tests.fixtures.stack import FAST_SWEEP, MakeStack, report_fault

EVENTS = 150
OUTAGE_S = 6.0
FAST_ANSWER_S = 1.5


@pytest.mark.slow
def test_a_redis_outage_under_load_keeps_answering_2xx_and_processes_everything_after(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(sweep=FAST_SWEEP)
    customer_ids = stack.admin(lambda a: a.seed())["data"]["customers"]
    ids = [f"dlv_redis_{i:03d}" for i in range(EVENTS)]
    latencies: dict[str, float] = {}
    statuses: dict[str, int | None] = {}
    outage = threading.Event()

    def post(i: int, delivery_id: str) -> None:
        if i % 2:  # half of them need the API and the entity lock (in Redis) too
            event, data = "customer.updated", {"id": customer_ids[i % len(customer_ids)]}
        else:
            event, data = "ping.redis", {"id": i}
        started = time.monotonic()
        status, _ = stack.post_signed(delivery_id, event=event, data=data, timeout_s=5)
        latencies[delivery_id] = time.monotonic() - started
        statuses[delivery_id] = status
        if outage.is_set():
            during.append(delivery_id)
        time.sleep(0.05)

    during: list[str] = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(post, i, d) for i, d in enumerate(ids)]
        wait_until(lambda: len(statuses) >= 20, timeout_s=20, what="load started")
        stack.redis.stop()  # SIGTERM: Redis goes away (no persistence: its queue is lost)
        outage.set()
        time.sleep(OUTAGE_S)
        outage.clear()
        stack.redis.start()
        for future in futures:
            future.result(timeout=60)

    assert during, "no delivery was posted while Redis was down"
    not_ok = {k: v for k, v in statuses.items() if v != 200}
    assert not_ok == {}, f"non-2xx answers: {list(not_ok.items())[:5]}"
    slow = {k: round(v, 2) for k, v in latencies.items() if v > FAST_ANSWER_S}
    assert slow == {}, f"slow answers while Redis was down: {list(slow.items())[:5]}"
    stack.wait_done(ids, timeout_s=45, what="all events processed after Redis came back")
    stored, processed, dead = stack.counts(ids)
    report_fault("redis-stop", sent=EVENTS, ok=len(statuses), stored=stored, processed=processed)
    print(
        f"  (posted while Redis was down: {len(during)}; "
        f"slowest answer {max(latencies.values()):.2f} s)"
    )
    assert EVENTS == len(statuses) == stored == processed and dead == 0


@pytest.mark.slow
def test_a_flushed_redis_loses_no_queued_event(make_stack: MakeStack) -> None:
    stack = make_stack(sweep=FAST_SWEEP)
    assert stack.worker is not None
    stack.worker.stop()  # the events wait on the queue, unprocessed
    ids = [f"dlv_flush_{i:03d}" for i in range(60)]
    statuses = [stack.post_signed(i, event="ping.flush")[0] for i in ids]
    assert statuses == [200] * len(ids)
    wait_until(
        lambda: all(s == "queued" for s, _, _ in stack.rows(ids).values()),
        timeout_s=15,
        what="every event relayed to Redis",
    )
    with redis.Redis.from_url(stack.redis_url) as client:
        assert client.dbsize() > 0
        client.flushall()
        assert client.dbsize() == 0
    stack.worker.start()
    stack.wait_done(ids, timeout_s=30, what="all events processed after FLUSHALL")
    stored, processed, dead = stack.counts(ids)
    report_fault(
        "redis-flushall", sent=len(ids), ok=statuses.count(200), stored=stored, processed=processed
    )
    assert len(ids) == statuses.count(200) == stored == processed and dead == 0
