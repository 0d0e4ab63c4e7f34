"""scripts/send_test_webhook against a real receiver and a recording one, on loopback."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from dramatiq.brokers.stub import StubBroker

from billoget_hooks.procs import free_port
from core.events import KNOWN_EVENTS, parse_envelope
from core.samples import envelope_bytes, sample_data
from core.store.sqlite.store import SQLiteEventStore
from tests.fixtures.emulator import (
    RunningEmulator,
    WebhookSink,
    emulator,
    emulator_factory,
    http_session,
    webhook_sink,
)
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET
from tests.fixtures.receiver import MakeReceiver

__all__ = ["emulator", "emulator_factory", "http_session", "webhook_sink"]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "send_test_webhook.py"
HOUR_S = 3600


@dataclass
class Run:
    code: int
    out: str


async def send(*args: str) -> Run:
    """Run the script without blocking the loop that serves the receiver."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOGET_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode())


@pytest.fixture
async def receiver_url(make_receiver: MakeReceiver, store: SQLiteEventStore) -> str:
    client = await make_receiver(store=store, broker=StubBroker())
    return str(client.make_url("/webhooks/billoget"))


@pytest.fixture
def sink(webhook_sink: WebhookSink) -> WebhookSink:
    webhook_sink.secrets = [TEST_SECRET]
    return webhook_sink


# -- against the real receiver ------------------------------------------------------------------


async def test_a_signed_delivery_is_accepted_and_stored(
    receiver_url: str, store: SQLiteEventStore
) -> None:
    run = await send("--url", receiver_url, "--secret", TEST_SECRET, "--event", "budget.approved")

    assert run.code == 0, run.out
    assert "← 200" in run.out
    assert "as expected" in run.out
    assert '"event":"budget.approved"' in run.out
    [stored] = store.list_events()
    assert stored.event_type == "budget.approved"


@pytest.mark.parametrize("fault", ["--stale", "--future", "--tamper", "--no-signature"])
async def test_a_deliberately_broken_delivery_is_refused_and_that_exits_0(
    receiver_url: str, store: SQLiteEventStore, fault: str
) -> None:
    run = await send("--url", receiver_url, "--secret", TEST_SECRET, fault)

    assert run.code == 0, run.out
    assert "← 401" in run.out
    assert "(as expected)" in run.out
    assert store.list_events() == []


async def test_duplicate_sends_the_same_id_twice_and_the_receiver_stores_it_once(
    receiver_url: str, store: SQLiteEventStore
) -> None:
    run = await send("--url", receiver_url, "--secret", TEST_SECRET, "--duplicate")

    assert run.code == 0, run.out
    assert run.out.count("← 200") == 2
    assert '"duplicate":true' in run.out.replace(" ", "")
    assert len(store.list_events()) == 1


async def test_count_and_concurrency_print_the_rate_and_latencies(
    receiver_url: str, store: SQLiteEventStore
) -> None:
    run = await send(
        "--url", receiver_url, "--secret", TEST_SECRET, "--count", "20", "--concurrency", "5"
    )

    assert run.code == 0, run.out
    assert "sent 20 in" in run.out
    for part in ("req/s", "p50", "p99", "200: 20"):
        assert part in run.out
    assert len(store.list_events(limit=100)) == 20


async def test_a_wrong_secret_is_refused_and_exits_1(receiver_url: str) -> None:
    run = await send("--url", receiver_url, "--secret", OTHER_SECRET)

    assert run.code == 1, run.out
    assert "← 401" in run.out
    assert "NOT as expected" in run.out


# -- what is sent (a recording receiver) ------------------------------------------------------


@pytest.mark.parametrize(("flag", "offset_s"), [("--stale", -HOUR_S), ("--future", HOUR_S)])
async def test_stale_and_future_move_the_timestamp_an_hour(
    sink: WebhookSink, flag: str, offset_s: int
) -> None:
    before = int(time.time())
    await send("--url", sink.url, "--secret", TEST_SECRET, flag)

    [got] = sink.received
    sent = int(got.headers["webhook-timestamp"])
    assert abs(sent - (before + offset_s)) <= 5
    assert got.verified_by_standardwebhooks is False  # outside the tolerance


async def test_tamper_changes_the_body_after_signing(sink: WebhookSink) -> None:
    await send("--url", sink.url, "--secret", TEST_SECRET, "--tamper")

    [got] = sink.received
    assert got.json["data"]["tampered"] is True
    assert got.verified_by_core is False


