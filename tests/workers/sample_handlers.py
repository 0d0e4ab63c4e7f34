"""A user handler module as BILLOGET_HANDLERS names it (used by the tests)."""

from __future__ import annotations

from core.errors import PermanentError
from workers.handlers import HandlerContext, HandlerRegistry


def register(registry: HandlerRegistry) -> None:
    @registry.on("budget.approved")
    async def notify_sales(ctx: HandlerContext) -> str:
        row = ctx.state.get("row")
        return f"sales notified of budget {ctx.entity_id} ({'mirrored' if row else 'no row'})"

    @registry.on("customer.updated")
    def trip(ctx: HandlerContext) -> None:  # an ordinary bug: retried, then dead
        raise ValueError("customers may not be updated in this shop")

    @registry.on("product.updated")
    async def refuse(ctx: HandlerContext) -> None:
        raise PermanentError("products are managed elsewhere")
