"""Standard Webhooks v1 signatures: sign and verify, sans I/O.

``verify()`` works on the raw body bytes and the three ``webhook-*`` header values; the clock is
injectable. Every malformed input raises :class:`~core.errors.VerificationError`, never a
ValueError. The emulator imports this module (and only this one) to sign its deliveries.

Scheme: ``webhook-signature`` holds space-separated ``v1,<base64 HMAC-SHA256>`` values computed
over ``"{webhook-id}.{webhook-timestamp}.{body}"`` with the secret's key bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from core.errors import ConfigError, VerificationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300
MAX_ID_LENGTH = 256
MAX_SIGNATURE_HEADER_LENGTH = 4096
_MIN_KEY_BYTES = 16
_SIGNATURE_BYTES = 32
_ID_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
MISSING_HEADERS = "missing_headers"  # VerificationError.reason: a header missing or malformed
FINGERPRINT_CHARS = 8


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """A decoded ``whsec_`` secret. Its repr never shows the key."""

    key: bytes

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        """Decode ``whsec_<base64>``; raise :class:`ConfigError` naming what is wrong."""
        text = text.strip()
        if not text.startswith(SECRET_PREFIX):
            raise ConfigError("webhook secret must start with 'whsec_' (value not shown)")
        encoded = text[len(SECRET_PREFIX) :]
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(
                "webhook secret is not valid base64 after 'whsec_' (value not shown)"
            ) from None
        if len(key) < _MIN_KEY_BYTES:
            raise ConfigError(
                f"webhook secret decodes to {len(key)} bytes; at least {_MIN_KEY_BYTES} are needed"
            )
        return cls(key=key)

    def __repr__(self) -> str:
        return "WebhookSecret(<redacted>)"

    def fingerprint(self) -> str:
        """A short public name for this secret (metrics, diagnostics): the first hex digits of
        the SHA-256 of its key. It identifies the secret among the configured ones and reveals
        nothing usable about it."""
        return hashlib.sha256(self.key).hexdigest()[:FINGERPRINT_CHARS]

    def encode(self) -> str:
        """The ``whsec_...`` text form (for the emulator's admin API and tests)."""
        return SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")


def parse_secrets(text: str) -> list[WebhookSecret]:
    """Parse one or more secrets separated by spaces or commas (rotation)."""
    parts = [p for p in re.split(r"[\s,]+", text) if p]
    return [WebhookSecret.parse(p) for p in parts]


def _as_secret(secret: WebhookSecret | str) -> WebhookSecret:
    return secret if isinstance(secret, WebhookSecret) else WebhookSecret.parse(secret)


def compute_signature(secret: WebhookSecret | str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return one ``v1,<base64>`` signature value."""
    key = _as_secret(secret).key
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
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
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secrets, msg_id, ts, body),
    }


def _parse_timestamp(value: str | None) -> int:
    if not value:
        raise VerificationError("missing webhook-timestamp header", reason=MISSING_HEADERS)
    value = value.strip()
    if not _TIMESTAMP_RE.match(value):
        raise VerificationError(
            "webhook-timestamp must be integer Unix seconds", reason=MISSING_HEADERS
        )
    return int(value)


def _parse_signatures(value: str | None) -> list[bytes]:
    if not value:
        raise VerificationError("missing webhook-signature header", reason=MISSING_HEADERS)
    if len(value) > MAX_SIGNATURE_HEADER_LENGTH:
        raise VerificationError("webhook-signature header is too long", reason=MISSING_HEADERS)
    found: list[bytes] = []
    for token in value.split():
        version, sep, encoded = token.partition(",")
        if not sep or version != SIGNATURE_VERSION:
            continue  # other versions may appear; they are not ours to judge
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == _SIGNATURE_BYTES:
            found.append(raw)
    if not found:
        raise VerificationError("webhook-signature has no well-formed v1 signature")
    return found


def _check_id(msg_id: str | None) -> str:
    if not msg_id:
        raise VerificationError("missing webhook-id header", reason=MISSING_HEADERS)
    if len(msg_id) > MAX_ID_LENGTH or not _ID_RE.match(msg_id):
        raise VerificationError(
            "webhook-id must be 1-256 printable ASCII characters", reason=MISSING_HEADERS
        )
    return msg_id


def verify(
    secrets: Iterable[WebhookSecret],
    *,
    msg_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: Callable[[], float] = time.time,
) -> int:
    """Verify a delivery; return its timestamp. Raise :class:`VerificationError` otherwise.

    Checks, in order: the id, the timestamp's form and window (too old and too new), then the
    signatures in constant time against every active secret.
    """
    return verify_match(
        secrets,
        msg_id=msg_id,
        timestamp=timestamp,
        signature=signature,
        body=body,
        tolerance_s=tolerance_s,
        now=now,
    )[0]


def verify_match(
    secrets: Iterable[WebhookSecret],
    *,
    msg_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: Callable[[], float] = time.time,
) -> tuple[int, int]:
    """:func:`verify`, returning ``(timestamp, index of the secret that matched)``."""
    msg_id = _check_id(msg_id)
    ts = _parse_timestamp(timestamp)
    current = now()
    if ts < current - tolerance_s:
        raise VerificationError(
            "webhook-timestamp is too old (outside the tolerance)", reason="timestamp_too_old"
        )
    if ts > current + tolerance_s:
        raise VerificationError(
            "webhook-timestamp is too far in the future", reason="timestamp_in_future"
        )
    candidates = _parse_signatures(signature)
    signed = f"{msg_id}.{ts}.".encode() + body
    matched = -1
    for index, secret in enumerate(secrets):
        expected = hmac.digest(secret.key, signed, "sha256")  # one-shot, in C
        for candidate in candidates:
            # no early exit: the time taken does not depend on which value matched
            if hmac.compare_digest(expected, candidate) and matched < 0:
                matched = index
    if matched < 0:
        raise VerificationError("no signature matches any configured secret")
    return ts, matched
