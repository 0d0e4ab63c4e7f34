"""Routing events to handlers by type pattern."""

from __future__ import annotations

import pytest

from workers.handlers.context import HandlerContext
from workers.handlers.registry import HandlerRegistry


async def _noop(ctx: HandlerContext) -> None:
    return None


async def _other(ctx: HandlerContext) -> None:
    return None


def test_routing_matches_exact_type_family_wildcard_and_catch_all_in_order() -> None:
    registry = HandlerRegistry()
    registry.add("budget.*", _noop)
    registry.on("budget.approved", "*")(_other)
    assert registry.resolve("budget.approved") == [_noop, _other]
    assert registry.resolve("budget.created") == [_noop, _other]
    assert registry.resolve("invoice.paid") == [_other]
    assert HandlerRegistry().resolve("budget.created") == []


@pytest.mark.parametrize("pattern", ["budget", "*.created", "budget.app*", ""])
def test_a_malformed_handler_pattern_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="handler pattern"):
        HandlerRegistry().on(pattern)
