"""Self-check steps 2 and 4: the key and its scopes, asked of the Billoget API.

Step 2 calls ``POST /api/public/webhooks/test`` once (Billoget allows 10 a minute; the call is
never repeated here). Step 4 reads one item of each family to learn which READ scopes the key
lacks. Every failure becomes one line naming the cause and the fix.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, get_args

from core.billoget.client import BillogetClient, Family
from core.billoget.errors import (
    ApiConnectionError,
    ApiError,
    ApiServerError,
    ApiTimeoutError,
    IpNotWhitelistedError,
    KeySuspendedError,
    RateLimitedError,
    ScopeError,
    UnauthorizedError,
)
from core.selfcheck.report import READ_SCOPES, WEBHOOKS_SCOPE, CheckResult, failed, passed, warned

KEYS_PAGE = "Billoget → Settings → API keys"
READ_SCOPE_OF: dict[str, str] = {
    "budget": "READ_BUDGETS",
    "customer": "READ_CUSTOMERS",
    "product": "READ_PRODUCTS",
}
# Errors after which asking again with the same key cannot tell anything new.
KEY_UNUSABLE = (UnauthorizedError, IpNotWhitelistedError, KeySuspendedError)


def diagnose(exc: ApiError, *, api_url: str) -> str:
    """One line: what Billoget's answer means and what to do about it."""
    if isinstance(exc, UnauthorizedError):
        if exc.code == "invalid_api_key":
            return (
                "BILLOGET_API_KEY was rejected (invalid_api_key: unknown, revoked or expired): "
                f"create a key in {KEYS_PAGE} and set BILLOGET_API_KEY"
            )
        return (
            f"Billoget answered 401 ({exc.code}): the key did not reach it intact; check "
            "BILLOGET_API_KEY and any proxy that strips the Authorization header"
        )
    if isinstance(exc, ScopeError):
        scope = exc.missing_scope or "WEBHOOKS"
        return f"BILLOGET_API_KEY lacks the {scope} scope: edit the key in {KEYS_PAGE} and add it"
    if isinstance(exc, IpNotWhitelistedError):
        return (
            "this machine's IP is not on the key's allowed IPs: add it in "
            f"{KEYS_PAGE} or clear the allowlist"
        )
    if isinstance(exc, KeySuspendedError):
        return f"the API key is suspended: reactivate it in {KEYS_PAGE} (or create a new one)"
    if isinstance(exc, RateLimitedError):
        wait = math.ceil(exc.retry_after_s)
        return (
            f"Billoget's rate limit is reached for this key (the test endpoint allows 10 calls "
            f"a minute): retry the self-check in {wait} s"
        )
    if isinstance(exc, ApiTimeoutError):
        return (
            f"Billoget did not answer in time at {api_url}: check BILLOGET_API_URL and the "
            "network, then retry"
        )
    if isinstance(exc, ApiConnectionError):
        return (
            f"cannot reach Billoget at {api_url} ({exc.message}): check BILLOGET_API_URL, DNS, "
            "the firewall and any outbound proxy"
        )
    if isinstance(exc, ApiServerError):
        return f"Billoget answered {exc.status} (a server error): retry in a minute"
    return f"Billoget answered {exc.status} {exc.code}: {exc.message}"


def _error_detail(exc: ApiError) -> dict[str, Any]:
    detail: dict[str, Any] = {"status": exc.status, "code": exc.code}
    if isinstance(exc, RateLimitedError | ApiServerError) and exc.retry_after_s is not None:
        detail["retry_after_s"] = exc.retry_after_s
    if isinstance(exc, ScopeError) and exc.missing_scope:
        detail["missing_scope"] = exc.missing_scope
    return detail


async def check_webhooks_scope(
    client: BillogetClient, *, event: str, data: dict[str, Any], api_url: str
) -> tuple[CheckResult, ApiError | None]:
    """Ask Billoget for a test delivery; the error (if any) decides what else can run."""
    try:
        result = await client.webhook_test(event=event, data=data)
    except ApiError as exc:
        return failed(WEBHOOKS_SCOPE, diagnose(exc, api_url=api_url), **_error_detail(exc)), exc
    return (
        passed(
            WEBHOOKS_SCOPE,
            "the key is valid and has the WEBHOOKS scope; Billoget accepted the test webhook",
            message=result.message,
            answered_at=result.timestamp,
        ),
        None,
    )


async def _probe(client: BillogetClient, family: Family) -> ApiError | None:
    try:
        await client.list_page(family, page=1, limit=1)
    except ApiError as exc:
        return exc
    return None


async def check_read_scopes(
    client: BillogetClient, *, api_url: str, allow_missing: bool = False
) -> CheckResult:
    """One ``limit=1`` list call per family; a 403 ``insufficient_scope`` means it is missing."""
    families: tuple[Family, ...] = get_args(Family)
    errors = await asyncio.gather(*(_probe(client, f) for f in families))
    missing = [
        READ_SCOPE_OF[f] for f, e in zip(families, errors, strict=True) if isinstance(e, ScopeError)
    ]
    unknown = {
        READ_SCOPE_OF[f]: diagnose(e, api_url=api_url)
        for f, e in zip(families, errors, strict=True)
        if e is not None and not isinstance(e, ScopeError)
    }
    detail: dict[str, Any] = {"missing": missing, "unchecked": unknown}
    if missing:
        families_named = ", ".join(s.removeprefix("READ_").lower() for s in missing)
        summary = (
            f"BILLOGET_API_KEY lacks {', '.join(missing)}: {families_named} events are stored "
            f"but not mirrored; edit the key in {KEYS_PAGE} and add "
            f"{'it' if len(missing) == 1 else 'them'}"
        )
        return (warned if allow_missing else failed)(READ_SCOPES, summary, **detail)
    if unknown:
        first = next(iter(unknown.values()))
        return warned(READ_SCOPES, f"could not check {', '.join(unknown)}: {first}", **detail)
    return passed(READ_SCOPES, "the key can read budgets, customers and products", **detail)
