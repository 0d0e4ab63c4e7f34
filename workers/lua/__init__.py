"""The workers' Redis scripts, one ``.lua`` file each (package data), loaded by name.

Each file starts with a header naming its KEYS and ARGV and what it returns. They read
``redis.call('TIME')`` for "now", so every worker judges time by the one Redis clock.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def script(name: str) -> str:
    """The text of ``workers/lua/<name>.lua``."""
    return files(__package__).joinpath(f"{name}.lua").read_text(encoding="utf-8")
