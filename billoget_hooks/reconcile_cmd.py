"""``billoget-hooks reconcile``: run a reconciliation pass now.

Walks each family's API list from its saved cursor within the reconciliation share of the rate
budget, stores the drift it finds as synthetic events and puts them on the queue for the workers
(:mod:`workers.reconcile`). Progress on a terminal, a summary at the end (``--json`` for
scripts). Exit 0 when every pass completed, 1 when one stopped early (its cursor is saved: run
again to resume), 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import redis.asyncio as aioredis

from billoget_hooks.console import out
from core import replay as rp
from core.errors import ConfigError
from core.events import Family
from core.logs import configure_logging
from core.queue import build_message
from core.settings import Settings, load_settings
from core.store import build_reconcile_store, migrate_when_ready
from core.store.mirror import FAMILIES
from core.store.reconcile import ReconcileStore
from workers.problems import ProblemBoard
from workers.reconcile import Lease, PassProgress, RunResult, reconcile
from workers.reconcile.lease import DEFAULT_LEASE_S
from workers.reconcile.walk import DEFAULT_MAX_WAIT_S
from workers.runtime import api_key_of, build_api

EXIT_OK, EXIT_STOPPED = 0, 1


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "reconcile",
        help="Compare the mirror with the Billoget API now and repair what webhooks missed.",
        description="Walk each family's list (limit=100, from the saved cursor) within "
        "RECONCILE_BUDGET_SHARE of the API budget; missing or stale entities become synthetic "
        "{family}.updated events, entities gone from the API {family}.deleted, processed by the "
        "workers like any delivery. Exit 0 when the pass completed.",
    )
    p.add_argument("--family", choices=FAMILIES, action="append", help="only this family")
    p.add_argument("--dry-run", action="store_true", help="report drift, change nothing")
    p.add_argument("--max-requests", type=int, metavar="N", help="stop after N API requests")
    p.add_argument(
        "--max-wait",
        type=float,
        default=DEFAULT_MAX_WAIT_S,
        metavar="S",
        help="wait at most S seconds for the budget at a time, else stop "
        f"(default {DEFAULT_MAX_WAIT_S:g})",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=reconcile_command)


def reconcile_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
    if args.max_requests is not None and args.max_requests < 1:
        raise ConfigError("--max-requests must be at least 1")
    store = build_reconcile_store(settings)
    try:
        migrate_when_ready(store)
        result = asyncio.run(_run(settings, store, args))
    finally:
        store.close()
    _clear_progress()
    if args.json:
        out(json.dumps(_summary(result, dry_run=args.dry_run)))
    else:
        out("\n".join(_lines(result, dry_run=args.dry_run)))
    return EXIT_OK if result.completed else EXIT_STOPPED


async def _run(settings: Settings, store: ReconcileStore, args: argparse.Namespace) -> RunResult:
    key = api_key_of(settings)
    if key is None:
        raise ConfigError("BILLOGET_API_KEY is not set: reconciliation reads the Billoget API")
    families: list[Family] = list(dict.fromkeys(args.family or FAMILIES))
    redis_client = aioredis.Redis.from_url(settings.redis_url)
    broker = rp.build_broker(settings.redis_url)

    def enqueue(delivery_id: str, event_type: str) -> bool:
        try:
            broker.enqueue(build_message(delivery_id, event_type))
        except rp.BrokerErrors:
            return False  # stays 'received': the receiver's sweeper relays it
        return True

    problems = ProblemBoard(redis_client, ttl_s=settings.worker_problem_ttl_s)
    api_client, api = build_api(settings, redis_client, key, problems=problems)
    try:
        return await reconcile(
            families,
            api=api,
            store=store,
            enqueue=enqueue,
            lease=Lease(redis_client),
            dry_run=args.dry_run,
            max_requests=args.max_requests,
            max_wait_s=args.max_wait,
            lease_wait_s=DEFAULT_LEASE_S + 2,
            progress=_progress if sys.stderr.isatty() and not args.json else None,
        )
    finally:
        if api_client is not None:
            await api_client.close()
        await redis_client.aclose()
        broker.close()
        broker.client.close()


def _progress(state: PassProgress) -> None:
    repairs = sum(state.repairs.values())
    total = "?" if state.total is None else state.total
    sys.stderr.write(
        f"\r{state.family}: {state.pages} pages, {state.checked}/{total} checked, "
        f"{repairs} repairs, {state.requests} requests\033[K"
    )
    sys.stderr.flush()


def _clear_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def _summary(result: RunResult, *, dry_run: bool) -> dict[str, Any]:
    return {
        "completed": result.completed,
        "lease_held": result.held,
        "dry_run": dry_run,
        "requests": result.requests,
        "repairs": result.repairs,
        "families": [p.as_dict() for p in result.passes],
    }


def _lines(result: RunResult, *, dry_run: bool) -> list[str]:
    if not result.held:
        return ["another reconciliation holds the lease: try again once it is done"]
    lines = []
    for p in result.passes:
        state = "completed" if p.completed else p.stopped
        r = p.repairs
        lines.append(
            f"{p.family:9} {state}: {p.pages} pages (from page {p.started_page}), "
            f"{p.checked} checked; drift: {r['missing']} missing, {r['stale']} stale, "
            f"{r['gone']} gone; {p.requests} requests"
        )
    stored = sum(p.stored for p in result.passes)
    if dry_run:
        lines.append(f"dry run: {result.repairs} repairs found, nothing changed")
    else:
        lines.append(
            f"{stored} synthetic events stored and queued for the workers; "
            f"{result.requests} API requests"
        )
    if not result.completed and result.passes:
        lines.append("the pass stopped early: its cursor is saved, run again to resume")
    return lines
