"""Who may see the inspector, and the protections every inspector response carries.

- With ``ADMIN_TOKEN`` set: a session cookie from the login form (or the admin routes'
  ``Authorization: Bearer`` header). The cookie is ``<expiry>.<HMAC-SHA256 of it keyed by the
  token>``: stateless, so every receiver process and host accepts it, and changing the token
  ends every session. HttpOnly, SameSite=Strict, path ``/admin/``.
- Without a token: loopback clients only (as for the admin routes; through trusted proxies, the
  forwarded address counts).
- Every POST carries a CSRF token: the value of a random HttpOnly, SameSite=Strict cookie,
  repeated in a hidden form field (double submit; a page of another site can read neither).
- Every response: a strict ``Content-Security-Policy`` (no script at all, styles from
  ``/admin/static/`` only), ``X-Frame-Options: DENY``, ``no-store`` caching.

An unauthenticated request gets the login page (401), never data.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from receiver.access import ACCESS_KEY, AccessPolicy, client_ip, is_inspector_route, via_https
from receiver.inspector.render import CSRF_COOKIE, CSRF_FIELD, CSRF_KEY, render

log = logging.getLogger(__name__)

SESSION_COOKIE = "bh_session"
COOKIE_PATH = "/admin/"

PUBLIC_ROUTES = frozenset({"inspector.login", "inspector.login_post", "inspector.static"})
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def see_other(location: str) -> web.Response:
    """A 303 redirect (after a POST, or to a page that has moved)."""
    return web.Response(status=303, headers={"Location": location})


def _signature(token: bytes, expires: str) -> str:
    return hmac.new(token, b"inspector-session:" + expires.encode(), hashlib.sha256).hexdigest()


def session_value(token: bytes, *, ttl_s: float, now: float) -> str:
    expires = str(int(now + ttl_s))
    return f"{expires}.{_signature(token, expires)}"


def session_valid(token: bytes, value: str, *, now: float) -> bool:
    expires, _, signature = value.partition(".")
    if not expires.isdigit() or int(expires) < now:
        return False
    return hmac.compare_digest(signature.encode(), _signature(token, expires).encode())


def signed_in(request: web.Request, policy: AccessPolicy) -> bool:
    """A valid session cookie, or the admin routes' bearer header."""
    if not policy.admin_token:
        return False
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie and session_valid(policy.admin_token, cookie, now=time.time()):
        return True
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(bearer) and hmac.compare_digest(bearer.encode(), policy.admin_token)


def allowed(request: web.Request) -> bool:
    policy = request.app[ACCESS_KEY]
    if policy.admin_token:
        return signed_in(request, policy)
    address = client_ip(request, policy.proxies)
    return address is not None and address.is_loopback


async def csrf_ok(request: web.Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    form = await request.post()
    given = form.get(CSRF_FIELD, "")
    return bool(cookie) and isinstance(given, str) and hmac.compare_digest(given, cookie)


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    *,
    max_age_s: float | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        max_age=None if max_age_s is None else int(max_age_s),
        httponly=True,
        samesite="Strict",
        secure=via_https(request, request.app[ACCESS_KEY].proxies),
    )


def refused_page(request: web.Request, *, csrf: bool = False) -> web.Response:
    """The login page (401) when a token is set, else why this client may not look (403)."""
    token_set = bool(request.app[ACCESS_KEY].admin_token)
    if csrf:
        reason = "This form was not sent by the inspector (its CSRF token is missing or wrong)."
        return render(request, "refused.html", {"reason": reason}, status=403)
    if token_set:
        return render(request, "login.html", {"next": request.path_qs}, status=401)
    reason = (
        "The inspector answers loopback clients only. Set ADMIN_TOKEN to reach it from "
        "elsewhere (then it asks for the token)."
    )
    return render(request, "refused.html", {"reason": reason}, status=403)


def _finish(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    response.headers.update(SECURITY_HEADERS)
    if CSRF_KEY in request and request.cookies.get(CSRF_COOKIE) != request[CSRF_KEY]:
        set_cookie(response, request, CSRF_COOKIE, request[CSRF_KEY])
    return response


@web.middleware
async def inspector_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The guard, CSRF check and headers of inspector routes; other routes pass through."""
    if not is_inspector_route(request):
        return await handler(request)
    name = request.match_info.route.name
    if name not in PUBLIC_ROUTES and not allowed(request):
        return _finish(request, refused_page(request))
    if request.method == "POST" and not await csrf_ok(request):
        log.info("inspector POST %s refused: missing or wrong CSRF token", request.path)
        return _finish(request, refused_page(request, csrf=True))
    return _finish(request, await handler(request))
