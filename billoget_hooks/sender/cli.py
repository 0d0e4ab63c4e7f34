"""``scripts/send_test_webhook``: send a signed Billoget webhook and print the receiver's answer.

Exit codes: 0 every answer was the expected one (2xx for a good delivery, 401 for one broken on
purpose with --stale/--future/--tamper/--no-signature); 1 some answer was not; 2 bad usage or
configuration; 3 the receiver (or Billoget, with --via-api) could not be reached.

Options left out default to the product's settings (:func:`core.settings.load_settings`: the
environment and ``.env``), with the options given as overrides.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from billoget_hooks.console import err, out
from billoget_hooks.sender.send import (
    DEFAULT_TIMEOUT_S,
    DEFAULT_URL,
    Answer,
    Fault,
    Prepared,
    Summary,
    is_expected,
    send_many,
)
from core.errors import BillogetHooksError, ConfigError
from core.events import KNOWN_EVENTS
from core.samples import sample_data
from core.settings import Settings, load_settings
from core.signing import WebhookSecret, parse_secrets

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
MAX_SHOWN_BODY = 2000


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="send_test_webhook",
        description="Send a signed Billoget webhook to a receiver and print its answer.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument(
        "--url",
        default=None,
        help=f"receiver URL (default: $BILLOGET_PUBLIC_URL, else {DEFAULT_URL})",
    )
    p.add_argument(
        "--secret",
        default=None,
        help="whsec_... secret(s) to sign with (default: $BILLOGET_WEBHOOK_SECRET)",
    )
    p.add_argument(
        "--event",
        default="customer.created",
        help="event type; one of the 12 gets realistic sample data "
        f"({', '.join(sorted(KNOWN_EVENTS))})",
    )
    p.add_argument("--data", default=None, help="the data object instead: JSON text or @file")
    p.add_argument("--count", type=int, default=1, help="deliveries to send (default 1)")
    p.add_argument("--concurrency", type=int, default=1, help="requests in flight (default 1)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per request")
    bad = p.add_argument_group("deliberate faults (the receiver must answer 401)")
    bad.add_argument("--stale", action="store_true", help="timestamp an hour in the past")
    bad.add_argument("--future", action="store_true", help="timestamp an hour in the future")
    bad.add_argument("--tamper", action="store_true", help="change the body after signing")
    bad.add_argument("--no-signature", action="store_true", help="omit webhook-signature")
    p.add_argument(
        "--duplicate", action="store_true", help="send each delivery twice with the same id"
    )
    api = p.add_argument_group("via Billoget's own test endpoint")
    api.add_argument(
        "--via-api",
        action="store_true",
        help="ask Billoget (POST /api/public/webhooks/test) to deliver instead",
    )
    api.add_argument("--api-key", default=None, help="API key (default: $BILLOGET_API_KEY)")
    api.add_argument("--api-url", default=None, help="API base URL (default: $BILLOGET_API_URL)")
    return p


def load_data(args: argparse.Namespace) -> dict[str, Any]:
    if args.data is None:
        if args.event not in KNOWN_EVENTS:
            raise ConfigError(f"no sample data for {args.event!r}: pass --data JSON|@file")
        return sample_data(args.event)
    text = args.data
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--data: cannot read {text[1:]}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--data is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(data, dict):
        raise ConfigError("--data must be a JSON object")
    return data


def load_options(args: argparse.Namespace) -> Settings:
    """The settings, with the options given on the command line as overrides."""
    overrides = {
        "billoget_webhook_secret": args.secret,
        "billoget_public_url": args.url,
        "billoget_api_key": args.api_key,
        "billoget_api_url": args.api_url,
    }
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def load_secrets(settings: Settings) -> list[WebhookSecret]:
    secret = settings.billoget_webhook_secret
    secrets = parse_secrets(secret.get_secret_value() if secret else "")
    if not secrets:
        raise ConfigError("no secret: pass --secret whsec_... or set BILLOGET_WEBHOOK_SECRET")
    return secrets


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN_BODY else text[:MAX_SHOWN_BODY] + " …"


def print_single(url: str, sent: Prepared, summary: Summary, fault: Fault) -> None:
    out(f"→ POST {url}")
    for name, value in sent.headers.items():
        out(f"  {name}: {value}")
    out(f"  {_short(sent.body.decode('utf-8', errors='replace'))}")
    for answer in summary.answers:
        print_answer(answer, fault)


def print_answer(answer: Answer, fault: Fault) -> None:
    verdict = "as expected" if is_expected(answer, fault) else "NOT as expected"
    if answer.status is None:
        out(f"← no answer after {answer.latency_ms:.0f} ms: {answer.error}")
        return
    out(f"← {answer.status} in {answer.latency_ms:.1f} ms ({verdict}): {_short(answer.text)}")


def print_summary(summary: Summary) -> None:
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(summary.status_counts.items()))
    out(
        f"sent {len(summary.answers)} in {summary.elapsed_s:.2f} s: "
        f"{summary.rate_per_s:.1f} req/s, p50 {summary.percentile_ms(50):.1f} ms, "
        f"p99 {summary.percentile_ms(99):.1f} ms; statuses {counts}"
    )


def exit_code(summary: Summary, fault: Fault) -> int:
    if any(a.status is None for a in summary.answers):
        return EXIT_UNREACHABLE
    if all(is_expected(a, fault) for a in summary.answers):
        return EXIT_OK
    return EXIT_UNEXPECTED


async def send_direct(args: argparse.Namespace, settings: Settings) -> int:
    fault = Fault(
        stale=args.stale, future=args.future, tamper=args.tamper, no_signature=args.no_signature
    )
    url = settings.billoget_public_url or DEFAULT_URL
    prepared, summary = await send_many(
        url=url,
        secrets=load_secrets(settings),
        event=args.event,
        data=load_data(args),
        fault=fault,
        count=args.count,
        concurrency=args.concurrency,
        duplicate=args.duplicate,
        timeout_s=args.timeout,
    )
    if args.count == 1:
        print_single(url, prepared[0], summary, fault)
    else:
        out(f"→ POST {url}: {args.count} x {args.event}, concurrency {args.concurrency}")
        for answer in summary.answers:
            if not is_expected(answer, fault):
                print_answer(answer, fault)
                break
        print_summary(summary)
    return exit_code(summary, fault)


async def send_via_api(args: argparse.Namespace, settings: Settings) -> int:
    from core.billoget import (
        ApiConnectionError,
        ApiError,
        ApiKey,
        ApiTimeoutError,
        BillogetClient,
    )

    secret_key = settings.billoget_api_key
    key = ApiKey.parse(secret_key.get_secret_value() if secret_key else "")
    api_url = settings.billoget_api_url
    data = load_data(args)
    out(f"→ POST {api_url.rstrip('/')}/api/public/webhooks/test (key {key.prefix}…)")
    out(f"  {_short(json.dumps({'event': args.event, 'data': data}, ensure_ascii=False))}")
    try:
        async with BillogetClient(base_url=api_url, api_key=key, timeout_s=args.timeout) as client:
            result = await client.webhook_test(event=args.event, data=data)
    except (ApiConnectionError, ApiTimeoutError) as exc:
        out(f"← no answer: {exc.message}")
        return EXIT_UNREACHABLE
    except ApiError as exc:
        out(f"← {exc.status} {exc.code}: {exc.message}")
        return EXIT_UNEXPECTED
    out(f"← 200: {result.message} (at {result.timestamp})")
    out("  Billoget now delivers the event to the key's webhook URL; watch the receiver's log.")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.count < 1 or args.concurrency < 1:
        err("send_test_webhook: --count and --concurrency must be at least 1")
        return EXIT_USAGE
    try:
        settings = load_options(args)
        return asyncio.run(
            send_via_api(args, settings) if args.via_api else send_direct(args, settings)
        )
    except ConfigError as exc:
        err(f"send_test_webhook: {exc.message}")
        return EXIT_USAGE
    except BillogetHooksError as exc:
        err(f"send_test_webhook: {exc.message}")
        return EXIT_UNEXPECTED
    except KeyboardInterrupt:
        return 130
