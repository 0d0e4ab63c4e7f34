"""``POST /webhooks/billoget``: read, verify, parse, commit, answer. Relay happens after."""

from __future__ import annotations

import logging

from aiohttp import web

from receiver.ingest import read_body
from receiver.keys import BATCHER_KEY, INGESTOR_KEY, SETTINGS_KEY

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/billoget"


async def receive_webhook(request: web.Request) -> web.Response:
    """200 only once the delivery is committed (or was already); errors via the middleware."""
    app = request.app
    body = await read_body(request, max_bytes=app[SETTINGS_KEY].billoget_max_body_bytes)
    delivery = app[INGESTOR_KEY].ingest(request.headers, body)
    is_new = await app[BATCHER_KEY].submit(delivery)
    log.debug(
        "delivery %s (%s) committed, duplicate=%s",
        delivery.delivery_id,
        delivery.event_type,
        not is_new,
    )
    return web.json_response(
        {"received": True, "delivery_id": delivery.delivery_id, "duplicate": not is_new}
    )
