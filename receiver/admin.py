"""Admin routes under ``/admin/`` (token or loopback only: see :mod:`receiver.access`).

- ``GET /admin/selfcheck``: the last self-check report; ``POST`` runs one now.
- ``GET /admin/events?status=&event=&limit=``: recent events (metadata, never bodies).
- ``POST /admin/events/{delivery_id}/replay``: back through the pipeline (the relay sends it).

The event inspector's pages (:mod:`receiver.inspector`) build on these.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from core.errors import ClientError, NotFoundError
from core.selfcheck.run import last_report, run_selfcheck
from core.store import RelayItem, Status, StoredEvent
from receiver.keys import READ_EXECUTOR_KEY, RELAY_KEY, SETTINGS_KEY, STORE_KEY, WRITE_EXECUTOR_KEY

MAX_LIST_LIMIT = 500
DEFAULT_LIST_LIMIT = 50


def _event_json(event: StoredEvent) -> dict[str, Any]:
    return {
        "delivery_id": event.delivery_id,
        "event": event.event_type,
        "status": event.status.value,
        "attempts": event.attempts,
        "outcome": event.outcome,
        "last_error": event.last_error,
        "received_at": event.received_at,
        "updated_at": event.updated_at,
        "next_attempt_at": event.next_attempt_at,
    }


async def read(request: web.Request, fn: Any, *args: Any, **kwargs: Any) -> Any:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app[READ_EXECUTOR_KEY], lambda: fn(*args, **kwargs))


async def get_selfcheck(request: web.Request) -> web.Response:
    found = await read(request, last_report, request.app[STORE_KEY])
    if found is None:
        raise NotFoundError("no self-check has run yet")
    at, report = found
    return web.json_response({"at": at, "report": json.loads(report.model_dump_json())})


async def post_selfcheck(request: web.Request) -> web.Response:
    report = await run_selfcheck(request.app[SETTINGS_KEY], store=request.app[STORE_KEY])
    return web.json_response(json.loads(report.model_dump_json()), status=200)


def _list_args(request: web.Request) -> dict[str, Any]:
    query = request.query
    try:
        status = Status(query["status"]) if "status" in query else None
        limit = min(int(query.get("limit", DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT)
    except ValueError:
        raise ClientError(
            f"status must be one of {', '.join(s.value for s in Status)}; limit an integer"
        ) from None
    return {"status": status, "event_type": query.get("event"), "limit": max(limit, 1)}


async def list_events(request: web.Request) -> web.Response:
    events = await read(request, request.app[STORE_KEY].list_events, **_list_args(request))
    return web.json_response({"data": [_event_json(e) for e in events]})


async def replay_items(app: web.Application, items: Sequence[RelayItem]) -> int:
    """Send stored events back through the pipeline: ``received`` with attempts reset (on the
    store-writer thread), then to the relay; the number requeued. Should the relay be full,
    the sweeper sends the rest."""
    loop = asyncio.get_running_loop()
    ids = [item.delivery_id for item in items]
    requeued: int = await loop.run_in_executor(app[WRITE_EXECUTOR_KEY], app[STORE_KEY].requeue, ids)
    app[RELAY_KEY].push_items(items)
    return requeued


async def replayable(request: web.Request, delivery_id: str) -> StoredEvent:
    """The stored event to replay; NotFoundError / ClientError otherwise."""
    event = await read(request, request.app[STORE_KEY].get, delivery_id)
    if event is None:
        raise NotFoundError(f"no event with delivery id {delivery_id!r}")
    if event.selfcheck_nonce:
        raise ClientError("self-check deliveries are never handed to handlers")
    return event


async def replay_event(request: web.Request) -> web.Response:
    delivery_id = request.match_info["delivery_id"]
    event = await replayable(request, delivery_id)
    await replay_items(request.app, [RelayItem(event.delivery_id, event.event_type)])
    return web.json_response({"replayed": True, "delivery_id": delivery_id}, status=202)


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get("/admin/selfcheck", get_selfcheck)
    app.router.add_post("/admin/selfcheck", post_selfcheck)
    app.router.add_get("/admin/events", list_events)
    app.router.add_post("/admin/events/{delivery_id}/replay", replay_event)
