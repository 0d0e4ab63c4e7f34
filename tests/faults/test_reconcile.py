"""Reconciliation on real processes: webhooks the emulator dropped are found by one
``billoget-hooks reconcile`` pass, stored as synthetic events and processed by the workers;
the mirror ends equal to Billoget's state, within one list scan per family plus the repairs'
needs; a second pass finds nothing; a pass killed with -9 resumes from its cursor; the budget
share is honoured."""

from __future__ import annotations

import json
import math
import random
import subprocess
from typing import Any

import pytest

from billoget_hooks.procs import cli_argv
from tests.fixtures.mirror import MIRRORED_TABLES, own_fields
from tests.fixtures.procs import wait_until
from tests.fixtures.stack import FAST_SWEEP, MakeStack, Stack, http_json

PAYLOAD_FIRST = {"MIRROR_SOURCE": "payload", "MIRROR_FETCH_WINDOW_S": "0.5"}
FAMILIES = {"customers": "customer", "products": "product", "budgets": "budget"}
RUN_TIMEOUT_S = 60


def run_reconcile(stack: Stack, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
    done = subprocess.run(
        cli_argv("reconcile", "--json", *args),
        env={**stack.env, **(env or {})},
        capture_output=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.stdout, done.stderr.decode(errors="replace")
    return done.returncode, json.loads(done.stdout)


def query(stack: Stack, sql: str) -> list[Any]:
    """Rows of a constant query, on whichever store the stack runs."""
    return stack.query(sql)


def random_history(stack: Stack, rng: random.Random, *, changes: int) -> None:
    live: dict[str, list[int]] = {"customer": [], "product": [], "budget": []}
    for family, count in (("customer", 25), ("product", 15), ("budget", 10)):
        for _ in range(count):
            created = stack.admin(lambda a, f=family: a.trigger(f"{f}.created"))
            live[family].append(created["data"]["id"])
    for _ in range(changes):
        family = rng.choice(list(live))
        action = rng.choices(["created", "updated", "deleted", "approved"], [2, 6, 2, 1])[0]
        if action == "created" or not live[family]:
            created = stack.admin(lambda a, f=family: a.trigger(f"{f}.created"))
            live[family].append(created["data"]["id"])
            continue
        entity_id = rng.choice(live[family])
        if action == "approved" and family != "budget":
            action = "updated"
        if action == "deleted":
            live[family].remove(entity_id)
        stack.trigger(f"{family}.{action}", entity_id)


def mirror_differences(stack: Stack) -> list[str]:
    state = stack.admin(lambda a: a.state("test"))
    problems = []
    for table, entities in state.items():
        if table not in MIRRORED_TABLES:  # variants, approvals...: not mirrored on their own
            continue
        mirror = stack.mirror(table)
        for entity in entities:
            row = mirror.get(str(entity["id"]))
            if entity["deleted"]:
                if row is not None and not row[1]:
                    problems.append(f"{table} {entity['id']} should be deleted")
                continue
            if (
                row is None
                or row[1]
                or own_fields(table, json.loads(row[0] or "{}")) != own_fields(table, entity)
            ):
                problems.append(f"{table} {entity['id']} differs")
    return problems


def live_counts(stack: Stack) -> dict[str, int]:
    state = stack.admin(lambda a: a.state("test"))
    return {
        table: sum(not e["deleted"] for e in rows)
        for table, rows in state.items()
        if table in MIRRORED_TABLES
    }


def delivered_ids(stack: Stack) -> list[str]:
    return [d["id"] for d in stack.deliveries("delivered")]


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_one_pass_repairs_what_dropped_webhooks_missed_and_a_second_finds_nothing(
    make_stack: MakeStack, store: str, request: pytest.FixtureRequest
) -> None:
    database_url = request.getfixturevalue("make_database")() if store == "postgresql" else None
    stack = make_stack(
        worker_env={**PAYLOAD_FIRST, "RECONCILE_INTERVAL_S": "0"}, database_url=database_url
    )
    stack.set_faults(delivery_drop_rate=0.2)
    random_history(stack, random.Random(1313), changes=120)
    dropped = len(stack.deliveries("dropped"))
    wait_until(lambda: not stack.deliveries("pending"), timeout_s=30, what="deliveries settled")
    stack.wait_done(delivered_ids(stack), timeout_s=60, what="delivered events processed")
    drift_before = mirror_differences(stack)
    assert dropped > 0 and drift_before
    code, dry = run_reconcile(stack, "--dry-run")
    assert code == 0 and dry["repairs"] == len(drift_before), dry
    assert query(stack, "SELECT COUNT(*) FROM events WHERE delivery_id LIKE 'reconcile_%'") == [
        (0,)
    ]
    assert query(stack, "SELECT COUNT(*) FROM reconcile_cursors") == [(0,)]
    stack.admin(lambda a: a.clear_requests())

    code, summary = run_reconcile(stack)

    assert code == 0, summary
    repairs = query(stack, "SELECT delivery_id FROM events WHERE delivery_id LIKE 'reconcile_%'")
    repair_ids = [r[0] for r in repairs]
    stack.wait_done(repair_ids, timeout_s=60, what="synthetic events processed")
    assert mirror_differences(stack) == []
    assert summary["repairs"] == len(repair_ids) > 0
    assert {s for s, _, _ in stack.rows(repair_ids).values()} == {"processed"}
    for (body,) in query(stack, "SELECT body FROM events WHERE delivery_id LIKE 'reconcile_%'"):
        assert json.loads(bytes(body))["metadata"]["source"] == "reconcile"
    gone = sum(p["repairs"]["gone"] for p in summary["families"])
    list_scan = sum(max(1, math.ceil(n / 100)) for n in live_counts(stack).values())
    requests = len(stack.api_requests())
    print(
        f"  (reconcile: {dropped} deliveries dropped of {len(stack.deliveries())}, "
        f"{len(drift_before)} entities drifted, {summary['repairs']} repairs "
        f"({gone} gone), {requests} API requests for a list scan of {list_scan} pages)"
    )
    assert requests == summary["requests"] <= list_scan + gone
    _, _, ready = http_json("GET", f"{stack.receiver_url}/readyz")
    assert ready["reconcile"]["coverage_ratio"] == 1.0
    assert sum(ready["reconcile"]["repairs"].values()) == len(repair_ids)

    stack.admin(lambda a: a.clear_requests())
    code, again = run_reconcile(stack)

    assert code == 0 and again["repairs"] == 0, again
    count = query(stack, "SELECT COUNT(*) FROM events WHERE delivery_id LIKE 'reconcile_%'")
    assert count[0][0] == len(repair_ids)
    assert len(stack.api_requests()) == list_scan


@pytest.mark.slow
def test_a_pass_killed_with_minus_9_resumes_from_its_cursor(make_stack: MakeStack) -> None:
    stack = make_stack(worker=False)
    stack.set_faults(delivery_drop_rate=1.0)
    for _ in range(450):
        stack.admin(lambda a: a.trigger("customer.created"))
    stack.set_faults(delivery_drop_rate=1.0, api_latency_ms=400)
    first = stack.processes.cli(
        "reconcile", "reconcile", "--family", "customer", env=stack.env
    ).start()

    def next_page() -> int:
        rows = query(stack, "SELECT next_page FROM reconcile_cursors WHERE family = 'customer'")
        return int(rows[0][0]) if rows else 0

    wait_until(lambda: next_page() >= 3, timeout_s=30, what="two pages walked")
    first.kill9()
    saved = next_page()
    stack.set_faults(delivery_drop_rate=1.0)

    code, summary = run_reconcile(stack, "--family", "customer")

    (resumed,) = summary["families"]
    assert code == 0 and resumed["completed"], summary
    assert resumed["started_page"] == saved
    assert resumed["pages"] == 5 - saved + 1
    stored = query(stack, "SELECT COUNT(*) FROM events WHERE delivery_id LIKE 'reconcile_%'")
    assert stored[0][0] == 450  # every entity once, across both runs


@pytest.mark.slow
def test_a_pass_spends_at_most_its_share_of_a_small_hourly_budget(make_stack: MakeStack) -> None:
    stack = make_stack(worker=False, rate_limit_per_hour=50)
    for _ in range(250):
        stack.admin(lambda a: a.trigger("customer.created"))
    stack.admin(lambda a: a.clear_requests())
    env = {
        "RECONCILE_BUDGET_SHARE": "0.06",  # 3 of the key's 50 an hour; the pass needs 5
        "BILLOGET_API_BUDGET_RESERVE": "0",
        "BILLOGET_API_PACE_BELOW": "0",
    }

    code, summary = run_reconcile(stack, "--max-wait", "5", env=env)

    assert code == 1, summary
    assert summary["requests"] == len(stack.api_requests()) == 3
    assert "budget share" in summary["families"][-1]["stopped"]
    assert [c for c in stack.api_requests() if c["status"] == 429] == []


@pytest.mark.slow
def test_the_workers_reconcile_on_schedule_and_hand_the_lease_over_when_one_dies(
    make_stack: MakeStack,
) -> None:
    # the fast sweep relays the repairs the killed worker had in hand
    stack = make_stack(sweep=FAST_SWEEP, worker_env={**PAYLOAD_FIRST, "RECONCILE_INTERVAL_S": "3"})
    assert stack.worker is not None
    stack.set_faults(delivery_drop_rate=1.0)
    for _ in range(350):
        stack.admin(lambda a: a.trigger("customer.created"))
    stack.set_faults(delivery_drop_rate=1.0, api_latency_ms=300)

    def walked() -> int:
        rows = query(stack, "SELECT next_page FROM reconcile_cursors WHERE family = 'customer'")
        return int(rows[0][0]) if rows else 0

    wait_until(lambda: walked() >= 2, timeout_s=30, what="the scheduled pass began")
    stack.worker.kill9()
    stack.worker.start()  # the lease lapses, the new worker takes it and resumes
    stack.wait_worker_ready()

    def repaired() -> int:
        rows = query(
            stack,
            "SELECT COUNT(*) FROM events WHERE delivery_id LIKE 'reconcile_customer_%'"
            " AND status = 'processed'",
        )
        return int(rows[0][0])

    wait_until(lambda: repaired() == 350, timeout_s=60, what="every customer repaired")
    stack.clear_faults()
    assert mirror_differences(stack) == []
