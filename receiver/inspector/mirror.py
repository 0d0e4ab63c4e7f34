"""The mirror lookup: a budget, customer or product by id, as the workers last stored it."""

from __future__ import annotations

from aiohttp import web

from receiver.admin import read
from receiver.inspector.events import FAMILIES, detail_url
from receiver.inspector.present import pretty_json
from receiver.inspector.render import render
from receiver.inspector.state import STATE_KEY

MAX_ID_CHARS = 64


async def mirror_page(request: web.Request) -> web.Response:
    family = request.query.get("family", "budget")
    entity_id = request.query.get("id", "").strip()
    error, row = None, None
    mirror = request.app[STATE_KEY].mirror
    if family not in FAMILIES:
        error, family = f"family must be one of {', '.join(FAMILIES)}", "budget"
    elif len(entity_id) > MAX_ID_CHARS:
        error = f"an id is at most {MAX_ID_CHARS} characters"
    elif entity_id and mirror is None:
        error = "this store keeps no mirror the receiver can read"
    elif entity_id and mirror is not None:
        row = await read(request, mirror.get_entity, family, entity_id)
    context = {
        "families": FAMILIES,
        "family": family,
        "entity_id": entity_id,
        "row": row,
        "data": pretty_json(row.data) if row is not None and row.data is not None else None,
        "error": error,
        "detail_url": detail_url,
        "searched": bool(entity_id) and error is None,
    }
    return render(request, "mirror.html", context)
