"""``billoget-hooks worker``: run the Dramatiq worker with our broker and actor.

Equivalent with Dramatiq's CLI: ``dramatiq workers.dramatiq_app --threads 8``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

import dramatiq

from core.heap import freeze_startup_heap
from core.logs import configure_logging
from core.queue import QUEUE_NAME
from core.settings import Settings, load_settings
from workers.actors import declare_actor
from workers.broker import build_broker
from workers.metrics import enable_multiprocess, mark_stopped, serve_host_metrics
from workers.runtime import WorkerRuntime

log = logging.getLogger(__name__)

# Dramatiq's consumer polls an empty queue with a backoff of up to this: an event arriving at an
# idle worker waited up to 1 s with Dramatiq's default; 100 ms costs ~10 Redis polls/s when idle.
WORKER_TIMEOUT_MS = 100
STOP_TIMEOUT_MS = 30_000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="Process stored webhook events (Dramatiq worker).",
        description="Process stored Billoget events: route to handlers, mirror, retry.",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="Events handled at once (default: WORKER_THREADS, 8).",
    )
    parser.set_defaults(func=run)


def start_worker(settings: Settings, *, threads: int) -> tuple[dramatiq.Worker, WorkerRuntime]:
    """A started worker on our broker, with its runtime (for tests and the command)."""
    broker = build_broker(settings)
    runtime = WorkerRuntime(settings, broker=broker)
    declare_actor(broker, runtime)
    worker = dramatiq.Worker(
        broker, queues={QUEUE_NAME}, worker_threads=threads, worker_timeout=WORKER_TIMEOUT_MS
    )
    worker.start()
    return worker, runtime


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, fmt=settings.log_format)
    threads = args.threads or settings.worker_threads
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: finishing the events in hand", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    metrics_dir = settings.worker_metrics_path()
    if metrics_dir is not None:
        enable_multiprocess(metrics_dir)
        if settings.worker_metrics_port is not None:
            serve_host_metrics(metrics_dir, port=settings.worker_metrics_port, host=settings.host)
    worker, _ = start_worker(settings, threads=threads)
    log.info("worker started: %d threads on queue %s", threads, QUEUE_NAME)
    log.debug("%d start-up objects frozen out of the garbage collector", freeze_startup_heap())
    try:
        stop.wait()
    finally:
        worker.stop(timeout=STOP_TIMEOUT_MS)
        worker.broker.close()
        if metrics_dir is not None:
            mark_stopped(metrics_dir)
    log.info("worker stopped")
    return 0
