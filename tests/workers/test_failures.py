"""Keys that are refused, scopes that are missing, 429s, 500s and handler errors."""

from __future__ import annotations

import logging

import pytest
import redis

from core.queue import WORKER_PROBLEMS_KEY
from core.store import StoredEvent
from tests.fixtures.emulator import Received
from tests.workers.conftest import Billoget, MakeBilloget

UNKNOWN_KEY = "bk_test_" + "x" * 32


async def _customers_sent(billoget: Billoget, count: int) -> list[Received]:
    for _ in range(count):
        await billoget.emulator.admin.trigger("customer.created")
    return list(await billoget.sink.wait_for(count))


async def test_a_rejected_key_is_reported_once_and_its_events_die_with_the_reason(
    billoget: Billoget, caplog: pytest.LogCaptureFixture, redis_client: redis.Redis
) -> None:
    received = await _customers_sent(billoget, 6)
    worker = await billoget.worker(billoget_api_key=UNKNOWN_KEY)

    events = await worker.wait_done(worker.feed(received))

    assert {e.status for e in events} == {"dead"}
    assert {e.last_error for e in events} == {"API key rejected (invalid_api_key)"}
    assert all(e.attempts == 1 for e in events)
    assert len(await billoget.api_requests()) <= 2  # one per worker thread at most
    reported = [r for r in caplog.records if "rejects BILLOGET_API_KEY" in r.message]
    assert [r.levelno for r in reported] == [logging.ERROR]
    assert b"api_key_rejected" in redis_client.hkeys(WORKER_PROBLEMS_KEY)


async def test_a_missing_read_scope_is_reported_once_and_not_retried(
    make_billoget: MakeBilloget, caplog: pytest.LogCaptureFixture
) -> None:
    billoget = await make_billoget(scopes=["WEBHOOKS", "READ_CUSTOMERS"])
    admin = billoget.emulator.admin
    budget = (await admin.trigger("budget.created"))["data"]
    for _ in range(4):
        await admin.trigger("budget.updated", budget["id"])
    received = await billoget.sink.wait_for(6)  # the budget's new customer, 5 budget events
    worker = await billoget.worker()

    events = await worker.wait_done(worker.feed(received))

    budget_events = [e for e in events if e.event_type.startswith("budget.")]
    assert {e.status for e in events} == {"processed"}
    assert {e.outcome for e in budget_events} == {"not mirrored: key lacks READ_BUDGETS"}
    assert [e.attempts for e in budget_events] == [1] * 5
    forbidden = [r for r in await billoget.api_requests() if r["status"] == 403]
    assert 1 <= len(forbidden) <= 2
    lines = [
        r.message
        for r in caplog.records
        if "lacks READ_BUDGETS" in r.message and r.levelno >= logging.WARNING
    ]
    assert len(lines) == 1
    assert lines[0].startswith("BILLOGET_API_KEY lacks READ_BUDGETS: budget events are stored")


async def test_a_429_burst_is_waited_out_and_every_event_is_mirrored(billoget: Billoget) -> None:
    received = await _customers_sent(billoget, 4)
    await billoget.emulator.admin.set_faults(api_429_burst=3, retry_after_s=1)
    worker = await billoget.worker()

    events = await worker.wait_done(worker.feed(received))

    assert {e.outcome for e in events} == {"mirrored"}
    assert all(e.attempts == 1 for e in events)  # waiting is not an attempt
    statuses = [r["status"] for r in await billoget.api_requests()]
    assert statuses.count(429) == 3
    assert statuses.count(200) == 4


async def test_server_errors_are_retried_with_backoff_then_succeed(billoget: Billoget) -> None:
    received = await _customers_sent(billoget, 3)
    await billoget.emulator.admin.set_faults(api_error_rate=0.5)
    worker = await billoget.worker(worker_max_attempts=20)

    events = await worker.wait_done(worker.feed(received))

    assert {e.outcome for e in events} == {"mirrored"}
    statuses = [r["status"] for r in await billoget.api_requests()]
    assert statuses.count(500) >= 1
    assert max(e.attempts for e in events) > 1


