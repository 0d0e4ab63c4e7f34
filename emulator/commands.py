"""``billoget-hooks emulator``: run the local Billoget (also ``python -m emulator``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aiohttp import web

from emulator.app import create_app
from emulator.config import DEFAULT_PORT, EmulatorConfig
from emulator.keys import ApiKey
from emulator.state import DEMO_KEY


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8090)")
    parser.add_argument("--seed", action="store_true", help="start with demo data and a demo key")
    parser.add_argument(
        "--time-factor",
        type=float,
        default=1.0,
        help="multiply retry delays by this (e.g. 0.001 for fast local retries)",
    )
    parser.add_argument("--webhook-url", help="where the seeded demo key's webhooks go")
    parser.add_argument(
        "--environment", choices=("test", "live"), default="test", help="the demo key's environment"
    )
    parser.add_argument("--random-seed", type=int, help="seed for injected faults' randomness")
    parser.add_argument(
        "--pagination",
        choices=("docs", "sdk"),
        default="docs",
        help="list answer shape: docs {data, pagination} (default) or sdk {data: {data, meta}}",
    )
    parser.set_defaults(func=run)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="Run a local Billoget API and webhook sender.",
        description="Run a local Billoget: API, auth, rate limits and signed webhook delivery.",
    )
    add_arguments(parser)


def banner(key: ApiKey, base_url: str) -> str:
    webhook = key.webhook_url or "(none: PATCH /__emulator/keys/1 with a webhookUrl)"
    return "\n".join(
        [
            "Billoget emulator (demo data seeded)",
            f"  API base URL:   {base_url}/v1",
            f"  Admin API:      {base_url}/__emulator/",
            f"  API key:        {key.key}",
            f"  Webhook secret: {key.secret.encode()}",
            f"  Webhook URL:    {webhook}",
            "Environment for the receiver and workers:",
            f"  BILLOGET_API_URL={base_url}/v1",
            f"  BILLOGET_API_KEY={key.key}",
            f"  BILLOGET_WEBHOOK_SECRET={key.secret.encode()}",
        ]
    )


def _show(text: str) -> None:
    """Console output for the person who started the emulator (it imports nothing of ours
    but core.signing, so not billoget_hooks.console)."""
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    config = EmulatorConfig(
        host=args.host,
        port=args.port,
        seed=args.seed,
        time_factor=args.time_factor,
        seed_webhook_url=args.webhook_url,
        seed_environment=args.environment,
        random_seed=args.random_seed,
        pagination=args.pagination,
    )
    app = create_app(config)
    base_url = f"http://{config.host}:{config.port}"
    if DEMO_KEY in app:
        # Printing the key and secret is the point of --seed; they never go through logging.
        _show(banner(app[DEMO_KEY], base_url))
    _show(f"Billoget emulator listening on {base_url} (Ctrl+C to stop)")
    web.run_app(app, host=config.host, port=config.port, print=None)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
