"""``billoget-hooks diagnose --signatures``: which signature scheme would the refused deliveries
have passed?

Reads the running receiver's last refused deliveries (``GET /admin/refused``, at ``--url`` or
the ``HOST``/``PORT`` that ``serve`` uses; ``ADMIN_TOKEN`` when set), tries every known scheme
and variant with every configured secret (:mod:`core.signing.diagnose`) and prints the answer in
one sentence. It never prints a secret: only fingerprints.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
from typing import Any

import aiohttp

from billoget_hooks.console import err, out
from core.settings import Settings, load_settings
from core.signing.diagnose import Diagnosis, Refused, diagnose

EXIT_OK, EXIT_FAILED, EXIT_UNREACHABLE = 0, 1, 3
REFUSED_PATH = "/admin/refused"
TIMEOUT_S = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--signatures`` and ``--url`` on ``diagnose``'s parser (which has ``--json``)."""
    parser.add_argument(
        "--signatures",
        action="store_true",
        help="find the signature scheme and secret the receiver's refused deliveries verify with",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="the receiver's base URL (default: http://HOST:PORT from the settings)",
    )


def receiver_url(settings: Settings, url: str | None) -> str:
    if url:
        return url.rstrip("/")
    host = settings.host
    if host in ("0.0.0.0", "", "::"):  # noqa: S104 - where serve listens, reached on loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


async def fetch_refused(base_url: str, *, token: str | None) -> list[Refused]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(base_url + REFUSED_PATH, headers=headers) as response,
    ):
        data = await response.json(content_type=None)
        if response.status != 200:
            message = data.get("message") if isinstance(data, dict) else None
            raise RuntimeError(
                f"{base_url}{REFUSED_PATH} answered {response.status}: {message or data}"
            )
    return [
        Refused(
            headers=tuple((str(k), str(v)) for k, v in item["headers"]),
            body=base64.b64decode(item["body_base64"]),
            body_truncated=bool(item["body_truncated"]),
            reason=str(item.get("message") or ""),
        )
        for item in data["data"]
    ]


def diagnosis_json(found: Diagnosis) -> dict[str, Any]:
    return {
        "sentence": found.sentence(),
        "checked": found.checked,
        "too_large": found.truncated,
        "verifying": found.fitting,
        "scheme": found.fit.config.scheme if found.fit else None,
        "secret": found.fit.secret_index + 1 if found.fit else None,
        "is_current": found.is_current,
        "settings": found.settings(),
        "fingerprints": list(found.fingerprints),
    }


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    base_url = receiver_url(settings, args.url)
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    try:
        refused = asyncio.run(fetch_refused(base_url, token=token))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        err(
            f"billoget-hooks: cannot reach the receiver at {base_url} ({type(exc).__name__}): "
            "is billoget-hooks serve running? (--url)"
        )
        return EXIT_UNREACHABLE
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        err(f"billoget-hooks: {exc}")
        return EXIT_FAILED
    secrets_text = (
        settings.billoget_webhook_secret.get_secret_value()
        if settings.billoget_webhook_secret
        else ""
    )
    found = diagnose(refused, secrets_text=secrets_text, current=settings.signature_config())
    out(json.dumps(diagnosis_json(found)) if args.json else found.sentence())
    return EXIT_OK if found.fit is not None or not found.checked else EXIT_FAILED
