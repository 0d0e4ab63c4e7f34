"""Faults on a PostgreSQL store, on real processes: several receivers and workers share one
database; one of them dies, or the database goes away for a while. Nothing answered 2xx is
lost, every delivery is stored once and processed, every effect happens once."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from billoget_hooks.procs import cli_argv
from core.samples import envelope_bytes
from core.signing import sign_headers
from core.store import NewDelivery
from core.store.postgres import PostgresEventStore
from receiver.views import WEBHOOK_PATH
from tests.fixtures.postgres import start_private_cluster
from tests.fixtures.procs import Proc, wait_until
from tests.fixtures.stack import FAST_SWEEP, MakeStack, Stack, http_json, report_fault

SENDER_DEADLINE_S = 60.0


def post(stack: Stack, to: Proc, delivery_id: str) -> tuple[int | None, dict[str, str]]:
    """One signed POST of a ``ping.fault`` event; (status or None without an answer, headers)."""
    body = envelope_bytes("ping.fault", {"id": 1}, delivery_id=delivery_id)
    headers = sign_headers(stack.secret, delivery_id, body) | {"Content-Type": "application/json"}
    try:
        status, got, _ = http_json(
            "POST", f"http://127.0.0.1:{to.port}{WEBHOOK_PATH}", raw=body, headers=headers
        )
    except (OSError, http.client.HTTPException):
        return None, {}
    return status, got


def send_until_2xx(
    stack: Stack,
    targets: list[Proc],
    delivery_id: str,
    answered: dict[str, float],
    statuses: list[tuple[int | None, str | None]],
) -> None:
    """Billoget's side: retry (bounded) until a 2xx, moving to the next receiver when one
    gives no answer; honour Retry-After (capped to keep the test short)."""
    deadline, delay, turn = time.monotonic() + SENDER_DEADLINE_S, 0.1, 0
    while time.monotonic() < deadline:
        status, headers = post(stack, targets[turn % len(targets)], delivery_id)
        statuses.append((status, headers.get("retry-after")))
        if status is not None and 200 <= status < 300:
            answered[delivery_id] = time.monotonic()
            return
        if status is None:
            turn += 1  # no answer: that receiver is gone, try another one
        time.sleep(min(float(headers.get("retry-after") or delay), 0.5))
        delay = min(delay * 2, 1.0)
    raise AssertionError(f"{delivery_id} never answered 2xx")


# -- two receivers, one killed -9 ---------------------------------------------------------------


@pytest.mark.slow
def test_two_receivers_on_one_database_one_killed_mid_load_lose_nothing(
    make_stack: MakeStack, make_database: Callable[[], str]
) -> None:
    stack = make_stack(emulator=False, sweep=FAST_SWEEP, database_url=make_database())
    first, second = stack.receiver, stack.add_receiver()
    ids = [f"dlv_pg2_{i:03d}" for i in range(200)]
    answered: dict[str, float] = {}
    statuses: list[tuple[int | None, str | None]] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [
            pool.submit(
                send_until_2xx,
                stack,
                [second, first] if n % 2 else [first, second],  # the load split in two
                i,
                answered,
                statuses,
            )
            for n, i in enumerate(ids)
        ]
        wait_until(lambda: len(answered) >= len(ids) // 3, timeout_s=30, what="a third sent")
        second.kill9()
        answered_before_kill = dict(answered)
        for future in futures:
            future.result(timeout=90)
    assert set(stack.rows(answered_before_kill)) == set(answered_before_kill)
    stack.wait_done(ids, timeout_s=60, what="every delivery processed after the kill")
    stored, processed, dead = stack.counts(ids)
    unanswered = sum(1 for s, _ in statuses if s is None)
    report_fault(
        "pg-two-receivers-one-kill9",
        sent=len(ids),
        ok=len(answered),
        stored=stored,
        processed=processed,
    )
    print(f"  (attempts without an answer, retried on the other receiver: {unanswered})")
    assert first.alive
    assert len(ids) == len(answered) == stored == processed and dead == 0
    assert all(s is None or s < 500 or s == 503 for s, _ in statuses)


# -- PostgreSQL stopped for 10 s under load ---------------------------------------------------


@pytest.mark.slow
def test_postgresql_stopped_for_ten_seconds_under_load_is_503s_then_everything_once(
    make_stack: MakeStack,
) -> None:
    cluster = start_private_cluster()  # ours to stop: never the shared server
    try:
        url = cluster.url.rsplit("/", 1)[0] + "/postgres"
        stack = make_stack(
            emulator=False,
            sweep=FAST_SWEEP,
            database_url=url,
            receiver_env={"DATABASE_POOL_TIMEOUT_S": "1"},
        )
        ids = [f"dlv_pgdown_{i:03d}" for i in range(150)]
        answered: dict[str, float] = {}
        statuses: list[tuple[int | None, str | None]] = []
        started = threading.Event()

        def sender(batch: list[str]) -> None:
            for i in batch:
                send_until_2xx(stack, [stack.receiver], i, answered, statuses)
                started.set()
                time.sleep(0.05)

        with ThreadPoolExecutor(max_workers=5) as pool:
            futures = [pool.submit(sender, ids[n::5]) for n in range(5)]
            wait_until(lambda: len(answered) >= 20, timeout_s=30, what="load under way")
            cluster.stop(mode="fast")
            down_at = time.monotonic()
            wait_until(lambda: any(s == 503 for s, _ in statuses), timeout_s=15, what="a 503")
            time.sleep(max(0.0, 10.0 - (time.monotonic() - down_at)))  # the outage lasts 10 s
            cluster.start()
            for future in futures:
                future.result(timeout=120)
        stack.wait_done(ids, timeout_s=90, what="every delivery processed after the outage")
        stored, processed, dead = stack.counts(ids)
        refused = [r for s, r in statuses if s == 503]
        report_fault(
            "pg-stopped-10s", sent=len(ids), ok=len(answered), stored=stored, processed=processed
        )
        print(f"  (503 answers during the outage: {len(refused)}, each with Retry-After)")
        assert refused and all(r is not None for r in refused)
        assert not [s for s, _ in statuses if s is not None and s >= 500 and s != 503]
        assert stack.receiver.alive and stack.worker is not None and stack.worker.alive
        assert len(ids) == len(answered) == stored == processed and dead == 0
    finally:
        cluster.remove()


# -- a worker killed -9 while another keeps working ---------------------------------------------


@pytest.mark.slow
def test_a_worker_killed_while_another_works_loses_nothing_and_mirrors_once(
    make_stack: MakeStack, make_database: Callable[[], str]
) -> None:
    stack = make_stack(sweep=FAST_SWEEP, database_url=make_database())
    assert stack.worker is not None
    other = stack.add_worker()
    ids: list[str] = []
    for n in range(60):
        ids.extend(stack.trigger("customer.created"))
        if n == 20:
            wait_until(lambda: stack.counts(ids)[1] >= 5, timeout_s=30, what="processing under way")
            stack.worker.kill9()
    stack.wait_done(ids, timeout_s=90, what="every event processed after the kill")
    stored, processed, dead = stack.report_counts("pg-worker-kill9", ids)
    customers = stack.mirror("customers")
    assert other.alive
    assert len(customers) == 60  # one mirror row per entity: each effect once
    assert {r[2] for r in customers.values()} <= set(ids)
    assert len(ids) == stored == processed and dead == 0


# -- the sweeper's holder killed --------------------------------------------------------------


def _is_sweeper(proc: Proc) -> bool:
    return "is now the relay sweeper" in proc.log_path.read_text(errors="replace")


@pytest.mark.slow
def test_the_sweeper_holder_killed_another_receiver_takes_the_duty_within_seconds(
    make_stack: MakeStack, make_database: Callable[[], str]
) -> None:
    url = make_database()
    stack = make_stack(emulator=False, sweep=FAST_SWEEP, database_url=url)
    receivers = [stack.receiver, stack.add_receiver()]
    wait_until(lambda: any(_is_sweeper(r) for r in receivers), timeout_s=15, what="a sweeper")
    holder = next(r for r in receivers if _is_sweeper(r))
    survivor = next(r for r in receivers if r is not holder)
    assert not _is_sweeper(survivor)
    holder.kill9()
    killed_at = time.monotonic()
    wait_until(lambda: _is_sweeper(survivor), timeout_s=10, what="the survivor sweeps")
    handover_s = time.monotonic() - killed_at
    # a committed event that no receiver relayed: only the sweeper can send it now
    store = PostgresEventStore(url)
    try:
        body = envelope_bytes("ping.fault", {"id": 1}, delivery_id="dlv_orphan")
        orphan = NewDelivery("dlv_orphan", "ping.fault", "2025-01-01T00:00:00Z", 1, body)
        assert store.commit_batch([orphan]) == [True]
    finally:
        store.close()
    stack.wait_done(["dlv_orphan"], timeout_s=30, what="the orphan relayed by the new sweeper")
    stored, processed, _ = stack.counts(["dlv_orphan"])
    report_fault("pg-sweeper-holder-kill9", sent=1, ok=1, stored=stored, processed=processed)
    print(f"  (sweeper handover after kill -9: {handover_s:.1f} s; sweep interval 0.5 s)")
    assert handover_s < 5.0
    assert stored == processed == 1


# -- the self-check, whichever receiver Billoget reaches -------------------------------------


@pytest.mark.slow
def test_the_selfcheck_round_trip_passes_when_billoget_reaches_another_receiver(
    make_stack: MakeStack, make_database: Callable[[], str]
) -> None:
    stack = make_stack(worker=False, database_url=make_database())
    other = stack.add_receiver()  # the self-check runs beside this one; Billoget reaches the first
    env = {
        **os.environ,
        **stack.env,
        "PORT": str(other.port),
        "BILLOGET_PUBLIC_URL": f"http://127.0.0.1:{stack.receiver.port}{WEBHOOK_PATH}",
    }
    done = subprocess.run(
        [*cli_argv("selfcheck", "--json", "--wait", "20")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(done.stdout)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert done.returncode == 0, failed
    found = stack.query("SELECT COUNT(*) FROM events WHERE selfcheck_nonce IS NOT NULL")
    assert found == [(1,)]
