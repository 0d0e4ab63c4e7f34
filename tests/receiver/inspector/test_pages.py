"""The inspector's pages in a real browser: overview, events and their filters, one event,
dead letters and their replay, the mirror. Each test leaves a screenshot in build/screenshots/."""

from __future__ import annotations

import re
import time

from aiohttp import web
from playwright.async_api import BrowserContext, Page, expect

from core.signing import WebhookSecret
from core.store import Status
from core.store.sqlite.mirror import SQLiteMirrorStore
from core.store.sqlite.store import SQLiteEventStore
from receiver.inspector.state import Signals
from tests.fixtures.browser import Shoot
from tests.fixtures.infra import TEST_SECRET
from tests.fixtures.workers import StartWorker
from tests.receiver.inspector.conftest import OpenInspector, seed

WAIT_S = 20.0


async def _open(context: BrowserContext, url: str) -> Page:
    page = await context.new_page()
    response = await page.goto(url)
    assert response is not None and response.status == 200, url
    return page


async def test_the_overview_shows_counts_per_status_the_minute_chart_and_the_selfcheck(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext, shoot: Shoot
) -> None:
    seed(store, 7, prefix="ok", status=Status.PROCESSED)
    seed(store, 3, prefix="dead", status=Status.DEAD)
    seed(store, 2, prefix="wait", status=Status.QUEUED)
    page = await _open(context, f"{await open_inspector()}/admin/")

    await expect(page.locator("a.count.s-processed .n")).to_have_text("7")
    await expect(page.locator("a.count.s-dead .n")).to_have_text("3")
    await expect(page.locator("a.count.s-queued .n")).to_have_text("2")
    await expect(page.locator(".count.total .n")).to_have_text("12")
    assert await page.locator("#chart rect.bar").count() == 60
    await expect(page.locator("#chart").locator("..")).to_contain_text("12 in all")
    await expect(page.locator("#lag")).not_to_contain_text("nothing waiting")
    await expect(page.locator("#last")).to_contain_text("ago")
    await expect(page.locator("#selfcheck button")).to_have_text("Run now")
    await expect(page.locator("#problems")).to_contain_text("None reported")
    # the receiver's own signals: the configured secret, no delivery verified by it (the rows
    # were written to the store directly)
    fingerprint = WebhookSecret.parse(TEST_SECRET).fingerprint()
    await expect(page.locator("#secrets")).to_contain_text(fingerprint)
    await expect(page.locator("#secrets")).not_to_contain_text("Not available")
    await shoot(page, "overview")


async def test_the_overview_shows_the_signals_a_provider_gives_it(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext, shoot: Shoot
) -> None:
    async def signals(app: web.Application) -> Signals:
        return Signals(
            secret_matches={"3f9a1c": 1200, "77b0de": 3},
            silence_warning="No verified delivery for 1 h 5 min while the self-check passed.",
            warnings=["4 dead letters appeared in the last 10 minutes."],
        )

    seed(store, 2, status=Status.PROCESSED)
    page = await _open(context, f"{await open_inspector(signals=signals)}/admin/")
    await expect(page.locator("#silence")).to_contain_text("No verified delivery for 1 h 5 min")
    await expect(page.locator("main")).to_contain_text("4 dead letters appeared")
    await expect(page.locator("#secrets")).to_contain_text("3f9a1c")
    await expect(page.locator("#secrets")).to_contain_text("1,200")
    await shoot(page, "overview-signals")


async def test_run_now_starts_a_selfcheck_whose_report_the_overview_then_shows(
    open_inspector: OpenInspector, context: BrowserContext
) -> None:
    # no API key: the self-check stops at its configuration check, and says so
    page = await _open(context, f"{await open_inspector()}/admin/")
    await expect(page.locator("#selfcheck")).to_contain_text("No self-check has run yet")
    await page.click("#selfcheck button")
    deadline = time.monotonic() + WAIT_S
    while "failed" not in await page.locator("#selfcheck").inner_text():
        assert time.monotonic() < deadline, "the self-check report did not appear"
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(page.locator("#selfcheck")).to_contain_text("BILLOGET_API_KEY")


