"""The API middleware: request log, API key checks, hourly rate window, API faults.

Order for every non-admin request: authenticate (401/403, not counted), count it in the key's
hourly window (every request that passed key validation counts, except those the window itself
refuses), then injected faults, then the handler. Every authenticated answer, errors included,
carries the ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import pydantic
from aiohttp import web
from aiohttp.typedefs import Handler

from emulator import errors
from emulator.keys import KEY_RE, ApiKey, KeyStatus, KeyStore, Scope
from emulator.state import EMULATOR, Emulator

ADMIN_PREFIX = "/__emulator"
API_KEY = web.RequestKey("api_key", ApiKey)
_ANSWERABLE = (errors.ApiError, web.HTTPException, pydantic.ValidationError)

log = logging.getLogger(__name__)


def authenticate(request: web.Request, keys: KeyStore) -> ApiKey:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.unauthorized()
    api_key = keys.find(token) if KEY_RE.match(token) else None
    if api_key is None or api_key.status in (KeyStatus.REVOKED, KeyStatus.EXPIRED):
        raise errors.invalid_api_key()
    if api_key.status is KeyStatus.SUSPENDED:
        raise errors.suspended()
    if not api_key.allows_ip(request.remote):
        raise errors.ip_not_whitelisted(request.remote or "unknown")
    return api_key


def require(request: web.Request, scope: Scope) -> ApiKey:
    """The request's key, if it holds ``scope``; else 403 ``insufficient_scope``."""
    api_key = request[API_KEY]
    if scope not in api_key.scopes:
        raise errors.insufficient_scope(scope.value)
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


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(ADMIN_PREFIX):
        return await _answer(request, handler)
    emu = request.app[EMULATOR]
    response = await _serve_api(request, handler, emu)
    api_key = request.get(API_KEY)
    emu.requests.record(
        method=request.method,
        path=request.path,
        key_prefix=api_key.prefix if api_key else None,
        status=response.status,
    )
    return response
