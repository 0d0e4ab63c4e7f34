"""The default handlers: keep the local mirror of budgets, customers and products.

On ``{family}.deleted`` the entity is tombstoned from the event alone (no API call). On any other
event of a family the mirror is compared with the event first (:func:`mirror_covers`): if it is
already at least as new, nothing is fetched (outcome ``coalesced``). Otherwise one worker takes
the entity's fetch lock, fetches ``GET /api/public/{family}s/{id}`` within the rate budget and
stores it conditionally; a 404 tombstones the entity. Others waiting for the lock then find the
mirror fresh. Order of arrival does not matter: the mirror's writes only move forward.
"""

from __future__ import annotations

import asyncio
from typing import cast

from core.billoget import ApiNotFoundError, Family
from core.errors import PermanentError
from core.store.sqlite.mirror import FAMILIES, MirrorRow, normalize_id
from core.times import format_time, normalize_time, utcnow
from workers.coalesce import EntityLock, mirror_covers
from workers.errors import EntityBusy, NoApiKey, ScopeMissing
from workers.handlers.context import HandlerContext
from workers.handlers.registry import HandlerRegistry

DEFAULT_LOCK_WAIT_S = 5.0
DEFAULT_BUSY_DELAY_S = 0.5


class MirrorHandlers:
    def __init__(
        self,
        *,
        lock: EntityLock,
        lock_wait_s: float = DEFAULT_LOCK_WAIT_S,
        busy_delay_s: float = DEFAULT_BUSY_DELAY_S,
    ) -> None:
        self._lock = lock
        self._lock_wait_s = lock_wait_s
        self._busy_delay_s = busy_delay_s

    def register(self, registry: HandlerRegistry) -> None:
        for family in FAMILIES:
            registry.add(f"{family}.*", self.handle)

    async def handle(self, ctx: HandlerContext) -> str:
        family = cast(Family, ctx.envelope.family)
        if ctx.entity_id is None:
            raise PermanentError(f"{ctx.envelope.event} event has no data.id")
        entity_id = normalize_id(ctx.entity_id)
        if ctx.envelope.action == "deleted":
            return await self._tombstone(ctx, family, entity_id, ctx.envelope.data.get("deletedAt"))
        if await self._covered(ctx, family, entity_id):
            return "coalesced"
        async with self._lock.hold(f"{family}:{entity_id}", wait_s=self._lock_wait_s) as held:
            if await self._covered(ctx, family, entity_id):
                return "coalesced"
            if not held:
                raise EntityBusy(
                    "another worker is fetching this entity", delay_s=self._busy_delay_s
                )
            return await self._fetch(ctx, family, entity_id)

    async def _covered(self, ctx: HandlerContext, family: str, entity_id: str) -> bool:
        row = await self._remember_row(ctx, family, entity_id)
        return mirror_covers(
            row,
            event_updated_at=ctx.envelope.data.get("updatedAt"),
            event_time=format_time(ctx.envelope.timestamp),
        )

    async def _fetch(self, ctx: HandlerContext, family: Family, entity_id: str) -> str:
        try:
            entity = await ctx.api.get_entity(family, entity_id)
        except ApiNotFoundError:
            return await self._tombstone(ctx, family, entity_id, None, fetched=True)
        except ScopeMissing as exc:
            return f"not mirrored: {exc.message}"
        except NoApiKey:
            return "not mirrored: BILLOGET_API_KEY is not set"
        updated_at = normalize_time(entity.updated_at)
        applied = await asyncio.to_thread(
            ctx.mirror.upsert_entity,
            family,
            entity_id,
            data=entity.wire(),
            updated_at=updated_at,
            fetched_at=utcnow(),
            delivery_id=ctx.delivery_id,
        )
        await self._remember_row(ctx, family, entity_id)
        return "mirrored" if applied else "fetched: the mirror already had a newer state"

    async def _tombstone(
        self,
        ctx: HandlerContext,
        family: str,
        entity_id: str,
        deleted_at: object,
        *,
        fetched: bool = False,
    ) -> str:
        when = normalize_time(deleted_at) or (
            utcnow() if fetched else format_time(ctx.envelope.timestamp)
        )
        changed = await asyncio.to_thread(
            ctx.mirror.tombstone_entity,
            family,
            entity_id,
            deleted_at=when,
            delivery_id=ctx.delivery_id,
        )
        await self._remember_row(ctx, family, entity_id)
        if not changed:
            return "coalesced: already deleted"
        return "mirrored: deleted (the API answered 404)" if fetched else "mirrored: deleted"

    @staticmethod
    async def _remember_row(ctx: HandlerContext, family: str, entity_id: str) -> MirrorRow | None:
        """The mirror's row, kept in ``ctx.state["row"]`` for the handlers that run next."""
        row = await asyncio.to_thread(ctx.mirror.get_entity, family, entity_id)
        ctx.state["row"] = row
        return row
