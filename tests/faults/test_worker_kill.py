"""kill -9 a worker in the middle of a handler (inside a slow Billoget API call): the event is
delivered again and its effect (the mirror row) happens once."""

from __future__ import annotations

import pytest

from billoget_hooks.procs import wait_until
from tests.fixtures.stack import FAST_SWEEP, MakeStack

EVENTS = 4
API_LATENCY_MS = 3000


@pytest.mark.slow
def test_a_worker_killed_mid_handler_redelivers_and_the_effect_happens_once(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(sweep=FAST_SWEEP)
    assert stack.worker is not None
    stack.set_faults(api_latency_ms=API_LATENCY_MS)
    ids = [d for _ in range(EVENTS) for d in stack.trigger("customer.created")]
    # every event is inside its handler: attempt counted, the API call still running
    wait_until(
        lambda: (
            all(a == 1 and s == "queued" for s, a, _ in stack.rows(ids).values())
            and len(stack.rows(ids)) == EVENTS
        ),
        timeout_s=15,
        what="every event inside its handler",
    )
    assert stack.api_requests() == []  # no API call has finished yet
    stack.worker.kill9()
    stack.clear_faults()
    stack.worker.start()
    stack.wait_done(ids, timeout_s=40, what="events redelivered after the worker was killed")

    rows = stack.rows(ids)
    stored, processed, dead = stack.report_counts("worker-kill9", ids)
    customers = stack.mirror("customers")
    state = stack.admin(lambda a: a.state())["customers"]
    assert len(customers) == EVENTS  # one mirror row per entity: the effect happened once
    assert {r[2] for r in customers.values()} == set(ids)
    assert len(state) == EVENTS
    for entity in state:
        assert customers[str(entity["id"])][1] == 0
    assert all(attempts >= 2 for _, attempts, _ in rows.values())  # it was redelivered
    gets = [r for r in stack.api_requests() if r["method"] == "GET"]
    print(f"  (attempts: {sorted(a for _, a, _ in rows.values())}; API GETs: {len(gets)})")
    assert len(gets) <= 2 * EVENTS
    assert EVENTS == stored == processed and dead == 0
