"""Steps 1-3 of the pipeline: read the raw body under a cap, verify it, parse the envelope.

Verification comes before parsing: nothing an unauthenticated sender wrote is interpreted
beyond the three ``webhook-*`` headers. The result is a :class:`~core.store.NewDelivery` ready
for the group commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from multidict import CIMultiDictProxy

from core.errors import (
    DeliveryIdMismatchError,
    PayloadTooLargeError,
    UnreadableBodyError,
    VerificationError,
)
from core.events import parse_envelope
from core.signing import DEFAULT_TOLERANCE_S, MISSING_HEADERS, WebhookSecret, verify_match
from core.store import NewDelivery
from core.times import utc_text

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SIGNED_HEADERS = (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)


async def read_body(request: web.Request, *, max_bytes: int) -> bytes:
    """The raw body; :class:`PayloadTooLargeError` as soon as it is known to exceed the cap."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLargeError(f"body of {declared} bytes exceeds the {max_bytes} byte limit")
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await request.content.readany():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLargeError(f"body exceeds the {max_bytes} byte limit")
            chunks.append(chunk)
    except (RequestPayloadError, HttpProcessingError):
        # e.g. ``Content-Encoding: gzip`` on a body that is not gzip, or a broken chunk
        raise UnreadableBodyError("the request body could not be read or decoded") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _single_header(headers: CIMultiDictProxy[str], name: str) -> str | None:
    values = headers.getall(name, [])
    if len(values) > 1:
        raise VerificationError(f"{name} header appears more than once", reason=MISSING_HEADERS)
    return values[0] if values else None


def _utc_text(moment: datetime) -> str:
    """UTC text for the store; a naive time is taken as UTC, an unconvertible one kept as is."""
    try:
        return utc_text(moment)
    except (OverflowError, ValueError):
        return moment.isoformat()


@dataclass(frozen=True, slots=True)
class Ingestor:
    """Verifies and parses one delivery (sans I/O, injectable clock)."""

    secrets: Sequence[WebhookSecret]
    tolerance_s: int = DEFAULT_TOLERANCE_S
    clock: Callable[[], float] = field(default=time.time)
    # called with (index of the secret that matched, now, webhook-timestamp) once verified
    on_verified: Callable[[int, float, int], None] | None = None

    def ingest(self, headers: CIMultiDictProxy[str], body: bytes) -> NewDelivery:
        """Verify (401), parse (400) and check the delivery id (400); never anything else."""
        msg_id, timestamp, signature = (_single_header(headers, h) for h in SIGNED_HEADERS)
        webhook_ts, matched = verify_match(
            self.secrets,
            msg_id=msg_id,
            timestamp=timestamp,
            signature=signature,
            body=body,
            tolerance_s=self.tolerance_s,
            now=self.clock,
        )
        if self.on_verified is not None:
            self.on_verified(matched, self.clock(), webhook_ts)
        envelope = parse_envelope(body)
        if envelope.metadata.delivery_id != msg_id:
            raise DeliveryIdMismatchError("webhook-id header does not match metadata.delivery_id")
        return NewDelivery(
            delivery_id=envelope.metadata.delivery_id,
            event_type=envelope.event,
            event_timestamp=_utc_text(envelope.timestamp),
            webhook_timestamp=webhook_ts,
            body=body,
            selfcheck_nonce=envelope.selfcheck_nonce,
        )
