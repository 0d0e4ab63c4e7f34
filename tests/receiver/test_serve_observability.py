"""The ``billoget-hooks serve`` process with ``LOG_FORMAT=json`` and a silence alert: only JSON
lines, delivery lines carry the delivery id, and the silence is logged once."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from core.samples import envelope_bytes
from core.signing import sign_headers
from core.store.sqlite.store import SQLiteEventStore
from receiver.views import WEBHOOK_PATH
from tests.fixtures.infra import TEST_SECRET
from tests.fixtures.procs import ProcessFactory, free_port, wait_until
from tests.fixtures.receiver import record_selfcheck
from tests.fixtures.stack import http_json


def json_lines(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            assert isinstance(record, dict), line
            records.append(record)
    return records


@pytest.mark.slow
def test_serve_logs_json_lines_and_the_silence_once(
    processes: ProcessFactory, tmp_path: Path
) -> None:
    db = tmp_path / "events.db"
    store = SQLiteEventStore(db)
    store.migrate()
    record_selfcheck(store)
    store.close()
    redis = processes.redis().start()
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{db}",
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "BILLOGET_WEBHOOK_SECRET": TEST_SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SELFCHECK_ON_START": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        "SILENCE_ALERT_AFTER_S": "1",
        "ALERT_CHECK_INTERVAL_S": "0.1",
    }
    receiver = processes.cli("receiver", "serve", port=port, env=env).start()
    base = f"http://127.0.0.1:{port}"
    body = envelope_bytes("budget.approved", {"id": 7}, delivery_id="dlv_json_1")
    headers = sign_headers(TEST_SECRET, "dlv_json_1", body)
    assert http_json("POST", base + WEBHOOK_PATH, raw=body, headers=headers)[0] == 200
    forged = sign_headers(TEST_SECRET, "dlv_json_2", body)
    assert http_json("POST", base + WEBHOOK_PATH, raw=body + b" ", headers=forged)[0] == 401

    def silence_since() -> float | None:
        _, _, ready = http_json("GET", base + "/readyz")
        found = [w for w in ready["warnings"] if w["alert"] == "silence"]
        return found[0]["since"] if found else None

    wait_until(lambda: silence_since() is not None, timeout_s=15, what="the silence warning")
    since = silence_since()
    assert since is not None
    # the alert holds for ten more ticks: still one line
    wait_until(lambda: time.time() - since > 1.0, timeout_s=5, what="ten more ticks")
    assert silence_since() == since
    receiver.stop()

    records = json_lines(receiver.log_path)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    silence = [r for r in records if r["message"].startswith("alert silence:")]
    assert len(silence) == 1 and silence[0]["level"] == "WARNING"
    refused = [r for r in records if r.get("delivery_id") == "dlv_json_2"]
    assert refused and "rejected: 401" in refused[0]["message"]
    assert any(
        r.get("delivery_id") == "dlv_json_1" and r.get("event") == "budget.approved"
        for r in records
    )
