"""``billoget-hooks diagnose``: verification diagnostics in words, from the event store.

:func:`register` returns the sub-command's parser so that other options can join it (e.g.
``--signatures``); the handler prints :func:`receiver.observability.diagnosis.diagnose`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from billoget_hooks.console import out
from core.errors import ConfigError
from core.settings import load_settings
from core.signing import WebhookSecret
from receiver.observability.diagnosis import diagnose

EXIT_OK = 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "diagnose",
        help="Say in words what verification saw: secrets, refusals, clock skew.",
        description="From the event store (the receiver's per-minute counters): deliveries "
        "per secret fingerprint over the last day, refusals by reason, the clock skew seen "
        "(p50/p99), what is waiting, and one sentence for the commonest failure.",
    )
    p.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    p.set_defaults(func=diagnose_command)
    return p


def diagnose_command(args: argparse.Namespace) -> int:
    from billoget_hooks.commands import _open_store

    settings = load_settings()
    try:
        secrets: list[WebhookSecret] = settings.webhook_secrets()
    except ConfigError:
        secrets = []  # diagnosed all the same: every delivery is refused then
    store = _open_store(settings, must_exist=True)
    try:
        result = diagnose(
            store,
            secrets,
            tolerance_s=settings.billoget_tolerance_s,
            max_body_bytes=settings.billoget_max_body_bytes,
        )
    finally:
        store.close()
    if args.json:
        out(json.dumps(result.to_dict()))
    else:
        if not secrets:
            out("BILLOGET_WEBHOOK_SECRET is not set: the receiver refuses to start without it")
        out("\n".join(result.lines()))
    return EXIT_OK