async def test_no_signature_omits_the_signature_header(sink: WebhookSink) -> None:
    await send("--url", sink.url, "--secret", TEST_SECRET, "--no-signature")

    [got] = sink.received
    assert "webhook-signature" not in got.headers
    assert got.headers["webhook-id"] == got.json["metadata"]["delivery_id"]


async def test_a_plain_send_verifies_with_the_standard_webhooks_library(sink: WebhookSink) -> None:
    await send("--url", sink.url, "--secret", TEST_SECRET, "--event", "product.deleted")

    [got] = sink.received
    assert got.verified_by_standardwebhooks is True
    assert got.json["event"] == "product.deleted"
    assert got.json["data"]["id"] == 7  # a deleted resource's last state
    assert got.json["data"]["productCode"] == "CAM-4K"


async def test_data_from_a_file_is_sent_as_given(sink: WebhookSink, tmp_path: Path) -> None:
    data_file = tmp_path / "data.json"
    data_file.write_text('{"id": 99, "note": "from a file"}')

    run = await send(
        "--url", sink.url, "--secret", TEST_SECRET, "--event", "x.custom", "--data", f"@{data_file}"
    )

    assert run.code == 0, run.out
    [got] = sink.received
    assert got.json["data"] == {"id": 99, "note": "from a file"}
    assert got.json["event"] == "x.custom"


async def test_duplicate_repeats_the_id_and_body(sink: WebhookSink) -> None:
    await send("--url", sink.url, "--secret", TEST_SECRET, "--duplicate")

    first, second = sink.received
    assert first.webhook_id == second.webhook_id
    assert first.body == second.body


# -- exit codes ---------------------------------------------------------------------------------


async def test_nothing_listening_exits_3() -> None:
    url = f"http://127.0.0.1:{free_port()}/webhooks/billoget"

    run = await send("--url", url, "--secret", TEST_SECRET)

    assert run.code == 3
    assert "no answer" in run.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no secret"),
        (("--secret", "nope"), "must start with 'whsec_'"),
        (("--secret", TEST_SECRET, "--data", "[1]"), "--data must be a JSON object"),
        (("--secret", TEST_SECRET, "--data", "{"), "--data is not valid JSON"),
        (("--secret", TEST_SECRET, "--event", "x.custom"), "no sample data"),
        (("--secret", TEST_SECRET, "--count", "0"), "at least 1"),
    ],
)
async def test_bad_usage_exits_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    run = await send("--url", "http://127.0.0.1:1/", *args)

    assert run.code == 2
    assert message in run.out
    assert "Traceback" not in run.out


async def test_the_secret_is_never_printed(sink: WebhookSink) -> None:
    run = await send("--url", sink.url, "--secret", TEST_SECRET)

    assert TEST_SECRET.removeprefix("whsec_") not in run.out


# -- via Billoget's test endpoint -------------------------------------------------------------


async def test_via_api_asks_billoget_to_deliver_the_event(
    emulator: RunningEmulator, sink: WebhookSink
) -> None:
    key = await emulator.admin.create_key(webhookUrl=sink.url, webhookSecret=TEST_SECRET)

    run = await send(
        "--via-api",
        "--api-key",
        key["key"],
        "--api-url",
        emulator.api_url,
        "--event",
        "budget.rejected",
    )

    assert run.code == 0, run.out
    assert "← 200" in run.out
    assert key["key"] not in run.out
    [got] = await sink.wait_for(1)
    assert got.json["event"] == "budget.rejected"
    assert got.verified_by_core is True


async def test_via_api_prints_billogets_refusal_and_exits_1(emulator: RunningEmulator) -> None:
    key = await emulator.admin.create_key(scopes=["READ_BUDGETS"])

    run = await send("--via-api", "--api-key", key["key"], "--api-url", emulator.api_url)

    assert run.code == 1
    assert "403 insufficient_scope" in run.out


# -- sample data --------------------------------------------------------------------------------


@pytest.mark.parametrize("event", sorted(KNOWN_EVENTS))
def test_every_event_has_sample_data_that_makes_a_valid_envelope(event: str) -> None:
    data = sample_data(event)

    envelope = parse_envelope(envelope_bytes(event, data, delivery_id="dlv_1"))

    assert envelope.event == event
    assert envelope.entity_id is not None
    assert sample_data(event) is not data  # a fresh copy each time


def test_sample_data_refuses_an_unknown_event() -> None:
    with pytest.raises(KeyError, match="no sample"):
        sample_data("budget.exploded")
