"""``billoget-hooks events list|show|replay`` and ``selfcheck`` on a real SQLite file and Redis."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from dramatiq.brokers.stub import StubBroker

from billoget_hooks.cli import main
from billoget_hooks.procs import Proc, free_port
from core.queue import QUEUE_NAME
from core.samples import envelope_bytes, sample_data
from core.store import NewDelivery, Status
from core.store.sqlite.store import SQLiteEventStore
from tests.fixtures.emulator import RunningEmulator, emulator, emulator_factory, http_session
from tests.fixtures.infra import TEST_SECRET
from tests.fixtures.receiver import MakeReceiver, redis_url_of

__all__ = ["emulator", "emulator_factory", "http_session"]

MESSAGES_KEY = f"dramatiq:{QUEUE_NAME}.msgs"
Cli = Callable[..., tuple[int, str, str]]


def delivery(n: int, event: str = "budget.approved") -> NewDelivery:
    delivery_id = f"dlv_{n:04d}"
    return NewDelivery(
        delivery_id=delivery_id,
        event_type=event,
        event_timestamp="2025-03-14T09:26:53.000000Z",
        webhook_timestamp=1_700_000_000,
        body=envelope_bytes(event, sample_data(event), delivery_id=delivery_id),
    )


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_path: Path, redis_url: str
) -> dict[str, str]:
    """The CLI's environment: the test store and Redis, nothing from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("BILLOGET_") or name in ("DATABASE_URL", "REDIS_URL", "PORT", "HOST"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    values = {"DATABASE_URL": f"sqlite:///{db_path}", "REDIS_URL": redis_url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def cli(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def queue_redis(
    private_redis: Proc, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> Iterator[redis.Redis]:
    """A Redis of this test's own (other suites may share the common one), as REDIS_URL."""
    url = redis_url_of(private_redis)
    monkeypatch.setenv("REDIS_URL", url)
    client = redis.Redis.from_url(url)
    yield client
    client.close()


@pytest.fixture
def filled(store: SQLiteEventStore) -> SQLiteEventStore:
    store.insert_batch([delivery(1), delivery(2, "customer.created"), delivery(3)])
    store.mark_processed("dlv_0001", outcome="mirrored")
    store.mark_dead("dlv_0003", reason="ValueError: budget has no customer")
    return store


# -- events list / show ---------------------------------------------------------------------------


def test_events_list_prints_a_table_newest_first(cli: Cli, filled: SQLiteEventStore) -> None:
    code, out, _ = cli("events", "list")

    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.split() == ["DELIVERY", "ID", "EVENT", "STATUS", "TRIES", "RECEIVED", "(UTC)",
                              "ERROR", "/", "OUTCOME"]  # fmt: skip
    assert len(rows) == 3
    assert any("dlv_0003" in r and "dead" in r and "budget has no customer" in r for r in rows)
    assert any("dlv_0001" in r and "processed" in r and "mirrored" in r for r in rows)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--status", "dead"), {"dlv_0003"}),
        (("--event", "customer.created"), {"dlv_0002"}),
        (("--since", "1h"), {"dlv_0001", "dlv_0002", "dlv_0003"}),
        (("--since", "2999-01-01T00:00:00"), set()),
        (("--limit", "1"), None),
    ],
)
def test_events_list_filters(
    cli: Cli, filled: SQLiteEventStore, args: tuple[str, ...], expected: set[str] | None
) -> None:
    code, out, _ = cli("events", "list", "--json", *args)

    assert code == 0
    ids = {json.loads(line)["delivery_id"] for line in out.splitlines()}
    if expected is None:
        assert len(ids) == 1
    else:
        assert ids == expected


def test_events_list_without_a_store_says_where_it_looked(cli: Cli, db_path: Path) -> None:
    code, _, err = cli("events", "list")

    assert code == 2
    assert f"no event store at {db_path}" in err
    assert not db_path.exists()


def test_events_list_refuses_a_bad_since(cli: Cli, filled: SQLiteEventStore) -> None:
    code, _, err = cli("events", "list", "--since", "yesterday")

    assert code == 2
    assert "neither an ISO-8601 time nor a duration" in err


def test_events_show_prints_every_field_and_the_body(cli: Cli, filled: SQLiteEventStore) -> None:
    code, out, _ = cli("events", "show", "dlv_0003")

    assert code == 0
    assert "status" in out and "dead" in out
    assert "ValueError: budget has no customer" in out
    assert '"publicToken": "q3Zb7nV0cK2mX9pLr4TsWe1y"' in out  # pretty-printed body


def test_events_show_json_has_the_parsed_body(cli: Cli, filled: SQLiteEventStore) -> None:
    code, out, _ = cli("events", "show", "dlv_0002", "--json")

    data = json.loads(out)
    assert code == 0
    assert data["event"] == "customer.created"
    assert data["body"]["data"]["email"] == "ana@example.com"


def test_events_show_an_unknown_id_exits_1(cli: Cli, filled: SQLiteEventStore) -> None:
    code, _, err = cli("events", "show", "dlv_nope")

    assert code == 1
    assert "no event with delivery id 'dlv_nope'" in err


