"""The benchmarks still run: each one, shrunk to a few seconds, end to end on real processes.

They are not timed here (speed is what they print, on a quiet machine); this only proves every
phase runs, the figures and targets are printed and nothing sent was lost, so a change elsewhere
(the emulator's admin API, a setting, a CLI flag) cannot leave a benchmark broken unnoticed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, timeout_s: float) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def test_bench_ingest_runs_every_phase_loses_nothing_and_prints_its_five_targets(
    redis_url: str,
) -> None:
    out = _run(
        "bench_ingest.py",
        *("--duration", "0.5", "--rounds", "1", "--rate", "200", "--connections", "8"),
        *("--fsync-samples", "20", "--loop", "asyncio", "--redis-url", redis_url),
        *("--workers-rounds", "1", "--workers-events", "40"),
        timeout_s=300,
    )
    assert re.search(r"store disk fsync .* p99 [\d.]+ ms", out), out
    for phase in (
        "(a) bare aiohttp, saturation #1",
        "(b) receiver, saturation #1",
        "(d) naive peer, saturation #1",
        "(a) bare aiohttp at 200/s #1",
        "(b) receiver at 200/s #1",
    ):
        assert phase in out, out
    assert "non-200" not in out, out
    assert re.search(r"\(e\) workers: .*\n.*round 1: no-op +\d+/s, end to end", out), out
    stored = re.search(r"stored rows (\d+) \{'queued': (\d+)\} for (\d+) answered 200", out)
    assert stored is not None, out
    assert stored.group(1) == stored.group(2) == stored.group(3), out  # every 200 is queued
    targets = out.split("targets (medians of this run)", 1)[1]
    for target in (
        "CPU per delivery at 200/s vs at saturation",
        "p99 at 200/s",
        "saturation req/s vs bare aiohttp",
        "saturation req/s vs the naive peer",
        "workers end to end vs the no-op drain",
    ):
        assert re.search(rf"(met|NOT met) +{re.escape(target)}", targets), targets


def test_bench_e2e_runs_every_phase_and_prints_its_ratios(redis_url: str) -> None:
    out = _run(
        "bench_e2e.py",
        *("--events", "60", "--entities", "5", "--catalogue", "30", "--warmup", "10"),
        *("--rounds", "1", "--threads", "2", "--timeout-s", "60", "--budget-s", "200"),
        *("--redis-url", redis_url),
        timeout_s=240,
    )
    assert re.search(r"dramatiq no-op drain: +\d+ events/s", out), out
    assert re.search(r"end to end, no API call: +\d+ events/s \(ratio [\d.]+", out), out
    assert re.search(r"end to end, burst: .* 60 events over 5 entities -> \d+ API calls", out), out
    assert re.search(r"burst, full payloads: .* -> 0 API calls, 0 x 429", out), out
    assert re.search(r"burst, thin payloads: .* -> \d+ API calls, 0 x 429", out), out
