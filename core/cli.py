"""The ``billoget-hooks`` command line.

Each package contributes its own sub-commands through a ``commands`` module exposing
``register(subparsers)``; this module only knows their names, so ``core`` does not import the
packages built on it. A sub-command's handler takes the parsed args and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from core.console import err
from core.errors import ConfigError

COMMAND_MODULES = (
    "receiver.commands",
    "workers.commands",
    "emulator.commands",
    "core.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billoget-hooks",
        description="Receive, verify, store and process Billoget webhooks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        err(f"billoget-hooks: configuration error: {exc.message}")
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
