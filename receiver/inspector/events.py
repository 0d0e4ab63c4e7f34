"""The events pages: the filtered list (keyset pages, newest first) and one event in full."""

from __future__ import annotations

import json
from typing import Any, get_args
from urllib.parse import quote

from aiohttp import web

from core.events import Family
from core.store import RelayItem, Status, StoredEvent
from core.store.inspect import EventSummary, InspectsEvents
from receiver.admin import read, replay_items, replayable
from receiver.inspector.filters import FilterForm, parse_filters
from receiver.inspector.guard import see_other
from receiver.inspector.present import encode_cursor, pretty_body, pretty_json
from receiver.inspector.render import render
from receiver.inspector.state import STATE_KEY
from receiver.keys import STORE_KEY

PAGE_SIZE = 50
FAMILIES: tuple[str, ...] = get_args(Family)


def detail_url(delivery_id: str) -> str:
    return f"/admin/deliveries/{quote(delivery_id, safe='')}"


async def page_of(request: web.Request, form: FilterForm, *, path: str) -> dict[str, Any]:
    """One page of matching events and the link to the next (older) one."""
    store: InspectsEvents = request.app[STORE_KEY]  # type: ignore[assignment]
    rows: list[EventSummary] = await read(
        request, store.page_events, form.where, before=form.before, limit=PAGE_SIZE + 1
    )
    older = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        older = f"{path}?{form.query(before=encode_cursor(rows[-1].cursor))}"
    return {
        "form": form,
        "rows": rows,
        "older": older,
        "newest": f"{path}?{form.query()}" if form.before else None,
        "statuses": [s.value for s in Status],
        "detail_url": detail_url,
    }


async def events_page(request: web.Request) -> web.StreamResponse:
    form = parse_filters(request.query)
    if form.lookup and not form.before:
        found = await read(request, request.app[STORE_KEY].get, form.lookup)
        if found is not None:  # a delivery id: straight to it
            return see_other(detail_url(found.delivery_id))
    context = await page_of(request, form, path="/admin/deliveries")
    return render(request, "events.html", context)


def _entity(event: StoredEvent) -> tuple[str | None, str | None]:
    """(family when it is a mirrored one, entity id) the envelope is about."""
    try:
        entity_id = json.loads(event.body)["data"]["id"]
    except (ValueError, KeyError, TypeError):
        return None, None
    if isinstance(entity_id, bool) or not isinstance(entity_id, int | str):
        return None, None
    family = event.event_type.partition(".")[0]
    return (family if family in FAMILIES else None), str(entity_id)


async def event_page(request: web.Request) -> web.Response:
    delivery_id = request.match_info["delivery_id"]
    event = await read(request, request.app[STORE_KEY].get, delivery_id)
    if event is None:
        return render(request, "missing.html", {"delivery_id": delivery_id}, status=404)
    store: InspectsEvents = request.app[STORE_KEY]  # type: ignore[assignment]
    history = await read(request, store.attempts, delivery_id)
    family, entity_id = _entity(event)
    mirror_row, mirror = None, request.app[STATE_KEY].mirror
    if family and entity_id and mirror is not None:
        mirror_row = await read(request, mirror.get_entity, family, entity_id)
    context: dict[str, Any] = {
        "event": event,
        "body": pretty_body(event.body),
        "history": history,
        "family": family,
        "entity_id": entity_id,
        "mirror_row": mirror_row,
        "mirror_data": pretty_json(mirror_row.data) if mirror_row and mirror_row.data else None,
        "replayed": request.query.get("replayed") == "1",
        "detail_url": detail_url,
    }
    return render(request, "event.html", context)


async def replay_one(request: web.Request) -> web.Response:
    """``POST /admin/deliveries/{id}/replay``: back through the pipeline, then its page."""
    event = await replayable(request, request.match_info["delivery_id"])
    await replay_items(request.app, [RelayItem(event.delivery_id, event.event_type)])
    form = await request.post()
    back = form.get("back")
    if isinstance(back, str) and back.startswith("/admin/") and not back.startswith("//"):
        return see_other(back)
    return see_other(detail_url(event.delivery_id) + "?replayed=1")
