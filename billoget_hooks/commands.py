"""Sub-commands of ``core``: ``selfcheck``, ``events list|show|replay``, ``diagnose`` (in
:mod:`billoget_hooks.diagnose`) and ``dev``."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from billoget_hooks.console import err, out
from core.errors import ConfigError, StoreUnavailableError
from core.logs import configure_logging
from core.settings import Settings, load_settings
from core.store import EventStore, Status, StoredEvent, open_store

EXIT_OK, EXIT_FAILED = 0, 1
LIST_LIMIT = 50
REPLAY_PROGRESS_FROM = 100  # print progress lines when replaying at least this many
_ERROR_WIDTH = 60


def register(subparsers: Any) -> None:
    from billoget_hooks import diagnose

    _register_selfcheck(subparsers)
    _register_events(subparsers)
    diagnose.register(subparsers)
    _register_dev(subparsers)


# -- selfcheck ---------------------------------------------------------------------------------


def _register_selfcheck(subparsers: Any) -> None:
    from core.selfcheck.run import DEFAULT_WAIT_S

    p: argparse.ArgumentParser = subparsers.add_parser(
        "selfcheck",
        help="Check the configuration, the API key and a webhook round trip.",
        description="Check the configuration, the key's WEBHOOKS and READ scopes, and that a "
        "test webhook from Billoget reaches the running receiver. Exit 0 only when all pass.",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_S,
        metavar="S",
        help=f"seconds to wait for the test delivery (default {DEFAULT_WAIT_S:g})",
    )
    p.add_argument(
        "--allow-missing-read-scopes",
        action="store_true",
        help="report missing READ_* scopes as a warning, not a failure",
    )
    p.set_defaults(func=selfcheck_command)


def selfcheck_command(args: argparse.Namespace) -> int:
    from core.selfcheck.report import CONFIGURATION, SelfCheckReport, failed
    from core.selfcheck.run import run_selfcheck
    from core.times import utcnow

    try:
        settings = load_settings()
    except ConfigError as exc:
        now = utcnow()
        report = SelfCheckReport.build(
            [failed(CONFIGURATION, exc.message)], started_at=now, finished_at=now
        )
    else:
        configure_logging(
            "WARNING" if settings.log_level == "INFO" else settings.log_level,
            fmt=settings.log_format,
        )
        store = _open_store(settings)
        try:
            report = asyncio.run(
                run_selfcheck(
                    settings,
                    store=store,
                    wait_s=args.wait,
                    allow_missing_read_scopes=args.allow_missing_read_scopes,
                )
            )
        finally:
            store.close()
    if args.json:
        out(report.to_json())
    else:
        out("\n".join(report.lines()))
    return EXIT_OK if report.ok else EXIT_FAILED


# -- events ------------------------------------------------------------------------------------


def _register_events(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "events", help="List, show and replay stored webhook deliveries."
    )
    sub = p.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    statuses = [s.value for s in Status]

    ls = sub.add_parser("list", help="List stored events, newest first.")
    ls.add_argument("--status", choices=statuses, help="only this status")
    ls.add_argument("--event", metavar="TYPE", help="only this event type, e.g. budget.approved")
    ls.add_argument("--since", help="received since an ISO-8601 time or a duration (2h, 7d)")
    ls.add_argument(
        "--limit", type=int, default=LIST_LIMIT, help=f"at most N (default {LIST_LIMIT})"
    )
    ls.add_argument("--json", action="store_true", help="print JSON, one object per event")
    ls.set_defaults(func=events_list)

    show = sub.add_parser("show", help="Show one event with its body.")
    show.add_argument("delivery_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=events_show)

    rp = sub.add_parser(
        "replay",
        help="Send events back through the pipeline (handlers run again).",
        description="Requeue events by id, or every event with --status (e.g. dead), optionally "
        "received --since a time. Handlers are idempotent, so replaying is safe.",
    )
    rp.add_argument("delivery_ids", metavar="ID", nargs="*")
    rp.add_argument("--status", choices=statuses, help="replay every event with this status")
    rp.add_argument("--since", help="with --status: received since an ISO-8601 time or 2h, 7d")
    rp.set_defaults(func=events_replay)


def _open_store(settings: Settings, *, must_exist: bool = False) -> EventStore:
    path = settings.sqlite_path()
    if must_exist and not path.exists():
        raise ConfigError(
            f"no event store at {path} (DATABASE_URL): run the receiver first, or point "
            "DATABASE_URL at its file"
        )
    try:
        return open_store(settings)
    except StoreUnavailableError as exc:
        raise ConfigError(f"cannot open the event store {path}: {exc.message}") from None


def _event_dict(event: StoredEvent, *, with_body: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "delivery_id": event.delivery_id,
        "event": event.event_type,
        "status": event.status.value,
        "attempts": event.attempts,
        "last_error": event.last_error,
        "outcome": event.outcome,
        "received_at": event.received_at,
        "updated_at": event.updated_at,
        "queued_at": event.queued_at,
        "processed_at": event.processed_at,
        "next_attempt_at": event.next_attempt_at,
        "event_timestamp": event.event_timestamp,
        "webhook_timestamp": event.webhook_timestamp,
        "selfcheck": event.selfcheck_nonce is not None,
    }
    if with_body:
        text = event.body.decode("utf-8", errors="replace")
        try:
            data["body"] = json.loads(text)
        except json.JSONDecodeError:
            data["body"] = text
    return data


def _clip(text: str | None, width: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(events: list[StoredEvent]) -> str:
    header = ("DELIVERY ID", "EVENT", "STATUS", "TRIES", "RECEIVED (UTC)", "ERROR / OUTCOME")
    rows = [
        (
            e.delivery_id,
            e.event_type,
            e.status.value,
            str(e.attempts),
            e.received_at[:19].replace("T", " "),
            _clip(
                e.last_error if e.status.value in ("failed", "dead") else e.outcome, _ERROR_WIDTH
            ),
        )
        for e in events
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def events_list(args: argparse.Namespace) -> int:
    from core.replay import parse_since

    settings = load_settings()
    store = _open_store(settings, must_exist=True)
    try:
        events = store.list_events(
            status=Status(args.status) if args.status else None,
            event_type=args.event,
            since=parse_since(args.since) if args.since else None,
            limit=args.limit,
        )
    finally:
        store.close()
    if args.json:
        for event in events:
            out(json.dumps(_event_dict(event)))
        return EXIT_OK
    if not events:
        out("no events match")
        return EXIT_OK
    out(format_table(events))
    return EXIT_OK


def events_show(args: argparse.Namespace) -> int:
    settings = load_settings()
    store = _open_store(settings, must_exist=True)
    try:
        event = store.get(args.delivery_id)
    finally:
        store.close()
    if event is None:
        err(f"billoget-hooks: no event with delivery id {args.delivery_id!r}")
        return EXIT_FAILED
    data = _event_dict(event, with_body=True)
    if args.json:
        out(json.dumps(data, ensure_ascii=False))
        return EXIT_OK
    body = data.pop("body")
    width = max(len(k) for k in data)
    for name, value in data.items():
        out(f"{name.ljust(width)}  {'' if value is None else value}")
    out("body:")
    out(json.dumps(body, indent=2, ensure_ascii=False) if not isinstance(body, str) else body)
    return EXIT_OK


def events_replay(args: argparse.Namespace) -> int:
    from core import replay as rp

    if bool(args.delivery_ids) == bool(args.status):
        err("billoget-hooks: give delivery ids or --status (not both)")
        return EXIT_FAILED
    if args.since and not args.status:
        err("billoget-hooks: --since goes with --status")
        return EXIT_FAILED
    settings = load_settings()
    store = _open_store(settings, must_exist=True)
    try:
        if args.delivery_ids:
            events, unknown = rp.find_events(store, args.delivery_ids)
            if unknown:
                err(f"billoget-hooks: unknown delivery id(s): {', '.join(unknown)}")
                return EXIT_FAILED
        else:
            since = rp.parse_since(args.since) if args.since else None
            events = rp.select_events(store, status=Status(args.status), since=since)
        checks = [e for e in events if e.selfcheck_nonce is not None]
        if checks:  # a self-check round trip is a record, never work for the handlers
            out(f"skipping {len(checks)} self-check delivery(ies): they are never processed")
            events = [e for e in events if e.selfcheck_nonce is None]
        if not events:
            out("nothing to replay")
            return EXIT_OK
        return _replay(store, events, settings=settings)
    finally:
        store.close()


def _replay(store: EventStore, events: list[StoredEvent], *, settings: Settings) -> int:
    from core import replay as rp

    def progress(done: int, total: int) -> None:
        if total >= REPLAY_PROGRESS_FROM:
            out(f"  {done}/{total} requeued")

    broker = rp.build_broker(settings.redis_url)
    try:
        result = rp.replay(store, events, broker=broker, progress=progress)
    finally:
        broker.close()
        broker.client.close()
    out(f"replayed {result.requeued} event(s); {result.enqueued} on the queue now")
    if result.broker_error:
        left = result.requeued - result.enqueued
        out(
            f"Redis did not take {left} event(s) ({result.broker_error}): they stay 'received' "
            "and the receiver's sweeper relays them once Redis answers"
        )
    return EXIT_OK


# -- dev ---------------------------------------------------------------------------------------


def _register_dev(subparsers: Any) -> None:
    from billoget_hooks.devstack.stack import register_arguments

    p: argparse.ArgumentParser = subparsers.add_parser(
        "dev",
        help="Run everything locally: emulator, Redis, receiver, workers, self-check, demo.",
        description="The one-command local stack (scripts/dev). With BILLOGET_API_URL, "
        "BILLOGET_API_KEY and BILLOGET_WEBHOOK_SECRET set, the real Billoget is used instead "
        "of the emulator. Ctrl-C stops everything.",
    )
    register_arguments(p)
    p.set_defaults(func=dev_command)


def dev_command(args: argparse.Namespace) -> int:
    from billoget_hooks.devstack.stack import run_dev

    return run_dev(args)
