"""kill -9 the receiver under load: every delivery answered 2xx is stored and processed; those
that got no answer are retried (by the emulator, and by the test's own Billoget-like sender)
and end stored and processed exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fixtures.stack import FAST_SWEEP, MakeStack, Stack, report_fault

EMULATED = 120  # deliveries the emulator sends (customer.created: the workers mirror them)
DIRECT = 80  # deliveries the test sends itself, retrying until it gets a 2xx
SENDER_DEADLINE_S = 40.0


def send_until_2xx(stack: Stack, delivery_id: str, answered: dict[str, float]) -> None:
    """Billoget's side: retry (bounded) until the receiver answers 2xx; record when it did."""
    deadline = time.monotonic() + SENDER_DEADLINE_S
    delay = 0.1
    while time.monotonic() < deadline:
        status, _ = stack.post_signed(delivery_id, timeout_s=5)
        if status is not None and 200 <= status < 300:
            answered[delivery_id] = time.monotonic()
            return
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    raise AssertionError(f"{delivery_id} never answered 2xx")


@pytest.mark.slow
def test_a_receiver_killed_under_load_loses_nothing_and_processes_each_event_once(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(sweep=FAST_SWEEP)
    direct_ids = [f"dlv_kill_{i:03d}" for i in range(DIRECT)]
    answered: dict[str, float] = {}
    emulated_ids: list[str] = []
    killed = threading.Event()

    def trigger_all() -> None:
        for i in range(EMULATED):
            emulated_ids.extend(stack.trigger("customer.created"))
            if i == EMULATED // 3:
                killed.wait(timeout=10)

    with ThreadPoolExecutor(max_workers=5) as pool:
        trigger = pool.submit(trigger_all)
        senders = [pool.submit(send_until_2xx, stack, i, answered) for i in direct_ids]
        # kill -9 once a third of the load is through, then bring it back
        from billoget_hooks.procs import wait_until

        wait_until(lambda: len(answered) >= DIRECT // 3, timeout_s=20, what="a third sent")
        stack.receiver.kill9()
        killed.set()
        answered_before_kill = dict(answered)
        time.sleep(1.0)
        stack.receiver.start()
        trigger.result(timeout=60)
        for sender in senders:
            sender.result(timeout=60)

    # every delivery answered 2xx before the kill survived it
    stored_now = stack.rows(answered_before_kill)
    assert set(stored_now) == set(answered_before_kill)
    all_ids = [*emulated_ids, *direct_ids]
    assert len(emulated_ids) == EMULATED
    stack.wait_done(all_ids, timeout_s=45, what="all events processed after the kill")
    delivered = {d["id"]: d for d in stack.deliveries() if d["id"] in set(emulated_ids)}
    retried = sum(1 for d in delivered.values() if len(d["attempts"]) > 1)
    assert all(d["state"] == "delivered" for d in delivered.values()), "emulator gave up"
    ok = len(answered) + sum(1 for d in delivered.values() if d["state"] == "delivered")
    stored, processed, dead = stack.counts(all_ids)
    # the effect happened once per entity: one mirror row per customer, none missing
    customers = stack.mirror("customers")
    assert len(customers) == EMULATED
    report_fault("receiver-kill9", sent=len(all_ids), ok=ok, stored=stored, processed=processed)
    print(f"  (emulator deliveries retried after the kill: {retried})")
    assert len(all_ids) == ok == stored == processed and dead == 0
