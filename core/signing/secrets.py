"""Webhook signing secrets: how their text becomes HMAC key bytes.

Two encodings, because senders differ:

- ``base64``: ``whsec_`` + base64 key bytes (Standard Webhooks; the prefix is required there
  and optional for the other schemes); the key is the decoded bytes.
- ``text``: the secret's UTF-8 bytes exactly as written, ``whsec_`` included if present (what
  Stripe does with its ``whsec_...`` endpoint secrets).

Several secrets are separated by spaces or commas (rotation), so a text secret cannot contain
either. A secret's repr never shows it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from core.errors import ConfigError

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SecretEncoding = Literal["base64", "text"]
SECRET_ENCODINGS: tuple[SecretEncoding, ...] = ("base64", "text")
FINGERPRINT_CHARS = 8
MIN_KEY_BYTES = 16
FINGERPRINT_CHARS = 8
_SEPARATORS = re.compile(r"[\s,]+")


def _b64decode(encoded: str) -> bytes:
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """HMAC key bytes, and the text they came from (for the ``text`` form). Never shown."""

    key: bytes
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str, *, require_prefix: bool = True) -> WebhookSecret:
        """Decode ``whsec_<base64>``; raise :class:`ConfigError` naming what is wrong."""
        text = text.strip()
        if text.startswith(SECRET_PREFIX):
            encoded = text[len(SECRET_PREFIX) :]
        elif require_prefix:
            raise ConfigError("webhook secret must start with 'whsec_' (value not shown)")
        else:
            encoded = text
        try:
            key = _b64decode(encoded)
        except (binascii.Error, ValueError):
            where = " after 'whsec_'" if text.startswith(SECRET_PREFIX) else ""
            raise ConfigError(
                f"webhook secret is not valid base64{where} (value not shown)"
            ) from None
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"webhook secret decodes to {len(key)} bytes; at least {MIN_KEY_BYTES} are needed"
            )
        return cls(key=key, text=text)

    @classmethod
    def from_text(cls, text: str) -> WebhookSecret:
        """The secret's UTF-8 bytes as the key (the ``text`` encoding)."""
        text = text.strip()
        if len(text.encode()) < MIN_KEY_BYTES:
            raise ConfigError(
                f"webhook secret has {len(text.encode())} bytes; at least {MIN_KEY_BYTES} are "
                "needed (value not shown)"
            )
        return cls(key=text.encode(), text=text)

    def __repr__(self) -> str:
        return "WebhookSecret(<redacted>)"

    def fingerprint(self) -> str:
        """A short public name for this secret (metrics, the inspector, diagnostics): the first
        hex digits of the SHA-256 of its key. It identifies the secret among the configured
        ones and reveals nothing usable about it."""
        return hashlib.sha256(self.key).hexdigest()[:FINGERPRINT_CHARS]

    def encode(self) -> str:
        """The ``whsec_...`` text form of the key bytes (for the emulator's admin API, tests)."""
        return SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")

    def as_text(self) -> WebhookSecret:
        """The same secret in the ``text`` encoding: its written form's bytes become the key."""
        return WebhookSecret.from_text(self.text or self.encode())


def split_secrets(text: str) -> list[str]:
    """The secrets of a ``BILLOGET_WEBHOOK_SECRET`` value, as written."""
    return [p for p in _SEPARATORS.split(text) if p]


def parse_secret(
    text: str, *, encoding: SecretEncoding = "base64", require_prefix: bool = True
) -> WebhookSecret:
    if encoding == "text":
        return WebhookSecret.from_text(text)
    return WebhookSecret.parse(text, require_prefix=require_prefix)


def parse_secrets(
    text: str, *, encoding: SecretEncoding = "base64", require_prefix: bool = True
) -> list[WebhookSecret]:
    """Parse one or more secrets separated by spaces or commas (rotation)."""
    return [
        parse_secret(p, encoding=encoding, require_prefix=require_prefix)
        for p in split_secrets(text)
    ]


def in_encoding(secret: WebhookSecret, encoding: SecretEncoding) -> WebhookSecret:
    """A decoded (``base64``) secret as the given encoding wants its key (the emulator's keys)."""
    return secret.as_text() if encoding == "text" else secret
