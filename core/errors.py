"""One error tree for the whole service.

Every error a client can cause carries an HTTP status and a Billoget-style code, so one
middleware maps them to ``{"error": code, "message": text}``. Messages never contain a secret,
an API key or a request body.
"""

from __future__ import annotations


class BillogetHooksError(Exception):
    """Base of every error raised by this service."""

    status: int = 500
    code: str = "internal_error"
    # why a delivery was refused, as counted in ``billoget_hooks_deliveries_total{result}``
    # (issue 11); "" for errors that are not about a delivery
    reason: str = ""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(BillogetHooksError):
    """The service is misconfigured; start-up stops with this one line."""

    code = "config_error"


class ClientError(BillogetHooksError):
    """Something the sender did wrong: always a 4xx."""

    status = 400
    code = "bad_request"


class VerificationError(ClientError):
    """Missing, malformed or wrong signature, or a timestamp outside the tolerance.

    ``reason`` says which: ``missing_headers`` (a ``webhook-*`` header missing, repeated or
    malformed), ``timestamp_too_old``, ``timestamp_in_future`` or ``invalid_signature``.
    """

    status = 401
    code = "invalid_signature"
    reason = "invalid_signature"

    def __init__(self, message: str, *, reason: str = "invalid_signature") -> None:
        super().__init__(message)
        self.reason = reason


class InvalidEnvelopeError(ClientError):
    """The body is not JSON or not a Billoget envelope."""

    status = 400
    code = "invalid_payload"
    reason = "malformed_body"


class UnreadableBodyError(ClientError):
    """The body's transfer or content encoding is broken."""

    status = 400
    code = "invalid_body"
    reason = "malformed_body"


class DeliveryIdMismatchError(ClientError):
    """``webhook-id`` is not the envelope's ``metadata.delivery_id``."""

    status = 400
    code = "delivery_id_mismatch"
    reason = "id_mismatch"


class PayloadTooLargeError(ClientError):
    status = 413
    code = "payload_too_large"
    reason = "payload_too_large"


class ForbiddenError(ClientError):
    status = 403
    code = "forbidden"


class UnauthorizedAdminError(ForbiddenError):
    status = 401
    code = "unauthorized"


class SenderNotAllowedError(ForbiddenError):
    code = "ip_not_allowed"
    reason = "ip_not_allowed"


class NotFoundError(ClientError):
    status = 404
    code = "not_found"


class StoreUnavailableError(BillogetHooksError):
    """The event store could not commit; the sender should retry (503)."""

    status = 503
    code = "store_unavailable"
    reason = "store_unavailable"


class OverloadedError(StoreUnavailableError):
    """Too many deliveries are waiting for the store: the sender should retry (503)."""

    code = "overloaded"
    reason = "overloaded"


class ShuttingDownError(StoreUnavailableError):
    code = "shutting_down"


class PermanentError(BillogetHooksError):
    """Processing an event can never succeed: do not retry, mark it dead with the reason."""


class RetryLater(BillogetHooksError):
    """Processing should be retried after ``delay_s`` (e.g. a rate budget is spent)."""

    def __init__(self, message: str, *, delay_s: float) -> None:
        super().__init__(message)
        self.delay_s = delay_s
