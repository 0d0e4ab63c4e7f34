"""Which costs fewer requests: one GET per pending entity, or the rest of the list's pages?"""

from __future__ import annotations

from typing import Literal

PAGE_SIZE = 100
Method = Literal["get", "scan"]


def pages_for(total: int, *, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // page_size))


def choose(pending: int, *, pages_left: int | None) -> Method:
    """``get`` when GETs cost no more than the pages still to read (``pages_left``, None when
    the list's total is not known yet: a scan's first page tells it, so a scan is tried when
    more than one entity is pending)."""
    if pending <= 1:
        return "get"
    if pages_left is None:
        return "scan"
    return "get" if pending <= pages_left else "scan"
