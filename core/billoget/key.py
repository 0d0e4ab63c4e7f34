"""The Billoget API key and the start-up check of where it is sent.

:class:`ApiKey` wraps the secret: its repr and str show only the 12-character prefix
(``bk_test_AbCd``), and no error raised here ever contains the key.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from typing import Literal, cast

import yarl

from core.errors import ConfigError

KEY_RE = re.compile(r"^bk_(live|test)_([A-Za-z0-9_]{16,64})$")
ANY_KEY_RE = re.compile(r"bk_(?:live|test)_[A-Za-z0-9_]{8,}")
PREFIX_CHARS = 12
PRODUCTION_HOST = "api.billoget.com"
_BODY_MIN, _BODY_MAX = 16, 64


class ApiKey:
    """A ``bk_live_``/``bk_test_`` key. Only :meth:`reveal` returns the secret."""

    __slots__ = ("_secret", "environment", "prefix")

    def __init__(self, secret: str, environment: Literal["live", "test"]) -> None:
        self._secret = secret
        self.environment: Literal["live", "test"] = environment
        self.prefix = secret[:PREFIX_CHARS]

    @classmethod
    def parse(cls, text: str) -> ApiKey:
        """Check the format ``bk_(live|test)_[A-Za-z0-9_]{16,64}``; :class:`ConfigError` if not."""
        text = text.strip()
        match = KEY_RE.match(text)
        if match is None:
            raise ConfigError(_format_problem(text))
        return cls(text, cast(Literal["live", "test"], match.group(1)))

    def reveal(self) -> str:
        return self._secret

    def __repr__(self) -> str:
        return f"ApiKey({self.prefix}…)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiKey):
            return NotImplemented
        return hmac.compare_digest(self._secret.encode(), other._secret.encode())

    def __hash__(self) -> int:
        return hash(self._secret)


def _format_problem(text: str) -> str:
    """Say what is wrong with a key without showing it."""
    base = "BILLOGET_API_KEY"
    if not text:
        return f"{base} is empty: set it to a bk_live_... or bk_test_... key"
    if not (text.startswith("bk_live_") or text.startswith("bk_test_")):
        return f"{base} must start with 'bk_live_' or 'bk_test_' (value not shown)"
    body = text[len("bk_live_") :]
    if not _BODY_MIN <= len(body) <= _BODY_MAX:
        return (
            f"{base} has {len(body)} characters after the prefix; "
            f"{_BODY_MIN} to {_BODY_MAX} are expected (value not shown)"
        )
    return f"{base} may only contain letters, digits and '_' after the prefix (value not shown)"


def is_loopback(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1``."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_production(url: yarl.URL) -> bool:
    return (url.host or "").rstrip(".").lower() == PRODUCTION_HOST


def parse_api_url(api_url: str) -> yarl.URL:
    """Parse and check ``BILLOGET_API_URL``: https anywhere, plain http to loopback only."""
    try:
        url = yarl.URL(api_url.strip())
    except (TypeError, ValueError):
        raise ConfigError("BILLOGET_API_URL is not a valid URL") from None
    if url.user is not None or url.password is not None:
        raise ConfigError("BILLOGET_API_URL must not contain credentials (value not shown)")
    shown = str(url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"BILLOGET_API_URL must be an http(s) URL with a host, got {shown!r}")
    if url.query_string or url.fragment:
        raise ConfigError(f"BILLOGET_API_URL must not have a query or fragment, got {shown!r}")
    if url.scheme == "http" and not is_loopback(url.host):
        raise ConfigError(
            f"BILLOGET_API_URL {shown!r} uses plain http to a non-loopback host: the API key "
            "would travel unencrypted; use https (plain http is allowed to 127.0.0.1/localhost)"
        )
    return url


def check_api_config(api_url: str, key: ApiKey) -> list[str]:
    """Refuse an unsafe or malformed URL; return warnings about a key/URL mismatch."""
    url = parse_api_url(api_url)
    warnings: list[str] = []
    if key.environment == "live" and not is_production(url):
        warnings.append(
            f"a live key ({key.prefix}...) is configured for the non-production API at "
            f"{url.host}; live data will not be reachable there"
        )
    if key.environment == "test" and is_production(url):
        warnings.append(
            f"a test key ({key.prefix}...) is configured for the production API "
            f"{PRODUCTION_HOST}; it only sees test-mode data"
        )
    return warnings


def redact(text: str, key: ApiKey | None = None) -> str:
    """Remove the key (and anything that looks like a Billoget key) from ``text``."""
    if key is not None:
        text = text.replace(key.reveal(), "[redacted]")
    return ANY_KEY_RE.sub("[redacted]", text)
