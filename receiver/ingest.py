"""Steps 1-3 of the pipeline: read the raw body under a cap, verify it, parse the envelope.

Verification comes before parsing: nothing an unauthenticated sender wrote is interpreted
beyond the signature scheme's headers (:mod:`core.signing`, ``BILLOGET_SIGNATURE_SCHEME``).
The result is a :class:`~core.store.NewDelivery` ready
for the group commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from multidict import CIMultiDictProxy

from core.errors import (
    DeliveryIdMismatchError,
    InvalidEnvelopeError,
    PayloadTooLargeError,
    UnreadableBodyError,
)
from core.events import parse_envelope
from core.settings import Settings
from core.signing import Verifier, build_verifier
from core.signing.base import ID_RE
from core.store import NewDelivery
from core.times import utc_text


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


def _utc_text(moment: datetime) -> str:
    """UTC text for the store; a naive time is taken as UTC, an unconvertible one kept as is."""
    try:
        return utc_text(moment)
    except (OverflowError, ValueError):
        return moment.isoformat()


@dataclass(frozen=True, slots=True)
class Ingestor:
    """Verifies (with the configured scheme's verifier) and parses one delivery (sans I/O).

    The delivery id is the id header's where the scheme has one (it must equal the envelope's
    ``metadata.delivery_id``), else the envelope's; the webhook timestamp is the signed one,
    or the receiving time (``clock``) where the scheme signs none.
    """

    verifier: Verifier
    id_header: str = "webhook-id"
    clock: Callable[[], float] = field(default=time.time)
    # called with (index of the secret that matched, now, the signed timestamp or None) once
    # verified (the metrics)
    on_verified: Callable[[int, float, int | None], None] | None = None

    def ingest(self, headers: CIMultiDictProxy[str], body: bytes) -> NewDelivery:
        """Verify (401), parse (400) and check the delivery id (400); never anything else."""
        verified = self.verifier.verify(headers, body)
        msg_id, webhook_ts = verified.delivery_id, verified.timestamp
        if self.on_verified is not None:
            self.on_verified(verified.secret_index, self.clock(), webhook_ts)
        envelope = parse_envelope(body)
        if msg_id is None:  # no id header: the envelope's id, held to the same form
            if not ID_RE.match(envelope.metadata.delivery_id):
                raise InvalidEnvelopeError(
                    "metadata.delivery_id must be 1-256 printable ASCII characters"
                )
        elif envelope.metadata.delivery_id != msg_id:
            raise DeliveryIdMismatchError(
                f"{self.id_header} header does not match metadata.delivery_id"
            )
        return NewDelivery(
            delivery_id=envelope.metadata.delivery_id,
            event_type=envelope.event,
            event_timestamp=_utc_text(envelope.timestamp),
            webhook_timestamp=int(self.clock()) if webhook_ts is None else webhook_ts,
            body=body,
            selfcheck_nonce=envelope.selfcheck_nonce,
        )


def build_ingestor(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    on_verified: Callable[[int, float, int | None], None] | None = None,
) -> Ingestor:
    """The ingestor of ``settings``' scheme; :class:`ConfigError` without a webhook secret."""
    config = settings.signature_config()
    keys = [s.key for s in settings.webhook_secrets()]
    verifier = build_verifier(config, keys, tolerance_s=settings.billoget_tolerance_s, clock=clock)
    return Ingestor(verifier, id_header=config.id_header, clock=clock, on_verified=on_verified)
