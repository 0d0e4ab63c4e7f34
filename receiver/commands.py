"""``billoget-hooks serve``: run the receiver (the Procfile's ``web:`` process)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from aiohttp import web

from core.errors import ConfigError
from core.heap import freeze_startup_heap
from core.logs import configure_logging
from core.settings import load_settings
from core.store import describe_store
from receiver.app import create_app, selfcheck_at_start
from receiver.views import WEBHOOK_PATH

log = logging.getLogger(__name__)

# The store-writer and relay threads hold the GIL in short bursts; with CPython's default 5 ms
# switch interval the event loop can wait that long for it on every burst, which shows as
# multi-millisecond p99s. 0.5 ms keeps the loop responsive (scripts/bench_ingest, 2026-11-28:
# p99 at 1,000 req/s 27 ms with 5 ms against 8-10 ms with 0.5 ms; saturation unchanged).
GIL_SWITCH_INTERVAL_S = 0.0005


def install_event_loop(choice: str) -> str:
    """Make ``choice`` (``auto`` | ``asyncio`` | ``uvloop``) the loop ``web.run_app`` creates;
    returns the one in use. ``auto`` takes uvloop when it is importable."""
    if choice == "asyncio":
        return "asyncio"
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ConfigError("EVENT_LOOP=uvloop but uvloop is not installed") from None
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve", help="Run the webhook receiver (aiohttp)."
    )
    parser.add_argument("--host", help="Address to listen on (default: HOST or 0.0.0.0).")
    parser.add_argument("--port", type=int, help="Port to listen on (default: PORT or 8080).")
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="Share the port with other receivers on this host (SO_REUSEPORT; the kernel "
        "spreads connections). Use with a PostgreSQL store.",
    )
    parser.set_defaults(func=serve)


async def _freeze_startup_heap(app: web.Application) -> None:
    log.debug("%d start-up objects frozen out of the garbage collector", freeze_startup_heap())


def serve(args: argparse.Namespace) -> int:
    overrides = {k: v for k in ("host", "port") if (v := getattr(args, k)) is not None}
    settings = load_settings(**overrides)
    settings.webhook_secrets()  # no secret: one clear line and exit 2 (billoget_hooks.cli)
    configure_logging(settings.log_level, fmt=settings.log_format)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    loop_name = install_event_loop(settings.event_loop)
    app = create_app(settings)
    if settings.selfcheck_on_start:
        app.cleanup_ctx.append(selfcheck_at_start)
    app.on_startup.append(_freeze_startup_heap)  # after every context above has started
    log.info(
        "receiver listening on http://%s:%s%s (store %s, %s loop)",
        settings.host,
        settings.port,
        WEBHOOK_PATH,
        describe_store(settings),
        loop_name,
    )
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        reuse_port=args.reuse_port or None,
    )
    return 0
