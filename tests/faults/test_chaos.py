"""Chaos with default settings: while the emulator sends a seeded history of changes (some
deliveries twice, batches out of order), the receiver and the worker are killed -9 twice each
and Redis restarts empty once. Every delivery answered 2xx ends processed, the mirror equals
the emulator's state, and no log holds a secret."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from billoget_hooks.procs import wait_until
from core.store.sqlite.mirror import SQLiteMirrorStore
from tests.fixtures.logscan import find_leaks
from tests.fixtures.mirror import mirror_problems, next_change
from tests.fixtures.stack import MakeStack, Stack, report_fault

SEED = 15
# Fewer changes than issue 15's run (1,500): each change the mirror has not seen costs an API
# fetch, and the default budget (1,000 calls an hour, paced below 100 left) must not be the
# bottleneck of a test of Redis and process faults
CHANGES = 700
START_ENTITIES = {"customer": 25, "product": 20, "budget": 15}
PAUSE_S = 0.005
DONE_TIMEOUT_S = 180.0
# the emulator retries a refused delivery after 0.05, 3, 18 and 72 s (Billoget's schedule at
# time factor 0.01): a receiver slow to start on a loaded machine can push one to the 4th
SETTLE_TIMEOUT_S = 150.0


def _faults(stack: Stack, rng: random.Random) -> dict[int, tuple[str, Callable[[], None]]]:
    """At which change each fault strikes (seeded), and what it does."""
    assert stack.worker is not None
    worker = stack.worker

    def kill_receiver() -> None:
        stack.receiver.kill9()
        time.sleep(rng.uniform(0.3, 1.5))
        stack.receiver.start()

    def kill_worker() -> None:
        worker.kill9()
        worker.start()

    def restart_redis() -> None:
        stack.redis.stop()  # no persistence: it comes back empty
        time.sleep(rng.uniform(1.0, 3.0))
        stack.redis.start()

    plan = [
        ("receiver-kill9", kill_receiver),
        ("worker-kill9", kill_worker),
        ("redis-restart-empty", restart_redis),
        ("worker-kill9", kill_worker),
        ("receiver-kill9", kill_receiver),
    ]
    moments = sorted(rng.sample(range(CHANGES // 10, CHANGES * 9 // 10), len(plan)))
    return dict(zip(moments, plan, strict=True))


def _history(
    stack: Stack, rng: random.Random, faults: dict[int, tuple[str, Callable[[], None]]]
) -> list[str]:
    """Make the changes, striking each fault at its moment; the faults struck, in order."""
    live: dict[str, list[int]] = {family: [] for family in START_ENTITIES}
    for family, count in START_ENTITIES.items():
        for _ in range(count):
            live[family].append(_change(stack, f"{family}.created")["data"]["id"])
    struck = []
    for n in range(CHANGES):
        if n in faults:
            name, strike = faults[n]
            strike()
            struck.append(name)
        event, entity_id = next_change(rng, live)
        answer = _change(stack, event, entity_id)
        if entity_id is None:
            live[event.split(".", 1)[0]].append(answer["data"]["id"])
        time.sleep(PAUSE_S)
    return struck


def _change(stack: Stack, event: str, entity_id: int | None = None) -> dict[str, Any]:
    """One change through the emulator's admin API: its answer (``data`` is the entity)."""
    answer: dict[str, Any] = stack.admin(lambda a: a.trigger(event, entity_id))
    return answer


@pytest.mark.slow
def test_chaos_with_default_settings_loses_nothing_and_the_mirror_equals_billoget(
    make_stack: MakeStack,
) -> None:
    rng = random.Random(SEED)
    stack = make_stack(fast_worker=False)  # every relay and worker setting at its default
    assert stack.worker is not None
    # a slow API keeps events in the workers' hands, so the kills catch some there
    stack.set_faults(delivery_duplicate_rate=0.15, delivery_out_of_order=True, api_latency_ms=100)
    started = time.monotonic()
    struck = _history(stack, rng, _faults(stack, rng))
    stack.clear_faults()  # the held out-of-order batch goes out too

    def settled() -> bool:
        return all(d["state"] in ("delivered", "failed") for d in stack.deliveries())

    wait_until(
        settled, timeout_s=SETTLE_TIMEOUT_S, interval_s=0.5, what="the emulator done delivering"
    )
    deliveries = stack.deliveries()
    answered = [d["id"] for d in deliveries if d["state"] == "delivered"]
    assert len(answered) == len(deliveries), "the emulator gave up on a delivery"
    stack.wait_done(answered, timeout_s=DONE_TIMEOUT_S, what="every delivery answered 2xx done")
    stored, processed, dead = stack.counts(answered)
    duplicates = sum(1 for d in deliveries for a in d["attempts"] if a.get("duplicate"))
    api_calls = len(stack.api_requests())
    redelivered = sum(
        1 for d in deliveries if sum(not a.get("duplicate") for a in d["attempts"]) > 1
    )
    again = sum(1 for _, attempts, _ in stack.rows(answered).values() if attempts > 1)
    report_fault(
        "chaos",
        sent=len(deliveries),
        ok=len(answered),
        stored=stored,
        processed=processed,
        dead=dead,
    )
    print(
        f"  (seed {SEED}; faults {', '.join(struck)}; duplicate posts {duplicates}; "
        f"retried by the emulator {redelivered}; processed more than once {again}; "
        f"API calls {api_calls}; "
        f"{time.monotonic() - started:.0f} s)"
    )
    assert len(answered) == stored == processed and dead == 0

    mirror = SQLiteMirrorStore(stack.db_path)
    try:
        assert mirror_problems(stack.admin(lambda a: a.state()), mirror) == []
    finally:
        mirror.close()
    known = [stack.secret.removeprefix("whsec_"), stack.api_key]
    for proc in stack.processes.procs:
        if proc.name in ("receiver", "worker"):
            lines = proc.log_path.read_text(errors="replace").splitlines()
            assert find_leaks(lines, known=known) == [], f"a secret in {proc.log_path.name}"
