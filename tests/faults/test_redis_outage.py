"""Redis is transport, the store is the truth, and losing Redis costs seconds, not minutes.

With the default relay settings (``RELAY_STALE_AFTER_S`` 300 s, sweeps every 5 s) and the
default worker settings: Redis stopped under load and started again empty, a FLUSHALL with
messages on the queue, and a worker killed -9 holding a message before Redis restarts empty.
Each test measures the recovery time (Redis back, empty → the last affected event
``processed``), prints it on its ``FAULT`` line and asserts the bound.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from billoget_hooks.procs import wait_until
from tests.fixtures.stack import MakeStack, Stack, report_fault

EVENTS = 150
OUTAGE_S = 6.0
FAST_ANSWER_S = 1.5
RECOVERY_BOUND_S = 10.0
API_LATENCY_MS = 3000


def _recovery_s(stack: Stack, ids: list[str], back_at: float) -> float:
    return stack.last_processed_at(ids) - back_at


def _outage_lines(stack: Stack) -> tuple[list[str], list[str]]:
    """The lines of the receiver's and the worker's logs at WARNING and above."""
    assert stack.worker is not None
    logs = (stack.receiver.log_path, stack.worker.log_path)
    found = [
        [
            line
            for line in path.read_text(errors="replace").splitlines()
            if " WARNING " in line or " ERROR " in line or " CRITICAL " in line
        ]
        for path in logs
    ]
    return found[0], found[1]


# every other worker setting at its default; the handler fetches its entity, so the emulator's
# API latency holds the event inside it (a payload-first handler would finish at once)
FETCH_EVERY_EVENT = {"MIRROR_SOURCE": "api", "MIRROR_FETCH_WINDOW_S": "0"}


@pytest.mark.slow
def test_a_redis_restart_without_persistence_under_load_recovers_within_the_bound(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(fast_worker=False)
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
        back_at = time.time()
        for future in futures:
            future.result(timeout=60)

    assert during, "no delivery was posted while Redis was down"
    not_ok = {k: v for k, v in statuses.items() if v != 200}
    assert not_ok == {}, f"non-2xx answers: {list(not_ok.items())[:5]}"
    slow = {k: round(v, 2) for k, v in latencies.items() if v > FAST_ANSWER_S}
    assert slow == {}, f"slow answers while Redis was down: {list(slow.items())[:5]}"
    stack.wait_done(ids, timeout_s=45, what="all events processed after Redis came back")
    stored, processed, dead = stack.counts(ids)
    recovery_s = _recovery_s(stack, ids, back_at)
    report_fault(
        "redis-restart-empty",
        sent=EVENTS,
        ok=len(statuses),
        stored=stored,
        processed=processed,
        recovery_s=recovery_s,
    )
    print(
        f"  (posted while Redis was down: {len(during)}; "
        f"slowest answer {max(latencies.values()):.2f} s)"
    )
    assert EVENTS == len(statuses) == stored == processed and dead == 0
    assert recovery_s < RECOVERY_BOUND_S
    receiver_lines, worker_lines = _outage_lines(stack)
    for name, proc in (("receiver", stack.receiver), ("worker", stack.worker)):
        assert proc is not None
        text = proc.log_path.read_text(errors="replace").splitlines()
        print(f"  {name}:", *(line for line in text if "Redis" in line), sep="\n    ")
    assert len(receiver_lines) == 1 and "Redis unreachable" in receiver_lines[0], receiver_lines
    assert not [line for line in worker_lines if " CRITICAL " in line or "Traceback" in line]
    assert len([line for line in worker_lines if "Redis unreachable" in line]) == 1


@pytest.mark.slow
def test_a_flushall_with_messages_on_the_queue_recovers_within_the_bound(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(fast_worker=False, worker_env=FETCH_EVERY_EVENT)
    assert stack.worker is not None
    # slow handlers: the worker holds a few events, the rest wait on the Redis queue
    stack.set_faults(api_latency_ms=API_LATENCY_MS)
    ids = [d for _ in range(40) for d in stack.trigger("customer.created")]
    wait_until(
        lambda: (
            len(stack.rows(ids)) == len(ids)
            and all(s == "queued" for s, _, _ in stack.rows(ids).values())
        ),
        timeout_s=30,
        what="every event relayed to Redis",
    )
    with redis.Redis.from_url(stack.redis_url) as client:
        assert client.llen("dramatiq:billoget-events") > 0  # some wait on the queue
        client.flushall()
        flushed_at = time.time()
    stack.clear_faults()
    stack.wait_done(ids, timeout_s=40, what="all events processed after FLUSHALL")
    stored, processed, dead = stack.report_counts(
        "redis-flushall", ids, recovery_s=_recovery_s(stack, ids, flushed_at)
    )
    assert len(ids) == stored == processed and dead == 0
    assert _recovery_s(stack, ids, flushed_at) < RECOVERY_BOUND_S
    assert len(stack.mirror("customers")) == len(ids)


@pytest.mark.slow
def test_a_worker_killed_holding_a_message_then_redis_restarted_empty_recovers_within_the_bound(
    make_stack: MakeStack,
) -> None:
    """The case of issue 15: only the store still knows the event the dead worker held."""
    stack = make_stack(fast_worker=False, worker_env=FETCH_EVERY_EVENT)
    assert stack.worker is not None
    stack.set_faults(api_latency_ms=API_LATENCY_MS)
    ids = stack.trigger("customer.created")
    wait_until(
        lambda: [a for s, a, _ in stack.rows(ids).values() if s == "queued"] == [1],
        timeout_s=15,
        what="the event inside its handler",
    )
    stack.worker.kill9()  # Dramatiq's record of the message is the dead worker's ack set
    stack.clear_faults()
    stack.worker.start()
    stack.wait_worker_ready()
    stack.redis.stop()
    stack.redis.start()  # no persistence: the ack set is gone with the rest
    back_at = time.time()
    stack.wait_done(ids, timeout_s=30, what="the held event processed after the restart")
    recovery_s = _recovery_s(stack, ids, back_at)
    stored, processed, dead = stack.report_counts(
        "worker-kill9-then-redis-restart", ids, recovery_s=recovery_s
    )
    assert stored == processed == 1 and dead == 0
    assert recovery_s < RECOVERY_BOUND_S
