"""Typed errors of the Billoget API client, and the rate-limit headers every answer carries.

Each error has ``.status`` (the HTTP status; 502/504 when no answer came), ``.code`` (Billoget's
error code), ``.message`` (Billoget's text plus method and path: never a header or the key) and
``.retryable``. The permanent ones (401, 403, 404, 422, a response that breaks the contract) are
also :class:`~core.errors.PermanentError`; a 429 is also :class:`~core.errors.RetryLater`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import BillogetHooksError, PermanentError, RetryLater


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """``X-RateLimit-Limit|Remaining|Reset|Window``; ``reset_at`` is unix seconds."""

    limit: int
    remaining: int
    reset_at: float
    window_s: int


class ApiError(BillogetHooksError):
    """Base of every Billoget API failure. Other statuses (3xx, 400, 409, ...) are this class."""

    status: int = 502
    code: str = "api_error"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Any = None,
        method: str = "",
        path: str = "",
    ) -> None:
        BillogetHooksError.__init__(self, message)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.details = details
        self.method = method
        self.path = path

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, {self.message!r})"


class UnauthorizedError(ApiError, PermanentError):
    """401: the key is missing (``unauthorized``) or unknown/revoked (``invalid_api_key``)."""

    status = 401
    code = "unauthorized"


class ApiForbiddenError(ApiError, PermanentError):
    """403 with a code this client does not know; the known ones are the subclasses."""

    status = 403
    code = "forbidden"


class ScopeError(ApiForbiddenError):
    """403 ``insufficient_scope``; ``missing_scope`` names it (e.g. ``WRITE_BUDGETS``)."""

    code = "insufficient_scope"

    def __init__(self, message: str, *, missing_scope: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.missing_scope = missing_scope


class IpNotWhitelistedError(ApiForbiddenError):
    code = "ip_not_whitelisted"


class KeySuspendedError(ApiForbiddenError):
    code = "api_key_suspended"


class ApiNotFoundError(ApiError, PermanentError):
    status = 404
    code = "not_found"


class ApiValidationError(ApiError, PermanentError):
    """422 ``validation_error``; ``details`` holds Billoget's per-field list when given."""

    status = 422
    code = "validation_error"


class ApiResponseError(ApiError, PermanentError):
    """A 2xx answer that is not the documented JSON shape."""

    code = "invalid_response"


class RateLimitedError(ApiError, RetryLater):
    """429 ``rate_limit_exceeded``: wait ``retry_after_s`` (also ``delay_s``) seconds."""

    status = 429
    code = "rate_limit_exceeded"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float,
        rate_limit: RateLimitInfo | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s
        self.delay_s = retry_after_s
        self.rate_limit = rate_limit


class ApiServerError(ApiError):
    """5xx; ``retry_after_s`` is set when the answer had ``Retry-After`` (e.g. a 503)."""

    status = 500
    code = "server_error"
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s


class ApiTimeoutError(ApiError):
    """No complete answer within the client's timeout."""

    status = 504
    code = "timeout"
    retryable = True


class ApiConnectionError(ApiError):
    """Connection refused, reset, DNS failure, TLS failure, truncated answer."""

    status = 502
    code = "connection_error"
    retryable = True
