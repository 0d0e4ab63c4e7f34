"""Stripe-style signatures: one header ``t=<unix>,v1=<hex>[,v1=<hex>...]``, sans I/O.

Each ``v1`` is the HMAC-SHA256 of ``"{t}.{raw body}"`` (hex by default; base64 if configured);
several may appear (one per secret during rotation), other schemes' values (``v0=``) are
ignored. The header name is configurable (default ``X-Billoget-Signature``). The secret is taken
as raw text by default, as Stripe does. The timestamp ``t`` must be inside the tolerance, too
old and too new both refused. No id header by default: the delivery id is the envelope's.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.errors import VerificationError
from core.signing.base import (
    DEFAULT_TOLERANCE_S,
    MISSING_HEADERS,
    SIGNATURE_BYTES,
    Clock,
    Headers,
    Verified,
    check_header_length,
    check_id,
    check_window,
    matched_key,
    parse_timestamp,
    single_header,
)
from core.signing.config import DEFAULTS, SchemeConfig
from core.signing.secrets import WebhookSecret

SCHEME = "v1"
_DEFAULT = DEFAULTS["stripe-style"]


def encode_signature(digest: bytes, encoding: str) -> str:
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")


def decode_signature(text: str, encoding: str) -> bytes | None:
    """The digest bytes, or None when ``text`` is not one in that encoding."""
    try:
        if encoding == "hex":
            raw = bytes.fromhex(text) if len(text) == 2 * SIGNATURE_BYTES else b""
        else:
            raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == SIGNATURE_BYTES else None


def signature_header(
    secrets: Sequence[WebhookSecret], timestamp: int, body: bytes, *, encoding: str = "hex"
) -> str:
    signed = f"{timestamp}.".encode() + body
    values = [
        f"{SCHEME}={encode_signature(hmac.digest(s.key, signed, 'sha256'), encoding)}"
        for s in secrets
    ]
    return ",".join([f"t={timestamp}", *values])


def parse_header(value: str | None, *, header: str, encoding: str) -> tuple[str, list[bytes]]:
    """``(t text, v1 digests)``; :class:`VerificationError` for anything malformed."""
    if not value:
        raise VerificationError(f"missing {header} header", reason=MISSING_HEADERS)
    check_header_length(value, header=header)
    timestamps: list[str] = []
    found: list[bytes] = []
    for item in value.split(","):
        name, sep, text = item.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            timestamps.append(text)
        elif name == SCHEME and (raw := decode_signature(text.strip(), encoding)) is not None:
            found.append(raw)
    if len(timestamps) != 1:
        raise VerificationError(
            f"{header} must hold exactly one t=<unix seconds>", reason=MISSING_HEADERS
        )
    if not found:
        raise VerificationError(f"{header} has no well-formed {SCHEME} signature")
    return timestamps[0], found


@dataclass(frozen=True, slots=True)
class StripeStyleVerifier:
    keys: tuple[bytes, ...]
    config: SchemeConfig = _DEFAULT
    tolerance_s: int = DEFAULT_TOLERANCE_S
    clock: Clock = field(default=time.time)

    def verify(self, headers: Headers, body: bytes) -> Verified:
        header = self.config.signature_header
        msg_id = None
        if self.config.id_header:
            msg_id = check_id(
                single_header(headers, self.config.id_header), header=self.config.id_header
            )
        ts_text, candidates = parse_header(
            single_header(headers, header), header=header, encoding=self.config.encoding
        )
        ts = parse_timestamp(ts_text, header=f"{header} t=")
        check_window(ts, tolerance_s=self.tolerance_s, now=self.clock, header=f"{header} t=")
        return Verified(msg_id, ts, matched_key(self.keys, f"{ts}.".encode() + body, candidates))


@dataclass(frozen=True, slots=True)
class StripeStyleSigner:
    config: SchemeConfig = _DEFAULT

    def headers(
        self, secrets: Sequence[WebhookSecret], msg_id: str, body: bytes, *, timestamp: int
    ) -> dict[str, str]:
        headers = {
            self.config.signature_header: signature_header(
                secrets, timestamp, body, encoding=self.config.encoding
            )
        }
        if self.config.id_header:
            headers[self.config.id_header] = msg_id
        return headers
