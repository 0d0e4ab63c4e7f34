"""One middleware maps every error to Billoget's ``{"error": code, "message": text}``.

Our error tree (:mod:`core.errors`) carries status and code; aiohttp's own HTTP errors (404,
405, ...) get a code derived from their reason. Anything unexpected is a logged 500
``internal_error`` that never echoes details; client input must never get there.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from core.errors import BillogetHooksError, PayloadTooLargeError, UnreadableBodyError
from core.logs import delivery_extra
from receiver.keys import METRICS_KEY

log = logging.getLogger(__name__)

RETRY_AFTER_S = 1
WEBHOOKS_PREFIX = "/webhooks/"  # refusals there are counted (billoget_hooks_deliveries_total)
_KEPT_HEADERS = ("Allow",)


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def _code_for(exc: web.HTTPException) -> str:
    return exc.reason.lower().replace(" ", "_").replace("-", "_")


def _from_service_error(request: web.Request, exc: BillogetHooksError) -> web.Response:
    if exc.reason and request.path.startswith(WEBHOOKS_PREFIX):
        metrics = request.app.get(METRICS_KEY)
        if metrics is not None:
            metrics.refused(exc.reason)
    delivery_id = request.headers.get("webhook-id", "-")[:64]
    extra = delivery_extra(delivery_id)
    if exc.status >= 500:
        log.warning(
            "delivery %r: %s %s: %s", delivery_id, exc.status, exc.code, exc.message, extra=extra
        )
    else:
        log.info(
            "delivery %r rejected: %s %s: %s",
            delivery_id, exc.status, exc.code, exc.message, extra=extra,
        )  # fmt: skip
    response = error_response(exc.status, exc.code, exc.message)
    if exc.status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
    if isinstance(exc, PayloadTooLargeError | UnreadableBodyError):
        response.force_close()  # do not read the rest of an oversized or broken body
    return response


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    response = error_response(exc.status, _code_for(exc), exc.reason)
    for name in _KEPT_HEADERS:
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BillogetHooksError as exc:
        return _from_service_error(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error")
