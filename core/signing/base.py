"""What every signature scheme shares: the verifier and signer interfaces and their checks.

A verifier is built once from the configured secrets, tolerance and clock; ``verify(headers,
body)`` works on the raw body bytes, raises only :class:`~core.errors.VerificationError` and
returns ``(delivery id or None, timestamp or None)``: ``None`` where the scheme carries no id
header (the envelope's ``metadata.delivery_id`` is the delivery id) or signs no timestamp.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from core.errors import VerificationError
from core.signing.secrets import WebhookSecret

DEFAULT_TOLERANCE_S = 300
MAX_ID_LENGTH = 256
MAX_SIGNATURE_HEADER_LENGTH = 4096
SIGNATURE_BYTES = 32  # HMAC-SHA256
# a window wider than any timestamp the schemes accept: verification without the time check
NO_TOLERANCE_S = 10**13
ID_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")

MISSING_HEADERS = "missing_headers"  # VerificationError.reason: a header missing or malformed


class Verified(NamedTuple):
    """A verified delivery's id header (None: the scheme has none), signed timestamp (None:
    it signs none), and the index of the configured secret that matched (metrics)."""

    delivery_id: str | None
    timestamp: int | None
    secret_index: int = 0


Clock = Callable[[], float]


class Headers(Protocol):
    """What a verifier reads of the request headers (a ``CIMultiDictProxy`` is one)."""

    def getall(self, key: str, default: list[str]) -> list[str]: ...


class Verifier(Protocol):
    def verify(self, headers: Headers, body: bytes) -> Verified: ...


class Signer(Protocol):
    def headers(
        self, secrets: Sequence[WebhookSecret], msg_id: str, body: bytes, *, timestamp: int
    ) -> dict[str, str]: ...


def single_header(headers: Headers, name: str) -> str | None:
    values = headers.getall(name, [])
    if len(values) > 1:
        raise VerificationError(f"{name} header appears more than once", reason=MISSING_HEADERS)
    return values[0] if values else None


def check_id(msg_id: str | None, *, header: str) -> str:
    if not msg_id:
        raise VerificationError(f"missing {header} header", reason=MISSING_HEADERS)
    if len(msg_id) > MAX_ID_LENGTH or not ID_RE.match(msg_id):
        raise VerificationError(
            f"{header} must be 1-256 printable ASCII characters", reason=MISSING_HEADERS
        )
    return msg_id


def parse_timestamp(value: str | None, *, header: str) -> int:
    if not value:
        raise VerificationError(f"missing {header} header", reason=MISSING_HEADERS)
    value = value.strip()
    if not TIMESTAMP_RE.match(value):
        raise VerificationError(f"{header} must be integer Unix seconds", reason=MISSING_HEADERS)
    return int(value)


def check_window(ts: int, *, tolerance_s: int, now: Clock, header: str) -> None:
    """Too old and too new are both refused."""
    current = now()
    if ts < current - tolerance_s:
        raise VerificationError(
            f"{header} is too old (outside the tolerance)", reason="timestamp_too_old"
        )
    if ts > current + tolerance_s:
        raise VerificationError(f"{header} is too far in the future", reason="timestamp_in_future")


def match_index(keys: Sequence[bytes], signed: bytes, candidates: Sequence[bytes]) -> int:
    """The index of the first key a candidate matches, -1 when none does. Constant time in
    which key and which candidate matched: every pair is compared, no early exit."""
    matched = -1
    for index, key in enumerate(keys):
        expected = hmac.digest(key, signed, "sha256")  # one-shot, in C
        for candidate in candidates:
            if hmac.compare_digest(expected, candidate) and matched < 0:
                matched = index
    return matched


def matched_key(keys: Sequence[bytes], signed: bytes, candidates: Sequence[bytes]) -> int:
    """:func:`match_index`, raising :class:`VerificationError` when no key matches."""
    index = match_index(keys, signed, candidates)
    if index < 0:
        raise VerificationError("no signature matches any configured secret")
    return index


def check_header_length(value: str, *, header: str) -> None:
    if len(value) > MAX_SIGNATURE_HEADER_LENGTH:
        raise VerificationError(f"{header} header is too long", reason=MISSING_HEADERS)
