"""Dead letters: the dead events (filtered like the events page), replay one, or replay every
one matching the filter after a confirmation screen that says how many."""

from __future__ import annotations

import logging

from aiohttp import web

from core.store import RelayItem, Status
from core.store.inspect import InspectsEvents
from receiver.admin import read, replay_items
from receiver.inspector.events import page_of
from receiver.inspector.filters import parse_filters
from receiver.inspector.guard import see_other
from receiver.inspector.present import decode_cursor, encode_cursor
from receiver.inspector.render import render
from receiver.keys import STORE_KEY

log = logging.getLogger(__name__)

REPLAY_CHUNK = 500
DEAD_PATH = "/admin/dead"


async def dead_page(request: web.Request) -> web.Response:
    form = parse_filters(request.query, fixed_status=Status.DEAD)
    context = await page_of(request, form, path=DEAD_PATH)
    context["replayed"] = request.query.get("replayed")
    return render(request, "dead.html", context)


async def confirm_page(request: web.Request) -> web.Response:
    """``GET /admin/dead/confirm``: how many would be replayed, and the button that does it."""
    form = parse_filters(request.query, fixed_status=Status.DEAD)
    store: InspectsEvents = request.app[STORE_KEY]  # type: ignore[assignment]
    where = form.where
    count = await read(request, store.count_events, where)
    newest = await read(request, store.page_events, where, limit=1)
    context = {
        "form": form,
        "count": count,
        # the newest one now: what dies after this screen is not replayed by its button
        "until": encode_cursor(newest[0].cursor) if newest else "",
    }
    return render(request, "confirm.html", context)


async def replay_matching(request: web.Request) -> web.Response:
    """``POST /admin/dead/replay``: replay every dead event matching the filter, up to the
    newest one the confirmation screen counted, in chunks of :data:`REPLAY_CHUNK`."""
    posted = await request.post()
    fields = {k: v for k, v in posted.items() if isinstance(v, str)}
    form = parse_filters(fields, fixed_status=Status.DEAD)
    until = decode_cursor(fields.get("until"))
    store: InspectsEvents = request.app[STORE_KEY]  # type: ignore[assignment]
    replayed, before = 0, None
    while until is not None:
        rows = await read(request, store.page_events, form.where, before=before, limit=REPLAY_CHUNK)
        if not rows:
            break
        before = rows[-1].cursor
        items = [
            RelayItem(r.delivery_id, r.event_type)
            for r in rows
            if r.cursor <= until and not r.selfcheck_nonce
        ]
        if items:
            replayed += await replay_items(request.app, items)
    log.info("inspector: replayed %d dead events (filter %s)", replayed, form.query() or "none")
    return see_other(f"{DEAD_PATH}?{form.query(replayed=str(replayed))}")
