"""``LOG_FORMAT=json billoget-hooks dev``: the services print only JSON lines, and the
receiver's ``/metrics`` shows every family with values after the demo."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from tests.billoget_hooks.test_devstack import dev_argv, dev_env, read_until_up
from tests.fixtures.procs import free_port
from tests.fixtures.stack import http_json

FAMILIES = (
    "billoget_hooks_deliveries",
    "billoget_hooks_signature_matches",
    "billoget_hooks_clock_skew_seconds",
    "billoget_hooks_commit_duration_seconds",
    "billoget_hooks_commit_batch_size",
    "billoget_hooks_events",
    "billoget_hooks_last_delivery_timestamp_seconds",
    "billoget_hooks_api_requests",
    "billoget_hooks_api_budget_remaining",
    "billoget_hooks_handler_duration_seconds",
    "billoget_hooks_outcomes",
)
SERVICES = {"receiver", "worker", "emulator", "redis"}


def wait_for_families(port: int, *, timeout_s: float = 15.0) -> dict[str, Metric]:
    """Scrape until every family has a value above 0 (bounded); the last scrape."""
    deadline = time.monotonic() + timeout_s
    while True:
        status, _, text = http_json("GET", f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        families = {f.name: f for f in text_string_to_metric_families(text)}
        if all(any(s.value > 0 for s in families[n].samples) for n in FAMILIES if n in families):
            return families
        if time.monotonic() > deadline:
            return families
        time.sleep(0.5)


def is_dev_line(line: str) -> bool:
    """The dev command's own words to the person at the terminal (not a service's log)."""
    return line.startswith(("==>", "    ", "!!")) or not line.strip()


@pytest.mark.slow
def test_dev_in_json_shows_every_metric_family_and_only_json_service_lines(
    tmp_path: Path,
) -> None:
    receiver_port, emulator_port = free_port(), free_port()
    proc = subprocess.Popen(
        dev_argv(tmp_path / "data", receiver_port, emulator_port),
        env=dev_env() | {"LOG_FORMAT": "json"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = read_until_up(proc)
        # the store's gauges are cached for a moment: the demo may have ended within it
        families = wait_for_families(receiver_port)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest[-3000:]

    for name in FAMILIES:
        assert name in families, name
        assert any(s.value > 0 for s in families[name].samples), f"{name} is all zeros"
    assert "billoget_hooks_oldest_unprocessed_age_seconds" in families  # 0: nothing waits

    seen = set()
    for line in lines + rest.splitlines():
        if is_dev_line(line):
            continue
        record = json.loads(line)  # a service line is one JSON object
        assert {"time", "level", "logger", "message", "process"} <= set(record), line
        seen.add(record["process"])
    assert {"receiver", "worker"} <= seen <= SERVICES
