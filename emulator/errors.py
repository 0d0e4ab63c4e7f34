"""Billoget's error bodies, ``{"error": code, "message": text, "details"?}``, in one place."""

from __future__ import annotations

import math
from typing import Any

import pydantic
from aiohttp import web


class ApiError(Exception):
    """An error answered to the client exactly as Billoget shapes it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


AUTH_EXPECTED = "Authorization: Bearer bk_(live|test)_<key>"


def unauthorized(*, header_present: bool = False) -> ApiError:
    message = (
        "Invalid Authorization header format"
        if header_present
        else ("Missing Authorization header")
    )
    return ApiError(401, "unauthorized", message, details={"expected": AUTH_EXPECTED})


def invalid_api_key(key_prefix: str) -> ApiError:
    return ApiError(
        401,
        "invalid_api_key",
        "Invalid API key format or key not found",
        details={"keyPrefix": key_prefix},
    )


def insufficient_scope(scope: str, held: list[str]) -> ApiError:
    return ApiError(
        403,
        "insufficient_scope",
        f"API key does not have required scope: {scope}",
        details={"requiredScope": scope, "keyScopes": held},
    )


def suspended() -> ApiError:
    return ApiError(403, "api_key_suspended", "API key is suspended")


def ip_not_whitelisted(ip: str) -> ApiError:
    return ApiError(403, "ip_not_whitelisted", f"IP address {ip} is not whitelisted for this key")


def not_found(what: str = "Resource") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def validation_error(message: str, details: Any = None) -> ApiError:
    return ApiError(422, "validation_error", message, details=details)


def field_error(field: str, message: str) -> ApiError:
    """A 422 about one field of the body or query, named in the message and the details."""
    return validation_error(f"{field}: {message}", [{"field": field, "message": message}])


def conflict(message: str) -> ApiError:
    """A 409: the resource is not in a state that allows the change."""
    return ApiError(409, "conflict", message)


def rate_limited(*, limit: int, window_s: float, retry_after_s: float) -> ApiError:
    retry_after = max(0, math.ceil(retry_after_s))
    return ApiError(
        429,
        "rate_limit_exceeded",
        f"Rate limit exceeded. Try again in {retry_after} seconds",
        details={"limit": limit, "window": math.ceil(window_s), "retryAfter": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def from_validation(exc: pydantic.ValidationError) -> ApiError:
    details = [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    named = ", ".join(dict.fromkeys(d["field"] for d in details))
    return validation_error(f"Request validation failed: {named}", details)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def to_response(exc: Exception) -> web.Response:
    """Map any error a handler can raise to a Billoget-shaped JSON response."""
    if isinstance(exc, pydantic.ValidationError):
        exc = from_validation(exc)
    if isinstance(exc, web.HTTPException):
        code = _HTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "internal_error")
        message = "Route not found" if exc.status == 404 else exc.reason
        exc = ApiError(exc.status, code, message)
    if not isinstance(exc, ApiError):
        exc = ApiError(500, "internal_error", "Internal server error")
    return web.json_response(exc.body(), status=exc.status, headers=exc.headers)
