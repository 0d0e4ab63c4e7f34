"""Sans-I/O reading of Billoget answers: rate-limit headers, ``Retry-After``, error bodies."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from core.billoget.errors import (
    ApiError,
    ApiForbiddenError,
    ApiNotFoundError,
    ApiServerError,
    ApiValidationError,
    IpNotWhitelistedError,
    KeySuspendedError,
    RateLimitedError,
    RateLimitInfo,
    ScopeError,
    UnauthorizedError,
)
from core.billoget.key import ApiKey, redact

DEFAULT_RETRY_AFTER_S = 60.0
DEFAULT_RATE_WINDOW_S = 3600
MAX_MESSAGE_CHARS = 300
_SCOPE_RE = re.compile(r"scope:?\s*([A-Za-z][A-Za-z_]*)")
_FORBIDDEN = {
    "insufficient_scope": ScopeError,
    "ip_not_whitelisted": IpNotWhitelistedError,
    "api_key_suspended": KeySuspendedError,
}
_GENERIC = {
    401: "the API key was rejected",
    403: "the API key is not allowed to do this",
    404: "not found",
    422: "the request was rejected as invalid",
    429: "rate limit exceeded",
}


def _number(headers: Mapping[str, str], name: str) -> float | None:
    try:
        value = float(headers[name])
    except (KeyError, ValueError):
        return None
    return value if math.isfinite(value) else None


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """``X-RateLimit-*`` as :class:`RateLimitInfo`; None when absent or malformed."""
    limit = _number(headers, "X-RateLimit-Limit")
    remaining = _number(headers, "X-RateLimit-Remaining")
    reset = _number(headers, "X-RateLimit-Reset")
    if limit is None or remaining is None or reset is None:
        return None
    window = _number(headers, "X-RateLimit-Window")
    return RateLimitInfo(
        limit=int(limit),
        remaining=max(0, int(remaining)),
        reset_at=reset,
        window_s=int(window) if window is not None else DEFAULT_RATE_WINDOW_S,
    )


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _missing_scope(message: str | None, details: Any) -> str | None:
    if isinstance(details, dict) and isinstance(details.get("requiredScope"), str):
        return str(details["requiredScope"])
    match = _SCOPE_RE.search(message or "")
    return match.group(1) if match else None


def error_from_response(
    status: int,
    raw_body: bytes,
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    rate_limit: RateLimitInfo | None = None,
    key: ApiKey | None = None,
    now: float | None = None,
) -> ApiError:
    """The typed error for a non-2xx answer; a body that is not Billoget's shape still maps."""
    now = time.time() if now is None else now
    body = _body(raw_body)
    code = body.get("error") if isinstance(body.get("error"), str) else None
    text = body.get("message") if isinstance(body.get("message"), str) else None
    details = body.get("details")
    shown = text or _GENERIC.get(status) or f"HTTP {status}"
    shown = redact(shown, key)[:MAX_MESSAGE_CHARS]
    message = f"{shown} ({method} {path})"
    kw: dict[str, Any] = {"status": status, "details": details, "method": method, "path": path}
    if code:
        kw["code"] = code
    retry_after = parse_retry_after(headers.get("Retry-After"), now=now)
    if status == 401:
        return UnauthorizedError(message, **kw)
    if status == 403:
        cls = _FORBIDDEN.get(code or "", ApiForbiddenError)
        scope = _missing_scope(text, details)
        if cls is ScopeError or (cls is ApiForbiddenError and text and "scope" in text.lower()):
            return ScopeError(message, missing_scope=scope, **kw)
        return cls(message, **kw)
    if status == 404:
        return ApiNotFoundError(message, **kw)
    if status == 422 or code == "validation_error":
        return ApiValidationError(message, **kw)
    if status == 429:
        if retry_after is None:
            retry_after = _until_reset(rate_limit, now)
        return RateLimitedError(message, retry_after_s=retry_after, rate_limit=rate_limit, **kw)
    if status >= 500:
        return ApiServerError(message, retry_after_s=retry_after, **kw)
    return ApiError(message, **kw)


def _until_reset(rate_limit: RateLimitInfo | None, now: float) -> float:
    if rate_limit is not None and rate_limit.reset_at > now:
        return rate_limit.reset_at - now
    return DEFAULT_RETRY_AFTER_S
