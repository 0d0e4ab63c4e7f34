"""Generic HMAC-SHA256 signatures over a configurable signed content, sans I/O.

The signature header holds one or more (space-separated) ``<prefix><hex|base64 digest>``
values; the digest is the HMAC-SHA256 of the signed content template (``{body}``,
``{timestamp}.{body}``, ``{id}.{timestamp}.{body}``, ...) filled with the timestamp and id
headers' values and the raw body. A template with ``{timestamp}`` gets the tolerance window;
one without has no timestamp to check, and replay protection rests on the delivery id alone
(a replayed delivery is a stored duplicate, answered 200 and never processed twice).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.errors import VerificationError
from core.signing.base import (
    DEFAULT_TOLERANCE_S,
    MISSING_HEADERS,
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
from core.signing.config import BODY, DEFAULTS, ID, TIMESTAMP, SchemeConfig
from core.signing.secrets import WebhookSecret
from core.signing.stripe_style import decode_signature, encode_signature

_DEFAULT = DEFAULTS["hmac-sha256"]


def signed_prefix(template: str, *, msg_id: str | None, timestamp: int | None) -> bytes:
    """The template before ``{body}``, filled in."""
    head = template[: -len(BODY)]
    if TIMESTAMP in head:
        head = head.replace(TIMESTAMP, str(timestamp))
    if ID in head:
        head = head.replace(ID, msg_id or "")
    return head.encode()


def parse_signatures(value: str | None, *, header: str, prefix: str, encoding: str) -> list[bytes]:
    if not value:
        raise VerificationError(f"missing {header} header", reason=MISSING_HEADERS)
    check_header_length(value, header=header)
    found = []
    for token in value.split():
        if not token.startswith(prefix):
            continue
        raw = decode_signature(token[len(prefix) :], encoding)
        if raw is not None:
            found.append(raw)
    if not found:
        raise VerificationError(f"{header} has no well-formed signature")
    return found


@dataclass(frozen=True, slots=True)
class HmacSha256Verifier:
    keys: tuple[bytes, ...]
    config: SchemeConfig = _DEFAULT
    tolerance_s: int = DEFAULT_TOLERANCE_S
    clock: Clock = field(default=time.time)

    def verify(self, headers: Headers, body: bytes) -> Verified:
        config = self.config
        msg_id = ts = None
        if config.id_header:
            msg_id = check_id(single_header(headers, config.id_header), header=config.id_header)
        if TIMESTAMP in config.signed_content:
            ts_header = config.timestamp_header
            ts = parse_timestamp(single_header(headers, ts_header), header=ts_header)
            check_window(ts, tolerance_s=self.tolerance_s, now=self.clock, header=ts_header)
        candidates = parse_signatures(
            single_header(headers, config.signature_header),
            header=config.signature_header,
            prefix=config.prefix,
            encoding=config.encoding,
        )
        signed = signed_prefix(config.signed_content, msg_id=msg_id, timestamp=ts) + body
        return Verified(msg_id, ts, matched_key(self.keys, signed, candidates))


@dataclass(frozen=True, slots=True)
class HmacSha256Signer:
    config: SchemeConfig = _DEFAULT

    def headers(
        self, secrets: Sequence[WebhookSecret], msg_id: str, body: bytes, *, timestamp: int
    ) -> dict[str, str]:
        config = self.config
        signed = signed_prefix(config.signed_content, msg_id=msg_id, timestamp=timestamp) + body
        values = [
            config.prefix + encode_signature(hmac.digest(s.key, signed, "sha256"), config.encoding)
            for s in secrets
        ]
        headers = {config.signature_header: " ".join(values)}
        if config.id_header:
            headers[config.id_header] = msg_id
        if TIMESTAMP in config.signed_content:
            headers[config.timestamp_header] = str(timestamp)
        return headers