async def test_events_filter_by_status_and_type_and_page_older_by_keyset(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext, shoot: Shoot
) -> None:
    seed(store, 120, prefix="bud", event="budget.updated", status=Status.PROCESSED)
    seed(store, 4, prefix="cus", event="customer.created", status=Status.DEAD)
    page = await _open(context, f"{await open_inspector()}/admin/deliveries")
    rows = page.locator("table.events tbody tr")
    await expect(rows).to_have_count(50)

    await page.select_option("select[name=status]", "dead")
    await page.click("form.filters button")
    await expect(rows).to_have_count(4)
    await expect(rows.first).to_contain_text("customer.created")
    await expect(rows.first).to_contain_text("budget 42 was not found")  # the error, inline
    await shoot(page, "events-filtered")

    await page.goto(page.url.split("?")[0] + "?event=budget.updated")
    first_page = await page.locator("table.events tbody tr .small").all_inner_texts()
    await page.click("a.older")
    await expect(page).to_have_url(re.compile(r"before="))
    second_page = await page.locator("table.events tbody tr .small").all_inner_texts()
    await page.click("a.older")
    third_page = await page.locator("table.events tbody tr .small").all_inner_texts()
    assert (len(first_page), len(second_page), len(third_page)) == (50, 50, 20)
    seen = first_page + second_page + third_page
    assert len(set(seen)) == 120 and seen == sorted(seen, reverse=True)
    await expect(page.locator("a.older")).to_have_count(0)


async def test_a_lookup_by_entity_id_lists_its_events_and_one_by_delivery_id_opens_it(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext
) -> None:
    seed(store, 30, prefix="bud", status=Status.PROCESSED)
    base = await open_inspector()
    page = await _open(context, f"{base}/admin/deliveries?q=7")
    await expect(page.locator("table.events tbody tr")).to_have_count(1)
    await expect(page.locator("table.events tbody tr")).to_contain_text("bud_00007")

    await page.fill("input[name=q]", "bud_00012")
    await page.click("form.filters button")
    await expect(page).to_have_url(f"{base}/admin/deliveries/bud_00012")


async def test_a_bad_filter_is_said_next_to_the_form_and_the_page_still_answers(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext
) -> None:
    seed(store, 3, status=Status.PROCESSED)
    page = await _open(context, f"{await open_inspector()}/admin/deliveries?since=yesterday")
    await expect(page.locator("p.error")).to_contain_text("since")
    await expect(page.locator("table.events tbody tr")).to_have_count(3)


async def test_an_event_page_shows_its_metadata_and_error_and_the_body_only_on_a_click(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext, shoot: Shoot
) -> None:
    secret_data = {
        "id": 42,
        "apiKey": "bk_test_NEVERSHOWN123",
        "note": "rotated to whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw yesterday",
        "customer": {"firstName": "Ana", "password": "hunter2"},
    }
    [delivery_id] = seed(store, 1, prefix="sec", status=Status.DEAD, data=secret_data)
    page = await _open(context, f"{await open_inspector()}/admin/deliveries/{delivery_id}")

    await expect(page.locator("#metadata")).to_contain_text(delivery_id)
    await expect(page.locator("#last-error")).to_have_text(
        "handler refused the event: budget 42 was not found"
    )
    await expect(page.locator("#history tbody tr")).to_have_count(1)
    await expect(page.locator("#history")).to_contain_text("budget 42 was not found")
    body = page.locator("#body pre")
    await expect(body).to_be_hidden()
    await page.click("#body summary")
    await expect(body).to_be_visible()
    await expect(body).to_contain_text('"firstName": "Ana"')
    html = await page.content()
    for secret in ("bk_test_NEVERSHOWN123", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "hunter2"):
        assert secret not in html
    await expect(page.locator("#mirror")).to_contain_text("No mirror row for budget 42")
    await shoot(page, "event")


