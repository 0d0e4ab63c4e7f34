"""Which costs fewer requests: one GET per pending entity, or the rest of the list's pages?"""

from __future__ import annotations

from collections.abc import Iterable
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


def pages_to_reach(
    ids: Iterable[str],
    *,
    next_page: int,
    last_max: int | None,
    pages_left: int,
    pages_total: int,
    page_size: int = PAGE_SIZE,
) -> int:
    """Pages a scan must still read to meet every id, at most ``pages_left`` (the rest of one
    cycle of the list).

    Billoget's ids are increasing integers; when the list has been seen in ascending id order
    (``last_max``, the largest id of the page before ``next_page``; 0 at the start), at most
    ``x - last_max`` entities lie between there and id ``x``, so it is at most
    ``ceil((x - last_max) / page_size)`` pages ahead, and an id already passed at most
    ``ceil(x / page_size)`` pages after reading to the end and wrapping to page 1. Otherwise
    (order not seen, ids that are not integers) the whole rest of the cycle is the bound."""
    numbers = [int(i) for i in ids if i.isdigit()]
    if last_max is None or not numbers or len(numbers) < len(set(ids)):
        return pages_left
    ahead = [n for n in numbers if n > last_max]
    behind = [n for n in numbers if n <= last_max]
    if behind:
        to_end = max(0, pages_total - next_page + 1)
        needed = to_end + -(-max(behind) // page_size)
    else:
        needed = -(-(max(ahead) - last_max) // page_size)
    return min(needed, pages_left)