async def test_an_event_dies_with_its_reason_when_retries_are_exhausted(billoget: Billoget) -> None:
    received = await _customers_sent(billoget, 1)
    await billoget.emulator.admin.set_faults(api_error_rate=1.0)
    worker = await billoget.worker(worker_max_attempts=3)

    [event] = await worker.wait_done(worker.feed(received))

    assert event.status == "dead"
    assert event.attempts == 3
    assert event.last_error is not None
    assert event.last_error.startswith("retries exhausted after 3 attempts: ")
    assert "500" in event.last_error or "server" in event.last_error.lower()


async def test_user_handlers_run_after_the_mirror(billoget: Billoget) -> None:
    admin = billoget.emulator.admin
    budget = (await admin.trigger("budget.created"))["data"]
    await admin.trigger("budget.approved", budget["id"])
    received = await billoget.sink.wait_for(3)  # the budget's new customer, 2 budget events
    worker = await billoget.worker(billoget_handlers="tests.workers.sample_handlers")

    events = {e.event_type: e for e in await worker.wait_done(worker.feed(received))}

    approved = events["budget.approved"]
    assert approved.status == "processed"
    assert approved.outcome is not None
    assert f"sales notified of budget {budget['id']} (mirrored)" in approved.outcome


async def _created_then_updated(billoget: Billoget, family: str) -> dict[str, StoredEvent]:
    """An entity created then updated in Billoget, processed with the sample user handlers
    (3 attempts at most); the stored events by type."""
    created = (await billoget.emulator.admin.trigger(f"{family}.created"))["data"]
    await billoget.emulator.admin.trigger(f"{family}.updated", created["id"])
    received = await billoget.sink.wait_for(2)
    worker = await billoget.worker(
        billoget_handlers="tests.workers.sample_handlers", worker_max_attempts=3
    )
    return {e.event_type: e for e in await worker.wait_done(worker.feed(received))}


async def test_a_handlers_value_error_is_retried_and_dead_only_after_the_attempts(
    billoget: Billoget,
) -> None:
    events = await _created_then_updated(billoget, "customer")

    assert events["customer.created"].status == "processed"
    tripped = events["customer.updated"]
    assert (tripped.status, tripped.attempts) == ("dead", 3)
    assert tripped.last_error == (
        "retries exhausted after 3 attempts: ValueError: customers may not be updated in this shop"
    )


async def test_a_handlers_permanent_error_is_dead_at_once_with_its_reason(
    billoget: Billoget,
) -> None:
    events = await _created_then_updated(billoget, "product")

    assert events["product.created"].status == "processed"
    refused = events["product.updated"]
    assert (refused.status, refused.attempts) == ("dead", 1)
    assert refused.last_error == "products are managed elsewhere"


async def test_events_wait_for_a_spent_rate_budget_instead_of_failing(billoget: Billoget) -> None:
    received = await _customers_sent(billoget, 5)
    worker = await billoget.worker(billoget_api_budget_per_hour=3, billoget_api_budget_reserve=0)

    ids = worker.feed(received)
    events = await worker.wait_for(
        ids,
        lambda es: (
            sum(e.status == "processed" for e in es) == 3
            and sum(e.last_error == "waiting for the API rate budget" for e in es) == 2
        ),
        what="3 processed and 2 waiting for the budget",
    )

    waiting = [e for e in events if e.status != "processed"]
    assert [(e.status, e.attempts) for e in waiting] == [("queued", 0)] * 2
    assert len(await billoget.api_requests()) == 3


async def test_unknown_event_types_are_processed_without_a_handler(billoget: Billoget) -> None:
    received = await _customers_sent(billoget, 1)
    [only] = received
    body = only.body.replace(b'"customer.created"', b'"invoice.paid"')
    only.body = body
    worker = await billoget.worker()

    [event] = await worker.wait_done(worker.feed(received))

    assert (event.status, event.outcome) == ("processed", "no handler")
    assert await billoget.api_requests() == []
