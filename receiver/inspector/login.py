"""The login form (``ADMIN_TOKEN`` → a session cookie) and logging out."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time

from aiohttp import web

from receiver.access import ACCESS_KEY, client_ip
from receiver.inspector.guard import (
    COOKIE_PATH,
    SESSION_COOKIE,
    allowed,
    refused_page,
    see_other,
    session_value,
    set_cookie,
)
from receiver.inspector.render import render
from receiver.keys import SETTINGS_KEY

log = logging.getLogger(__name__)

FAILED_LOGIN_DELAY_S = 1.0


async def login(request: web.Request) -> web.Response:
    """``GET /admin/login``: the form (or, already signed in, the overview)."""
    if allowed(request):
        return see_other(COOKIE_PATH)
    return refused_page(request)


def _safe_next(target: object) -> str:
    text = target if isinstance(target, str) else ""
    # only a path under /admin/: never another host (an open redirect)
    if not text.startswith(COOKIE_PATH) or text.startswith("//") or "\\" in text:
        return COOKIE_PATH
    return text


async def login_post(request: web.Request) -> web.Response:
    """``POST /admin/login`` with the token: the session cookie and back where it came from."""
    policy = request.app[ACCESS_KEY]
    form = await request.post()
    given = form.get("token", "")
    if (
        not policy.admin_token
        or not isinstance(given, str)
        or not hmac.compare_digest(given.strip().encode(), policy.admin_token)
    ):
        log.info("inspector login refused from %s", client_ip(request, policy.proxies))
        await asyncio.sleep(FAILED_LOGIN_DELAY_S)  # slows guessing down
        context = {"next": _safe_next(form.get("next")), "error": "That is not the token."}
        return render(request, "login.html", context, status=401)
    ttl_s = request.app[SETTINGS_KEY].admin_session_ttl_s
    response = see_other(_safe_next(form.get("next")))
    value = session_value(policy.admin_token, ttl_s=ttl_s, now=time.time())
    set_cookie(response, request, SESSION_COOKIE, value, max_age_s=ttl_s)
    log.info("inspector login from %s", client_ip(request, policy.proxies))
    return response


async def logout(request: web.Request) -> web.Response:
    response = see_other(COOKIE_PATH)
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
