"""Standard Webhooks v1 signatures (the default scheme): sign and verify, sans I/O.

``verify()`` works on the raw body bytes and the three ``webhook-*`` header values; the clock is
injectable. Every malformed input raises :class:`~core.errors.VerificationError`, never a
ValueError.

Scheme: ``webhook-signature`` holds space-separated ``v1,<base64 HMAC-SHA256>`` values computed
over ``"{webhook-id}.{webhook-timestamp}.{body}"`` with the secret's key bytes (``whsec_`` +
base64). The header names are configurable (e.g. ``svix-id``, ``svix-timestamp``,
``svix-signature``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.errors import VerificationError
from core.signing.base import (
    DEFAULT_TOLERANCE_S,
    ID_RE,
    MAX_ID_LENGTH,
    MAX_SIGNATURE_HEADER_LENGTH,
    MISSING_HEADERS,
    SIGNATURE_BYTES,
    TIMESTAMP_RE,
    Clock,
    Headers,
    Verified,
    check_id,
    check_window,
    matched_key,
    parse_timestamp,
)
from core.signing.config import DEFAULTS, SchemeConfig
from core.signing.secrets import WebhookSecret

SIGNATURE_VERSION = "v1"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
_DEFAULT = DEFAULTS["standard-webhooks"]


def _as_secret(secret: WebhookSecret | str) -> WebhookSecret:
    return secret if isinstance(secret, WebhookSecret) else WebhookSecret.parse(secret)


def compute_signature(secret: WebhookSecret | str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return one ``v1,<base64>`` signature value."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.digest(_as_secret(secret).key, signed, "sha256")
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def sign(
    secrets: WebhookSecret | str | Sequence[WebhookSecret | str],
    msg_id: str,
    timestamp: int,
    body: bytes,
) -> str:
    """Return the ``webhook-signature`` header value, one signature per secret."""
    if isinstance(secrets, WebhookSecret | str):
        secrets = [secrets]
    return " ".join(compute_signature(s, msg_id, timestamp, body) for s in secrets)


def sign_headers(
    secrets: WebhookSecret | str | Sequence[WebhookSecret | str],
    msg_id: str,
    body: bytes,
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three ``webhook-*`` headers for a delivery (timestamp defaults to now)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign(secrets, msg_id, ts, body),
    }


def _parse_signatures(value: str | None, *, header: str) -> list[bytes]:
    if not value:
        raise VerificationError(f"missing {header} header", reason=MISSING_HEADERS)
    if len(value) > MAX_SIGNATURE_HEADER_LENGTH:
        raise VerificationError(f"{header} header is too long", reason=MISSING_HEADERS)
    found: list[bytes] = []
    for token in value.split():
        version, sep, encoded = token.partition(",")
        if not sep or version != SIGNATURE_VERSION:
            continue  # other versions may appear; they are not ours to judge
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == SIGNATURE_BYTES:
            found.append(raw)
    if not found:
        raise VerificationError(f"{header} has no well-formed v1 signature")
    return found


def _verify(
    keys: Sequence[bytes],
    msg_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    tolerance_s: int,
    now: Clock,
    config: SchemeConfig,
) -> tuple[str, int]:
    """Checks, in order: the id, the timestamp's form and window (too old and too new), then
    the signatures in constant time against every active secret."""
    msg_id = check_id(msg_id, header=config.id_header)
    ts = parse_timestamp(timestamp, header=config.timestamp_header)
    check_window(ts, tolerance_s=tolerance_s, now=now, header=config.timestamp_header)
    candidates = _parse_signatures(signature, header=config.signature_header)
    matched_key(keys, f"{msg_id}.{ts}.".encode() + body, candidates)
    return msg_id, ts


def verify(
    secrets: Iterable[WebhookSecret],
    *,
    msg_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: Clock = time.time,
) -> int:
    """Verify a delivery; return its timestamp. Raise :class:`VerificationError` otherwise."""
    keys = [s.key for s in secrets]
    return _verify(
        keys, msg_id, timestamp, signature, body, tolerance_s=tolerance_s, now=now, config=_DEFAULT
    )[1]


@dataclass(frozen=True, slots=True)
class StandardWebhooksVerifier:
    """The receiver's hot path for the default scheme: the same checks as :func:`verify`,
    written out with no call it does not need (another issue measures CPU per delivery)."""

    keys: tuple[bytes, ...]
    config: SchemeConfig = _DEFAULT
    tolerance_s: int = DEFAULT_TOLERANCE_S
    clock: Clock = field(default=time.time)

    def verify(self, headers: Headers, body: bytes) -> Verified:
        config = self.config
        getall = headers.getall
        ids = getall(config.id_header, [])
        stamps = getall(config.timestamp_header, [])
        signatures = getall(config.signature_header, [])
        if len(ids) > 1 or len(stamps) > 1 or len(signatures) > 1:
            name = (
                config.id_header
                if len(ids) > 1
                else config.timestamp_header
                if len(stamps) > 1
                else config.signature_header
            )
            raise VerificationError(f"{name} header appears more than once", reason=MISSING_HEADERS)
        msg_id = ids[0] if ids else None
        if not msg_id or len(msg_id) > MAX_ID_LENGTH or not ID_RE.match(msg_id):
            check_id(msg_id, header=config.id_header)  # raises, naming what is wrong
        timestamp = stamps[0].strip() if stamps else ""
        if not TIMESTAMP_RE.match(timestamp):
            parse_timestamp(timestamp, header=config.timestamp_header)  # raises
        ts = int(timestamp)
        current = self.clock()
        if ts < current - self.tolerance_s or ts > current + self.tolerance_s:
            check_window(
                ts,
                tolerance_s=self.tolerance_s,
                now=lambda: current,
                header=config.timestamp_header,
            )
        candidates = _parse_signatures(
            signatures[0] if signatures else None, header=config.signature_header
        )
        signed = f"{msg_id}.{ts}.".encode() + body
        matched = -1
        for index, key in enumerate(self.keys):
            expected = hmac.digest(key, signed, "sha256")  # one-shot, in C
            for candidate in candidates:
                # no early exit: the time taken does not depend on which value matched
                if hmac.compare_digest(expected, candidate) and matched < 0:
                    matched = index
        if matched < 0:
            raise VerificationError("no signature matches any configured secret")
        return Verified(msg_id, ts, matched)


@dataclass(frozen=True, slots=True)
class StandardWebhooksSigner:
    config: SchemeConfig = _DEFAULT

    def headers(
        self, secrets: Sequence[WebhookSecret], msg_id: str, body: bytes, *, timestamp: int
    ) -> dict[str, str]:
        return {
            self.config.id_header: msg_id,
            self.config.timestamp_header: str(timestamp),
            self.config.signature_header: sign(list(secrets), msg_id, timestamp, body),
        }
