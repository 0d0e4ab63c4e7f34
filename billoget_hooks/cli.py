"""The ``billoget-hooks`` command line.

Each package contributes its own sub-commands through a ``commands`` module exposing
``register(subparsers)``; the shell imports them all statically, so a packaging mistake is an
ImportError at start, never a silently missing sub-command. A sub-command's handler takes the
parsed args and returns an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from billoget_hooks import commands as shell_commands
from billoget_hooks import reconcile_cmd
from billoget_hooks.console import err
from core.errors import ConfigError
from emulator import commands as emulator_commands
from receiver import commands as receiver_commands
from workers import commands as workers_commands

COMMAND_MODULES = (
    receiver_commands,
    workers_commands,
    emulator_commands,
    shell_commands,
    reconcile_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billoget-hooks",
        description="Receive, verify, store and process Billoget webhooks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        for line in exc.message.splitlines():  # one line per mistake
            err(f"billoget-hooks: configuration error: {line}")
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
