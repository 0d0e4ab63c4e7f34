"""``POST /webhooks/billoget``: read, verify, parse, commit, answer. Relay happens after."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from core.logs import delivery_extra
from receiver.ingest import read_body
from receiver.keys import BATCHER_KEY, INGESTOR_KEY, METRICS_KEY, SETTINGS_KEY

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/billoget"
# the answer, byte for byte what ``web.json_response`` would send, without encoding a dict
_HEAD = b'{"received": true, "delivery_id": '
_TAILS = {True: b', "duplicate": true}', False: b', "duplicate": false}'}


async def receive_webhook(request: web.Request) -> web.Response:
    """200 only once the delivery is committed (or was already); errors via the middleware."""
    app = request.app
    body = await read_body(request, max_bytes=app[SETTINGS_KEY].billoget_max_body_bytes)
    delivery = app[INGESTOR_KEY].ingest(request.headers, body)
    is_new = await app[BATCHER_KEY].submit(delivery)
    app[METRICS_KEY].stored(is_new)
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "delivery %s (%s) committed, duplicate=%s",
            delivery.delivery_id,
            delivery.event_type,
            not is_new,
            extra=delivery_extra(delivery.delivery_id, delivery.event_type),
        )
    body = _HEAD + json.dumps(delivery.delivery_id).encode() + _TAILS[not is_new]
    return web.Response(body=body, content_type="application/json", charset="utf-8")
