"""The event inspector: server-rendered pages under ``/admin/`` (aiohttp-jinja2; no script,
no CDN, so it works offline), guarded by :mod:`receiver.inspector.guard`.

- ``/admin/``: the overview;
- ``/admin/deliveries`` (filters, keyset pages) and ``/admin/deliveries/{id}`` (one event);
- ``/admin/dead``: dead letters, replay one or every one matching a filter;
- ``/admin/mirror``: a budget, customer or product by id;
- ``/admin/login``, ``/admin/logout``; ``/admin/static/`` (the stylesheet).

Route names start with ``inspector.``: that is how the guards tell the pages from the JSON
admin routes (:mod:`receiver.admin`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from core.store import mirror_of
from core.store.inspect import InspectsEvents
from receiver.inspector import dead, events, login, mirror, overview
from receiver.inspector.guard import see_other
from receiver.inspector.state import STATE_KEY, InspectorState, MirrorReads
from receiver.keys import STORE_KEY

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
# the stylesheet and the icon, served from memory: aiohttp's ``add_static`` opens each file on an
# executor thread, and a request cancelled meanwhile (a browser still fetching the icon while
# the receiver stops) leaves that file to the garbage collector
_STATIC_TYPES = {".css": "text/css", ".svg": "image/svg+xml"}


async def _to_overview(request: web.Request) -> web.Response:
    return see_other("/admin/")


def _routes(app: web.Application) -> None:
    add_get, add_post = app.router.add_get, app.router.add_post
    add_get("/admin", _to_overview, name="inspector.root", allow_head=False)
    add_get("/admin/", overview.overview_page, name="inspector.overview")
    add_post("/admin/selfcheck/run", overview.run_selfcheck_now, name="inspector.selfcheck_run")
    add_get("/admin/login", login.login, name="inspector.login")
    add_post("/admin/login", login.login_post, name="inspector.login_post")
    add_post("/admin/logout", login.logout, name="inspector.logout")
    add_get("/admin/deliveries", events.events_page, name="inspector.events")
    add_get("/admin/deliveries/{delivery_id}", events.event_page, name="inspector.event")
    add_post(
        "/admin/deliveries/{delivery_id}/replay", events.replay_one, name="inspector.replay_one"
    )
    add_get("/admin/dead", dead.dead_page, name="inspector.dead")
    add_get("/admin/dead/confirm", dead.confirm_page, name="inspector.dead_confirm")
    add_post("/admin/dead/replay", dead.replay_matching, name="inspector.dead_replay")
    add_get("/admin/mirror", mirror.mirror_page, name="inspector.mirror")
    app.router.add_get("/admin/static/{name}", _static_handler(), name="inspector.static")


def _static_handler() -> Handler:
    files = {
        path.name: (path.read_bytes(), _STATIC_TYPES[path.suffix])
        for path in sorted((HERE / "static").iterdir())
        if path.suffix in _STATIC_TYPES
    }

    async def static(request: web.Request) -> web.Response:
        found = files.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        body, content_type = found
        return web.Response(body=body, content_type=content_type, charset="utf-8")

    return static


def setup_inspector(app: web.Application) -> None:
    """Templates, routes and the state of the inspector (after the store's ``cleanup_ctx``)."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
    )
    env.trim_blocks = env.lstrip_blocks = True
    app[STATE_KEY] = InspectorState()
    _routes(app)
    app.cleanup_ctx.append(_inspector_ctx)


async def _inspector_ctx(app: web.Application) -> AsyncIterator[None]:
    state, store = app[STATE_KEY], app[STORE_KEY]
    if not isinstance(store, InspectsEvents):
        log.warning("the event store %r has no inspector reads: /admin/ pages will fail", store)
    # the mirror on the store's own connections (reads only)
    state.mirror = store if isinstance(store, MirrorReads) else mirror_of(store)
    yield
    task = state.selfcheck_task
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
