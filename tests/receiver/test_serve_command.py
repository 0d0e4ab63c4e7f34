"""``billoget-hooks serve``: the real command, as the Procfile runs it."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import standardwebhooks

from billoget_hooks.cli import main
from billoget_hooks.procs import free_port
from core.store.sqlite.store import SQLiteEventStore
from tests.fixtures.infra import TEST_SECRET
from tests.fixtures.procs import ProcessFactory
from tests.fixtures.receiver import envelope, eventually, queued_messages


def test_serve_without_a_webhook_secret_stops_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("BILLOGET_WEBHOOK_SECRET", raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "BILLOGET_WEBHOOK_SECRET is not set" in err[0]


def test_serve_names_every_signature_setting_mistake_on_a_line_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BILLOGET_WEBHOOK_SECRET", TEST_SECRET)
    monkeypatch.setenv("BILLOGET_SIGNATURE_SCHEME", "hmac-sha256")
    monkeypatch.setenv("BILLOGET_SIGNED_CONTENT", "{id}.{body}")
    monkeypatch.setenv("BILLOGET_SIGNATURE_HEADER", "not a header")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert all(line.startswith("billoget-hooks: configuration error: ") for line in err)
    assert "BILLOGET_SIGNATURE_HEADER must be an HTTP header name" in err[0]
    assert "BILLOGET_SIGNED_CONTENT signs {id}: set BILLOGET_ID_HEADER" in err[1]


def test_serve_refuses_a_setting_the_chosen_scheme_does_not_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BILLOGET_WEBHOOK_SECRET", TEST_SECRET)
    monkeypatch.delenv("BILLOGET_SIGNATURE_SCHEME", raising=False)
    monkeypatch.setenv("BILLOGET_SIGNATURE_PREFIX", "sha256=")
    assert main(["serve"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "BILLOGET_SIGNATURE_PREFIX does not apply to BILLOGET_SIGNATURE_SCHEME=" in line
    assert "standard-webhooks" in line and "hmac-sha256" in line


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


async def test_serve_stores_and_enqueues_a_delivery_signed_by_standardwebhooks(
    processes: ProcessFactory,
    tmp_path: Path,
    receiver_redis_url: str,
    receiver_redis: redis.Redis,
) -> None:
    port, db = free_port(), tmp_path / "served.db"
    env = {
        "BILLOGET_WEBHOOK_SECRET": TEST_SECRET,
        "DATABASE_URL": f"sqlite:///{db}",
        "REDIS_URL": receiver_redis_url,
        "LOG_LEVEL": "INFO",
    }
    processes.cli(
        "receiver", "serve", "--host", "127.0.0.1", "--port", str(port), port=port, env=env
    ).start()
    body = envelope("dlv_served_1")
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "dlv_served_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(TEST_SECRET).sign(
            "dlv_served_1", now, body.decode()
        ),
        "content-type": "application/json",
    }
    url = f"http://127.0.0.1:{port}/webhooks/billoget"
    status, answer = await asyncio.to_thread(_post, url, body, headers)
    assert (status, answer["duplicate"]) == (200, False)
    await eventually(lambda: len(queued_messages(receiver_redis)) == 1, what="the message")
    store = SQLiteEventStore(db)
    try:
        row = store.get("dlv_served_1")
        assert row is not None and row.body == body
    finally:
        store.close()


async def test_serve_freezes_its_start_up_objects_out_of_the_garbage_collector(
    processes: ProcessFactory, tmp_path: Path, receiver_redis_url: str
) -> None:
    """A full collection walks every tracked object: without the freeze, one took 38 ms at
    1,000 deliveries/s (core/heap.py)."""
    port = free_port()
    env = {
        "BILLOGET_WEBHOOK_SECRET": TEST_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'frozen.db'}",
        "REDIS_URL": receiver_redis_url,
        "LOG_LEVEL": "DEBUG",
        "SELFCHECK_ON_START": "false",
    }
    proc = processes.cli(
        "receiver", "serve", "--host", "127.0.0.1", "--port", str(port), port=port, env=env
    ).start()
    line = next(
        (ln for ln in proc.log_tail(400).splitlines() if "start-up objects frozen" in ln), ""
    )
    frozen = re.search(r"(\d+) start-up objects frozen", line)
    assert frozen is not None, proc.log_tail()
    assert int(frozen.group(1)) > 10_000  # aiohttp, pydantic, prometheus_client: ~95,000
