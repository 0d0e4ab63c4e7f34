"""Payload first, then the cheapest fetch plan: the API budget is spent only where needed."""

from __future__ import annotations

import logging
import random

import pytest

from core.store.sqlite.mirror import TABLES
from tests.fixtures.mirror import mirror_problems
from tests.workers.conftest import Billoget
from workers.fetchplan import PLAN_STATS, choose
from workers.fetchplan.choice import pages_to_reach

FAMILY_OF_TABLE = {table: family for family, table in TABLES.items()}


async def _customers(billoget: Billoget, count: int) -> list[int]:
    admin = billoget.emulator.admin
    return [(await admin.trigger("customer.created"))["data"]["id"] for _ in range(count)]


async def test_complete_payloads_are_mirrored_with_no_api_call(billoget: Billoget) -> None:
    admin = billoget.emulator.admin
    ids = await _customers(billoget, 5)
    for entity_id in ids:
        await admin.trigger("customer.updated", entity_id, changes={"email": "payload@example.com"})
    product = (await admin.trigger("product.created"))["data"]
    await admin.trigger("product.deleted", product["id"])
    received = await billoget.sink.wait_for(12)
    worker = await billoget.worker()

    events = await worker.wait_done(worker.feed(received, rng=random.Random(3)))

    assert {e.status for e in events} == {"processed"}
    assert "mirrored from payload" in {e.outcome for e in events}
    assert await billoget.api_requests() == []
    assert mirror_problems(await admin.state(), worker.store) == []


async def test_thin_payloads_over_a_catalogue_cost_one_list_scan(billoget: Billoget) -> None:
    admin = billoget.emulator.admin
    ids = await _customers(billoget, 250)
    await admin.set_faults(delivery_thin_payload=True)
    for entity_id in ids:
        await admin.trigger("customer.updated", entity_id)
    received = (await billoget.sink.wait_for(500, timeout_s=15))[250:]
    assert set(received[0].json["data"]) == {"id", "updatedAt"}
    worker = await billoget.worker(mirror_fetch_window_s=0.5)
    before = PLAN_STATS.snapshot()

    events = await worker.wait_done(worker.feed(received), timeout_s=30)

    calls = await billoget.api_requests()
    assert {e.status for e in events} == {"processed"}
    assert len(calls) <= 3 + 3  # one scan of 3 pages, and a plan or two for stragglers
    assert sum(c["path"].endswith("/api/public/customers") for c in calls) >= 3
    assert PLAN_STATS.snapshot()["scan_pages"] > before["scan_pages"]
    assert mirror_problems(await admin.state(), worker.store) == []


async def test_a_few_thin_payloads_cost_at_most_one_request_each(
    billoget: Billoget, caplog: pytest.LogCaptureFixture
) -> None:
    admin = billoget.emulator.admin
    ids = await _customers(billoget, 150)
    await admin.set_faults(delivery_thin_payload=True)
    await admin.trigger("customer.updated", ids[3])
    await admin.trigger("customer.deleted", ids[7])
    await admin.trigger("customer.updated", ids[140])
    received = (await billoget.sink.wait_for(153))[150:]
    worker = await billoget.worker(mirror_fetch_window_s=0.3)

    with caplog.at_level(logging.INFO, logger="workers.fetchplan"):
        events = await worker.wait_done(worker.feed(received))

    calls = await billoget.api_requests()
    assert {e.status for e in events} == {"processed"}
    assert len(calls) == 2  # the deleted one costs nothing: its event tombstones it
    assert calls[-1]["path"].endswith(f"/customers/{ids[140]}")  # one GET beats 1 more page
    assert any("fetch plan for customer" in r.getMessage() for r in caplog.records)
    row = worker.store.get_entity("customer", ids[7])
    assert row is not None and row.deleted


@pytest.mark.parametrize(
    ("pending", "pages_left", "method"),
    [(1, None, "get"), (2, None, "scan"), (5, 5, "get"), (6, 5, "scan"), (500, 100, "scan")],
)
def test_the_plan_picks_whichever_costs_fewer_requests(
    pending: int, pages_left: int | None, method: str
) -> None:
    assert choose(pending, pages_left=pages_left) == method


@pytest.mark.parametrize(
    ("ids", "last_max", "pages"),
    [
        (["150", "199"], 100, 1),  # the next page holds them, if the list is in id order
        (["150", "420"], 100, 4),
        (["40", "150"], 100, 9 + 1),  # 40 was passed: to the end (9 pages), then page 1
        (["150"], None, 20),  # order not seen: the rest of the cycle
        (["abc", "150"], 100, 20),  # ids that are not integers: the same
    ],
)
def test_a_scan_costs_at_most_the_pages_to_reach_the_ids(
    ids: list[str], last_max: int | None, pages: int
) -> None:
    assert pages_to_reach(ids, next_page=2, last_max=last_max, pages_left=20, pages_total=10) == (
        pages
    )
