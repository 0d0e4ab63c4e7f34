"""The workers' Prometheus metrics, added up across every worker process of a host.

Families: ``billoget_hooks_api_requests_total{status}`` (the Billoget API's answers: the HTTP
status, or ``timeout`` / ``connection_error``), ``billoget_hooks_api_budget_remaining`` (the
latest ``X-RateLimit-Remaining``), ``billoget_hooks_handler_duration_seconds{event}`` and
``billoget_hooks_outcomes_total{outcome}`` (``processed``, ``failed``, ``deferred``, ``dead``).

Several worker processes add up through prometheus_client's multiprocess mode: each process
(``billoget-hooks worker``, or every process Dramatiq's CLI forks) writes its values to files
named by its pid in ``WORKER_METRICS_DIR`` (by default ``worker-metrics`` beside the SQLite
store), and the receiver on the same host merges them into its ``/metrics``. The worker owns
the directory: :func:`enable_multiprocess` creates it and, when no process that wrote there is
alive any more (a cold start), empties it; a worker that stops removes its live gauge
(:func:`mark_stopped`). Counters of a worker that stopped while others run are kept, so the
sums never go down under a running system (Prometheus would take a drop for a reset).

On a host without a receiver, ``WORKER_METRICS_PORT`` makes the workers serve the same sums
themselves (:func:`serve_host_metrics`): the first worker to bind the port serves every worker
of the host; the others find it taken and leave it to that one.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
    values,
)

from core.events import KNOWN_EVENTS

log = logging.getLogger(__name__)

OUTCOMES = ("processed", "failed", "deferred", "dead")
OTHER_EVENT = "other"
HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_PID_FILE = re.compile(r"_(\d+)\.db$")


class WorkerMetrics:
    """The worker families on a registry of their own (values in files once multiprocess mode
    is on: see :func:`enable_multiprocess`)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.api_requests = Counter(
            "billoget_hooks_api_requests",
            "Billoget API answers by HTTP status (or timeout, connection_error).",
            ["status"],
            registry=self.registry,
        )
        self.api_budget_remaining = Gauge(
            "billoget_hooks_api_budget_remaining",
            "The latest X-RateLimit-Remaining Billoget sent (requests left in its window).",
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.handler_duration = Histogram(
            "billoget_hooks_handler_duration_seconds",
            "Time the handlers of one event took, by event type.",
            ["event"],
            buckets=HANDLER_BUCKETS,
            registry=self.registry,
        )
        outcomes = Counter(
            "billoget_hooks_outcomes",
            "Processing attempts by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self._outcomes = {name: outcomes.labels(outcome=name) for name in OUTCOMES}

    def api_answer(self, status: int | str) -> None:
        self.api_requests.labels(status=str(status)).inc()

    def budget_remaining(self, remaining: int) -> None:
        self.api_budget_remaining.set(remaining)

    def handled(self, event_type: str, seconds: float) -> None:
        label = event_type if event_type in KNOWN_EVENTS else OTHER_EVENT
        self.handler_duration.labels(event=label).observe(seconds)

    def outcome(self, kind: str) -> None:
        self._outcomes[kind].inc()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def enable_multiprocess(directory: Path) -> None:
    """Switch this process's metrics to files in ``directory`` (before any metric is made).

    prometheus_client reads the directory from ``PROMETHEUS_MULTIPROC_DIR`` when it opens a
    file, and picks its value class when first imported: both are set here, in the worker's
    entry point, so no other process is affected.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = [p for p in directory.glob("*.db") if _PID_FILE.search(p.name)]
    pids = {int(m.group(1)) for p in files if (m := _PID_FILE.search(p.name))}
    if files and not any(_pid_alive(pid) for pid in pids if pid != os.getpid()):
        # cold start: only the files listed now, all of dead processes (a worker starting at
        # the same moment creates its own afterwards and keeps it)
        for path in files:
            path.unlink(missing_ok=True)
        log.info("worker metrics: emptied %s (no worker that wrote there is running)", directory)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.MultiProcessValue()


def mark_stopped(directory: Path) -> None:
    """This worker process stops: drop its live gauge files (its counters stay, see above)."""
    multiprocess.mark_process_dead(os.getpid(), str(directory))


def serve_host_metrics(directory: Path, *, port: int, host: str = "0.0.0.0") -> bool:  # noqa: S104
    """Serve every worker's files in ``directory`` at ``http://host:port/metrics`` from a
    thread; False when another process of the host already serves that port."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError:
        log.info("worker metrics: port %d is taken (another worker serves this host)", port)
        return False
    log.info("worker metrics: serving this host's workers on port %d", port)
    return True