async def test_replaying_a_dead_event_from_the_dead_letters_makes_it_processed(
    store: SQLiteEventStore,
    open_inspector: OpenInspector,
    start_worker: StartWorker,
    receiver_redis_url: str,
    context: BrowserContext,
    shoot: Shoot,
) -> None:
    # an event type without handlers: once replayed the worker records it processed
    [delivery_id] = seed(store, 1, prefix="dead", event="ping.inspector", status=Status.DEAD)
    seed(store, 2, prefix="other", event="ping.other", status=Status.DEAD)
    base = await open_inspector()
    await start_worker(redis_url=receiver_redis_url)
    page = await _open(context, f"{base}/admin/dead")
    await expect(page.locator("table.events tbody tr")).to_have_count(3)
    await shoot(page, "dead-letters")

    row = page.locator("table.events tbody tr", has_text=delivery_id)
    await row.get_by_role("button", name="Replay").click()
    await expect(page.locator("table.events tbody tr")).to_have_count(2)  # back on the list

    await page.goto(f"{base}/admin/deliveries/{delivery_id}")
    deadline = time.monotonic() + WAIT_S
    while await page.locator("h1 .status").inner_text() != "processed":
        assert time.monotonic() < deadline, "the replayed event was not processed in time"
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(page.locator("#processing")).to_contain_text("no handler")
    results = await page.locator("#history tbody tr td:nth-child(3)").all_inner_texts()
    assert results == ["dead", "replayed", "processed"]
    await shoot(page, "event-replayed")


async def test_replay_all_matching_confirms_how_many_then_replays_only_those(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext, shoot: Shoot
) -> None:
    chosen = seed(store, 3, prefix="cus", event="customer.updated", status=Status.DEAD)
    others = seed(store, 2, prefix="pro", event="product.updated", status=Status.DEAD)
    page = await _open(context, f"{await open_inspector()}/admin/dead?event=customer.updated")
    await page.click("text=Replay all matching")
    await expect(page.locator("#confirm-count")).to_contain_text("3 dead events match")
    await shoot(page, "dead-confirm")
    await page.get_by_role("button", name="Replay 3").click()

    await expect(page.locator("#replayed")).to_contain_text("Replayed 3 events")
    for delivery_id in chosen:
        event = store.get(delivery_id)
        assert event is not None and event.status in (Status.RECEIVED, Status.QUEUED)
        assert event.attempts == 0
    assert {store.get(i).status for i in others} == {Status.DEAD}  # type: ignore[union-attr]


async def test_the_mirror_lookup_finds_a_budget_by_id_and_says_when_there_is_none(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext, shoot: Shoot
) -> None:
    [delivery_id] = seed(store, 1, prefix="bud", status=Status.PROCESSED, data={"id": 77})
    mirror = SQLiteMirrorStore(store.path)
    try:
        mirror.upsert_entity(
            "budget",
            77,
            data={"id": 77, "total": 1234.5, "state": 1, "customer": {"firstName": "Ana"}},
            updated_at="2026-05-01T10:00:00.000000Z",
            fetched_at="2026-05-01T10:00:01.000000Z",
            delivery_id=delivery_id,
        )
    finally:
        mirror.close()
    page = await _open(context, f"{await open_inspector()}/admin/mirror")
    await page.fill("input[name=id]", "77")
    await page.click("form.filters button")
    await expect(page.locator("#result")).to_contain_text(delivery_id)
    await expect(page.locator("#data")).to_contain_text('"total": 1234.5')
    await shoot(page, "mirror")

    await page.click(f"text={delivery_id}")
    await expect(page.locator("#mirror")).to_contain_text("last written by this delivery")

    await page.goto(page.url.split("/admin/")[0] + "/admin/mirror?family=customer&id=5")
    await expect(page.locator("#none")).to_contain_text("No customer with id 5")
