"""Self-check step 1: the configuration, checked without any network call.

The webhook secret is present and decodes, the API key has the right format (and which
environment it is for), the API URL is https (plain http to loopback only), and the public URL
Billoget delivers to looks like one.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import yarl

from core.billoget.key import ApiKey, check_api_config, is_loopback, parse_api_url
from core.errors import ConfigError
from core.selfcheck.report import CONFIGURATION, CheckResult, failed, passed, warned
from core.settings import Settings
from core.signing import DEFAULT_SCHEME

WEBHOOK_PATH = "/webhooks/billoget"  # the receiver's route (receiver.views.WEBHOOK_PATH)
_ANY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104 - names the wildcard, binds nothing


@dataclass(frozen=True, slots=True)
class CheckedConfig:
    """What the network checks need, once the configuration is usable."""

    key: ApiKey
    api_url: str
    webhook_url: str


def expected_webhook_url(settings: Settings) -> str:
    """The URL Billoget must deliver to: ``BILLOGET_PUBLIC_URL``, else this host and port."""
    if settings.billoget_public_url:
        return settings.billoget_public_url
    host = settings.host if settings.host not in _ANY_ADDRESS else socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}{WEBHOOK_PATH}"


def _public_url_warnings(public_url: str | None) -> list[str]:
    if not public_url:
        return [
            "BILLOGET_PUBLIC_URL is not set: set it to the https URL registered in Billoget "
            f"(ending in {WEBHOOK_PATH}) so diagnoses can name it"
        ]
    url = yarl.URL(public_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"BILLOGET_PUBLIC_URL must be an http(s) URL, got {public_url!r}")
    found: list[str] = []
    if url.scheme == "http" and not is_loopback(url.host):
        found.append(
            "BILLOGET_PUBLIC_URL is plain http: put the receiver behind TLS (a reverse proxy) "
            "and register the https URL"
        )
    if not url.path.endswith(WEBHOOK_PATH):
        found.append(
            f"BILLOGET_PUBLIC_URL does not end in {WEBHOOK_PATH}: fine only if a proxy rewrites "
            "the path to it"
        )
    return found


def check_configuration(settings: Settings) -> tuple[CheckResult, CheckedConfig | None]:
    """Every configuration problem in one line; :class:`CheckedConfig` when none blocks."""
    problems: list[str] = []
    warnings: list[str] = []
    detail: dict[str, object] = {"api_url": settings.billoget_api_url}
    try:
        detail["webhook_secrets"] = len(settings.webhook_secrets())
    except ConfigError as exc:
        problems.append(exc.message)
    key: ApiKey | None = None
    raw_key = settings.billoget_api_key.get_secret_value() if settings.billoget_api_key else ""
    if not raw_key.strip():
        problems.append(
            "BILLOGET_API_KEY is not set: create a key with the WEBHOOKS scope in Billoget "
            "(Settings → API keys) and set BILLOGET_API_KEY"
        )
    else:
        try:
            key = ApiKey.parse(raw_key)
            detail |= {"api_key": f"{key.prefix}…", "environment": key.environment}
        except ConfigError as exc:
            problems.append(exc.message)
    try:
        if key is not None:
            warnings += check_api_config(settings.billoget_api_url, key)
        else:
            parse_api_url(settings.billoget_api_url)
    except ConfigError as exc:
        problems.append(exc.message)
    try:
        warnings += _public_url_warnings(settings.billoget_public_url)
    except ConfigError as exc:
        problems.append(exc.message)
    webhook_url = expected_webhook_url(settings)
    detail |= {"webhook_url": webhook_url, "warnings": warnings}
    if problems:
        return failed(CONFIGURATION, "; ".join(problems), **detail), None
    assert key is not None
    scheme = settings.billoget_signature_scheme
    signed = "" if scheme == DEFAULT_SCHEME else f", signed {scheme}"
    summary = (
        f"secret decodes ({detail['webhook_secrets']} active{signed}), {key.environment} key "
        f"{key.prefix}…, API {settings.billoget_api_url}, deliveries to {webhook_url}"
    )
    checked = CheckedConfig(key=key, api_url=settings.billoget_api_url, webhook_url=webhook_url)
    if warnings:
        return warned(CONFIGURATION, f"{summary}; but {'; '.join(warnings)}", **detail), checked
    return passed(CONFIGURATION, summary, **detail), checked
