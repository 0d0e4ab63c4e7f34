"""What a command-line tool says to the person running it (not logging).

Command output goes to stdout, complaints to stderr, each line flushed so it interleaves
correctly with child processes' output. Diagnostics for operators go through ``logging``.
"""

from __future__ import annotations

import sys


def out(text: str = "") -> None:
    """One line (or block) of command output on stdout."""
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def err(text: str) -> None:
    """A complaint about the command line or its outcome, on stderr."""
    sys.stderr.write(f"{text}\n")
    sys.stderr.flush()