# -- events replay --------------------------------------------------------------------------------


def test_events_replay_requeues_and_enqueues_by_id(
    cli: Cli, filled: SQLiteEventStore, queue_redis: redis.Redis
) -> None:
    code, out, _ = cli("events", "replay", "dlv_0003")

    assert code == 0
    assert "replayed 1 event(s); 1 on the queue now" in out
    event = filled.get("dlv_0003")
    assert event is not None
    assert event.status is Status.QUEUED
    assert event.attempts == 0
    [raw] = queue_redis.hvals(MESSAGES_KEY)
    message = json.loads(raw)
    assert message["args"] == ["dlv_0003"]
    assert message["kwargs"] == {"event_type": "budget.approved"}


def test_events_replay_an_unknown_id_changes_nothing_and_exits_1(
    cli: Cli, filled: SQLiteEventStore, queue_redis: redis.Redis
) -> None:
    code, _, err = cli("events", "replay", "dlv_0003", "dlv_nope")

    assert code == 1
    assert "unknown delivery id(s): dlv_nope" in err
    event = filled.get("dlv_0003")
    assert event is not None and event.status is Status.DEAD
    assert queue_redis.hlen(MESSAGES_KEY) == 0


def test_events_replay_dead_replays_only_the_dead_with_progress(
    cli: Cli, store: SQLiteEventStore, queue_redis: redis.Redis
) -> None:
    store.insert_batch([delivery(n) for n in range(130)])
    for n in range(120):
        store.mark_dead(f"dlv_{n:04d}", reason="boom")

    code, out, _ = cli("events", "replay", "--status", "dead", "--since", "1h")

    assert code == 0
    assert "  100/120 requeued" in out
    assert "  120/120 requeued" in out
    assert "replayed 120 event(s); 120 on the queue now" in out
    assert queue_redis.hlen(MESSAGES_KEY) == 120
    assert store.counts()["dead"] == 0


def test_events_replay_with_redis_down_leaves_them_for_the_sweeper(
    cli: Cli, filled: SQLiteEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")

    code, out, _ = cli("events", "replay", "dlv_0003")

    assert code == 0
    assert "the receiver's sweeper relays them once Redis answers" in out
    event = filled.get("dlv_0003")
    assert event is not None and event.status is Status.RECEIVED


@pytest.mark.parametrize(
    "args",
    [(), ("dlv_0001", "--status", "dead"), ("dlv_0001", "--since", "1h")],
)
def test_events_replay_needs_ids_or_a_status(
    cli: Cli, filled: SQLiteEventStore, args: tuple[str, ...]
) -> None:
    code, _, err = cli("events", "replay", *args)

    assert code == 1
    assert err


# -- selfcheck ------------------------------------------------------------------------------------


def test_selfcheck_without_configuration_exits_1_with_the_diagnosis(cli: Cli) -> None:
    code, out, _ = cli("selfcheck")

    assert code == 1
    assert "✗ configuration: BILLOGET_WEBHOOK_SECRET is not set" in out
    assert "BILLOGET_API_KEY is not set" in out
    assert out.strip().endswith("self-check FAILED (0 of 4 checks ok)")


def test_selfcheck_json_with_an_invalid_setting_is_still_a_report(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLOGET_WEBHOOK_SECRET", "not-a-secret")

    code, out, _ = cli("selfcheck", "--json")

    report = json.loads(out)
    assert code == 1
    assert report["ok"] is False
    assert "BILLOGET_WEBHOOK_SECRET" in report["checks"][0]["summary"]


async def test_selfcheck_command_passes_against_a_receiver_in_another_process(
    env: dict[str, str],
    emulator: RunningEmulator,
    make_receiver: MakeReceiver,
    store: SQLiteEventStore,
) -> None:
    client = await make_receiver(store=store, broker=StubBroker())
    url = str(client.make_url("/webhooks/billoget"))
    key = await emulator.admin.create_key(webhookUrl=url, webhookSecret=TEST_SECRET)
    child_env = os.environ | {
        "BILLOGET_API_URL": emulator.api_url,
        "BILLOGET_API_KEY": key["key"],
        "BILLOGET_WEBHOOK_SECRET": TEST_SECRET,
        "BILLOGET_PUBLIC_URL": url,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "billoget_hooks.cli", "selfcheck", "--json", "--wait", "10",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=child_env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)

    assert proc.returncode == 0, (out, err)
    report = json.loads(out)
    assert report["ok"] is True
    assert report["latency_ms"] is not None
    assert store.last_selfcheck() is not None
    assert key["key"] not in out.decode() + err.decode()


def test_events_replay_skips_selfcheck_deliveries(
    cli: Cli, store: SQLiteEventStore, queue_redis: redis.Redis
) -> None:
    store.insert_batch([replace(delivery(9, "customer.created"), selfcheck_nonce="sc_1")])

    code, out, _ = cli("events", "replay", "dlv_0009")

    assert code == 0
    assert "skipping 1 self-check delivery(ies)" in out
    assert "nothing to replay" in out
    event = store.get("dlv_0009")
    assert event is not None and event.status is Status.PROCESSED
    assert queue_redis.hlen(MESSAGES_KEY) == 0
