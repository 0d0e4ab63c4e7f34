"""``billoget-hooks worker``: the real command, as the Procfile runs it."""

from __future__ import annotations

import re
from pathlib import Path

from billoget_hooks.procs import wait_until
from tests.fixtures.infra import TEST_SECRET
from tests.fixtures.procs import ProcessFactory


def test_worker_freezes_its_start_up_objects_out_of_the_garbage_collector(
    processes: ProcessFactory, tmp_path: Path, redis_url: str
) -> None:
    """A full collection walks every tracked object; the freeze leaves it only what events
    allocate (core/heap.py)."""
    env = {
        "BILLOGET_WEBHOOK_SECRET": TEST_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'frozen.db'}",
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "DEBUG",
    }
    proc = processes.cli("worker", "worker", env=env).start()
    pattern = re.compile(r"(\d+) start-up objects frozen")
    wait_until(
        lambda: pattern.search(proc.log_tail(400)) is not None or not proc.alive,
        timeout_s=30,
        what="the worker to freeze its start-up objects",
    )
    frozen = pattern.search(proc.log_tail(400))
    assert frozen is not None, proc.log_tail()
    assert int(frozen.group(1)) > 10_000  # dramatiq, redis, aiohttp, pydantic
