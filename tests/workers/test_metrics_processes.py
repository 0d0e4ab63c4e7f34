"""Worker metrics from several real ``billoget-hooks worker`` processes add up on the
receiver's ``/metrics`` (prometheus_client's multiprocess files in ``WORKER_METRICS_DIR``),
with the emulator as Billoget and every process logging JSON lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.procs import Proc, free_port, wait_until
from tests.fixtures.stack import FAST_WORKER_ENV, MakeStack, Stack, http_json

JSON_LOGS = {"LOG_FORMAT": "json"}
_PID = re.compile(r"_(\d+)\.db$")


def scrape(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, _, text = http_json("GET", f"{stack.receiver_url}/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def processed_by(directory: Path, pid: int) -> float:
    """``outcomes_total{outcome="processed"}`` in one process's own file."""
    files = [str(p) for p in directory.glob(f"counter_{pid}.db")]
    return sum(
        s.value
        for metric in MultiProcessCollector.merge(files)
        for s in metric.samples
        if s.name == "billoget_hooks_outcomes_total" and s.labels.get("outcome") == "processed"
    )


def assert_json_lines(proc: Proc) -> None:
    lines = [line for line in proc.log_path.read_text().splitlines() if line.strip()]
    assert lines, f"{proc.name} wrote nothing"
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert isinstance(record, dict)
        assert {"time", "level", "logger", "message"} <= set(record), line


@pytest.mark.slow
def test_two_worker_processes_add_up_on_the_receivers_metrics(make_stack: MakeStack) -> None:
    port = free_port()
    worker_env = {**JSON_LOGS, "WORKER_METRICS_PORT": str(port)}
    stack = make_stack(worker_env=worker_env, receiver_env=JSON_LOGS)
    assert stack.worker is not None and stack.worker.popen is not None
    second = stack.processes.cli(
        "worker", "worker", env={**stack.env, **FAST_WORKER_ENV, **worker_env}
    ).start()
    wait_until(
        lambda: "worker started" in second.log_path.read_text(errors="replace"),
        timeout_s=20,
        what="the second worker started",
    )
    ids = [d for _ in range(16) for d in stack.trigger("customer.created")]
    stack.wait_done(ids, timeout_s=45, what="events processed by two workers")
    _, processed, _ = stack.counts(ids)

    wait_until(
        lambda: total(scrape(stack), "billoget_hooks_outcomes_total") >= processed,
        timeout_s=10,
        what="the outcomes on /metrics",
    )
    samples = scrape(stack)
    outcomes = {
        dict(labels).get("outcome"): v
        for (name, labels), v in samples.items()
        if name == "billoget_hooks_outcomes_total"
    }
    assert outcomes["processed"] == processed
    assert outcomes["dead"] == 0
    handled = total(samples, "billoget_hooks_handler_duration_seconds_count")
    assert handled == processed
    by_event = (("event", "customer.created"),)
    assert samples[("billoget_hooks_handler_duration_seconds_count", by_event)] == processed
    answered_200 = [c for c in stack.api_requests() if c.get("status") == 200]
    assert answered_200
    assert samples[("billoget_hooks_api_requests_total", (("status", "200"),))] == len(answered_200)
    assert 0 < samples[("billoget_hooks_api_budget_remaining", ())] <= 1000

    # WORKER_METRICS_PORT: the first worker serves the host's sums, the second leaves it to it
    status, _, text = http_json("GET", f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    served = {
        s.labels["outcome"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "billoget_hooks_outcomes_total"
    }
    assert served["processed"] == processed
    logs = stack.worker.log_path.read_text() + second.log_path.read_text()
    assert logs.count("serving this host's workers on port") == 1
    assert logs.count(f"port {port} is taken") == 1

    directory = stack.root / "worker-metrics"
    pids = [stack.worker.popen.pid, second.popen.pid]  # type: ignore[union-attr]
    assert sum(processed_by(directory, pid) for pid in pids) == processed

    second.stop()  # a clean stop keeps its counters: the sums do not go down
    assert not list(directory.glob(f"gauge_livemostrecent_{pids[1]}.db"))
    after = scrape(stack)
    assert total(after, "billoget_hooks_outcomes_total") == total(
        samples, "billoget_hooks_outcomes_total"
    )
    for proc in (stack.receiver, stack.worker, second):
        assert_json_lines(proc)
