"""The mirror converges to Billoget's state whatever the order and duplication of events."""

from __future__ import annotations

import random

from tests.fixtures.mirror import mirror_problems, next_change
from tests.workers.conftest import FETCH_EACH, Billoget


async def _random_history(billoget: Billoget, rng: random.Random, *, changes: int) -> None:
    admin = billoget.emulator.admin
    live: dict[str, list[int]] = {"customer": [], "product": [], "budget": []}
    for family, count in (("customer", 4), ("product", 3), ("budget", 3)):
        for _ in range(count):
            created = await admin.trigger(f"{family}.created")
            live[family].append(created["data"]["id"])
    for _ in range(changes):
        event, entity_id = next_change(rng, live)
        answer = await admin.trigger(event, entity_id)
        if entity_id is None:
            live[event.split(".", 1)[0]].append(answer["data"]["id"])


async def test_mirror_equals_billoget_after_shuffled_duplicated_deliveries(
    billoget: Billoget,
) -> None:
    rng = random.Random(20240607)
    await _random_history(billoget, rng, changes=40)
    sent = await billoget.emulator.admin.wait_for_deliveries(1)
    all_sent = await billoget.emulator.admin.deliveries()
    received = await billoget.sink.wait_for(len(all_sent))
    assert len(sent) >= 1
    worker = await billoget.worker()

    ids = worker.feed(received, duplicate_ratio=0.3, rng=rng)
    worker.feed(rng.sample(list(received), 10))  # the same deliveries received twice
    events = await worker.wait_done(ids)

    assert {e.status for e in events} == {"processed"}, [e.last_error for e in events]
    assert mirror_problems(await billoget.emulator.admin.state(), worker.store) == []


async def test_an_update_delivered_after_the_delete_does_not_resurrect(
    billoget: Billoget,
) -> None:
    admin = billoget.emulator.admin
    customer = (await admin.trigger("customer.created"))["data"]
    await admin.trigger("customer.updated", customer["id"], changes={"email": "later@example.com"})
    await admin.trigger("customer.deleted", customer["id"])
    created, updated, deleted = await billoget.sink.wait_for(3)
    worker = await billoget.worker()

    await worker.wait_done(worker.feed([deleted]))
    late, _ = await worker.wait_done(worker.feed([updated, created]))

    row = worker.mirror.get_entity("customer", customer["id"])
    assert row is not None and row.deleted
    assert late.outcome == "coalesced"
    assert await billoget.api_requests() == []


async def test_a_burst_over_few_entities_costs_one_fetch_per_entity(billoget: Billoget) -> None:
    admin = billoget.emulator.admin
    ids = [(await admin.trigger("customer.created"))["data"]["id"] for _ in range(20)]
    for n in range(480):
        await admin.trigger("customer.updated", ids[n % len(ids)])
    received = await billoget.sink.wait_for(500, timeout_s=15)
    worker = await billoget.worker(**FETCH_EACH, worker_threads=2)

    events = await worker.wait_done(worker.feed(received, rng=random.Random(5)), timeout_s=18)

    calls = await billoget.api_requests()
    assert {e.status for e in events} == {"processed"}
    assert len(calls) <= 25
    assert [c for c in calls if c["status"] == 429] == []
    assert sum(e.outcome == "coalesced" for e in events) >= 475
