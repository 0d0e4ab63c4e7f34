"""The API middleware: request log, API key checks, hourly rate window, API faults.

Order for every non-admin request: authenticate (401/403, not counted), count it in the key's
hourly window (every request that passed key validation counts, except those the window itself
refuses), then injected faults, then the handler. Every authenticated answer, errors included,
carries the ``X-RateLimit-*`` headers. The public budget routes (``/api/public/budgets/token/``,
``.../public/{id}``, ``.../debug/token/``) need no key, as the SDK's UBS service says.

Every JSON body the API answers carries the docs' ``meta`` (``requestId``, ``timestamp``), and
the request id is also the ``X-Request-ID`` header. Admin routes stand for Billoget's
dashboard: the changes they make are sent with ``metadata.source`` ``web``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import secrets
from datetime import UTC, datetime

import pydantic
from aiohttp import web
from aiohttp.typedefs import Handler

from emulator import errors, source
from emulator.clock import iso
from emulator.keys import KEY_PREFIX_LENGTH, KEY_RE, ApiKey, KeyStatus, KeyStore, Scope
from emulator.state import EMULATOR, Emulator

ADMIN_PREFIX = "/__emulator"
API_KEY = web.RequestKey("api_key", ApiKey)
_ANSWERABLE = (errors.ApiError, web.HTTPException, pydantic.ValidationError)
PUBLIC_PATH = re.compile(r"^(/v1)?/api/public/budgets/(token|public|debug/token)/")

log = logging.getLogger(__name__)


def _shown_prefix(token: str) -> str:
    """What an ``invalid_api_key`` answer may show of the token: a key's public prefix."""
    return token[:KEY_PREFIX_LENGTH] if token.startswith("bk_") else token[:3]


def authenticate(request: web.Request, keys: KeyStore) -> ApiKey:
    header = request.headers.get("Authorization")
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.unauthorized(header_present=bool(header and header.strip()))
    api_key = keys.find(token) if KEY_RE.match(token) else None
    if api_key is None or api_key.status in (KeyStatus.REVOKED, KeyStatus.EXPIRED):
        raise errors.invalid_api_key(_shown_prefix(token))
    if api_key.status is KeyStatus.SUSPENDED:
        raise errors.suspended()
    if not api_key.allows_ip(request.remote):
        raise errors.ip_not_whitelisted(request.remote or "unknown")
    return api_key


def require(request: web.Request, scope: Scope) -> ApiKey:
    """The request's key, if it holds ``scope``; else 403 ``insufficient_scope``."""
    api_key = request[API_KEY]
    if scope not in api_key.scopes:
        raise errors.insufficient_scope(scope.value, sorted(s.value for s in api_key.scopes))
    return api_key


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _ANSWERABLE as exc:
        return errors.to_response(exc)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return errors.to_response(errors.ApiError(500, "internal_error", "Internal server error"))


async def _serve_api(request: web.Request, handler: Handler, emu: Emulator) -> web.StreamResponse:
    try:
        api_key = authenticate(request, emu.keys)
    except errors.ApiError as exc:
        return errors.to_response(exc)
    request[API_KEY] = api_key
    decision = emu.hourly.hit(api_key.id, api_key.rate_limit_per_hour)
    if decision.allowed:
        response = await _answer(request, functools.partial(_faulty, handler=handler, emu=emu))
    else:
        refusal = errors.rate_limited(
            limit=decision.limit, window_s=decision.window_s, retry_after_s=decision.retry_after_s
        )
        response = errors.to_response(refusal)
    response.headers.update(decision.headers())
    return response


async def _faulty(request: web.Request, *, handler: Handler, emu: Emulator) -> web.StreamResponse:
    faults = emu.faults
    if faults.faults.api_latency_ms:
        await asyncio.sleep(faults.faults.api_latency_ms / 1000)
    if faults.take_429():
        raise errors.rate_limited(
            limit=request[API_KEY].rate_limit_per_hour,
            window_s=emu.hourly.window_s,
            retry_after_s=faults.faults.retry_after_s,
        )
    if faults.chance(faults.faults.api_error_rate):
        raise errors.ApiError(500, "internal_error", "Internal server error (injected fault)")
    return await handler(request)


def with_meta(response: web.StreamResponse, request_id: str) -> web.StreamResponse:
    """Add the docs' ``meta`` to a JSON object body (and the ``X-Request-ID`` header)."""
    response.headers["X-Request-ID"] = request_id
    if not isinstance(response, web.Response) or response.content_type != "application/json":
        return response
    try:
        body = json.loads(response.body or b"null")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return response
    if isinstance(body, dict):
        body["meta"] = {"requestId": request_id, "timestamp": iso(datetime.now(UTC))}
        response.body = json.dumps(body).encode()
    return response


async def _serve(request: web.Request, handler: Handler, emu: Emulator) -> web.StreamResponse:
    if request.path.startswith(ADMIN_PREFIX):
        with source.acting_as("web"):
            return await _answer(request, handler)
    if PUBLIC_PATH.match(request.path):
        return await _answer(request, handler)
    return await _serve_api(request, handler, emu)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    response = await _serve(request, handler, emu)
    if request.path.startswith(ADMIN_PREFIX):
        return response
    api_key = request.get(API_KEY)
    emu.requests.record(
        method=request.method,
        path=request.path,
        key_prefix=api_key.prefix if api_key else None,
        status=response.status,
    )
    return with_meta(response, "req_" + secrets.token_hex(8))
