"""Rendering a page: the template with what every page needs (CSRF token, sign-in state)."""

from __future__ import annotations

import secrets
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from receiver.access import ACCESS_KEY

CSRF_COOKIE = "bh_csrf"
CSRF_FIELD = "csrf_token"
# request-scoped: the token this response's forms carry
CSRF_KEY = web.RequestKey("inspector_csrf", str)


def csrf_token(request: web.Request) -> str:
    """The token this request's forms carry (the cookie's, or a new one set on the response)."""
    if CSRF_KEY not in request:
        request[CSRF_KEY] = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    return request[CSRF_KEY]


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    common = {
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "token_set": bool(request.app[ACCESS_KEY].admin_token),
        "path": request.path,
    }
    return aiohttp_jinja2.render_template(template, request, {**common, **context}, status=status)
