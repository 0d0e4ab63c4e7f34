"""API keys over real HTTP: missing, malformed, unknown, revoked, suspended, IPs, scopes."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from tests.fixtures.emulator import RunningEmulator, call_api, without_meta

EXPECTED = {"expected": "Authorization: Bearer bk_(live|test)_<key>"}
BUDGETS = "/api/public/budgets"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Missing Authorization header"),
        ("", "Missing Authorization header"),
        ("Basic dXNlcjpwYXNz", "Invalid Authorization header format"),
        ("Bearer", "Invalid Authorization header format"),
        ("Bearer   ", "Invalid Authorization header format"),
        ("Token bk_test_aaaaaaaaaaaaaaaaaaaa", "Invalid Authorization header format"),
    ],
)
async def test_missing_bearer_key_is_401_unauthorized_with_the_expected_header(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    header: str | None,
    message: str,
) -> None:
    headers = {} if header is None else {"Authorization": header}
    reply = await call_api(http_session, emulator.api_url + BUDGETS, None, headers=headers)
    assert reply.status == 401
    assert without_meta(reply.body) == {
        "error": "unauthorized",
        "message": message,
        "details": EXPECTED,
    }
    assert "X-RateLimit-Limit" not in reply.headers
    assert reply.headers["X-Request-ID"] == reply.body["meta"]["requestId"]


@pytest.mark.parametrize(
    "bad_key",
    [
        "bk_prod_abcdefghijklmnopqrstuvwxyz",  # unknown environment
        "bk_test_short",  # token under 16 characters
        "bk_test_" + "a" * 65,  # token over 64 characters
        "bk_test_abc-defghijklmnopqrstuv",  # character outside the alphabet
        "sk_test_abcdefghijklmnopqrstuvwxyz",  # not a Billoget key
        "bk_test_abcdefghijklmnopqrstuvwxyz0123",  # well-formed but unknown
    ],
)
async def test_malformed_or_unknown_key_is_401_invalid_api_key(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, bad_key: str
) -> None:
    reply = await call_api(http_session, emulator.api_url + BUDGETS, bad_key)
    assert reply.status == 401
    shown = bad_key[:12] if bad_key.startswith("bk_") else bad_key[:3]
    assert without_meta(reply.body) == {
        "error": "invalid_api_key",
        "message": "Invalid API key format or key not found",
        "details": {"keyPrefix": shown},
    }


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        ("REVOKED", 401, "invalid_api_key"),
        ("EXPIRED", 401, "invalid_api_key"),
        ("SUSPENDED", 403, "api_key_suspended"),
        ("ACTIVE", 200, None),
    ],
)
async def test_key_status_decides_the_answer(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    key: dict[str, Any],
    status: str,
    code: int,
    error: str | None,
) -> None:
    await emulator.admin.update_key(key["id"], status=status)
    reply = await call_api(http_session, emulator.api_url + BUDGETS, key["key"])
    assert reply.status == code
    if error:
        assert reply.body["error"] == error
        assert isinstance(reply.body["message"], str)


@pytest.mark.parametrize(
    ("allowed", "code"),
    [([], 200), (["127.0.0.1"], 200), (["127.0.0.0/8"], 200), (["10.1.2.3"], 403)],
)
async def test_ip_allowlist_is_checked_against_the_caller(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    allowed: list[str],
    code: int,
) -> None:
    created = await emulator.admin.create_key(allowedIps=allowed)
    reply = await call_api(http_session, emulator.api_url + BUDGETS, created["key"])
    assert reply.status == code
    if code == 403:
        assert reply.body["error"] == "ip_not_whitelisted"


SCOPE_TABLE = [
    ("GET", "/api/public/budgets", "READ_BUDGETS"),
    ("GET", "/api/public/budgets/1", "READ_BUDGETS"),
    ("POST", "/api/budgets/public", "WRITE_BUDGETS"),
    ("GET", "/api/public/budget-approvals", "READ_BUDGETS"),
    ("GET", "/api/public/budget-approvals/config", "READ_BUDGETS"),
    ("POST", "/api/public/budget-approvals/config", "WRITE_BUDGETS"),
    ("GET", "/api/public/budget-approvals/approvers", "READ_BUDGETS"),
    ("POST", "/api/public/budget-approvals/approvers", "WRITE_BUDGETS"),
    ("DELETE", "/api/public/budget-approvals/approvers/1", "WRITE_BUDGETS"),
    ("POST", "/api/public/budget-approvals/submit", "WRITE_BUDGETS"),
    ("POST", "/api/public/budget-approvals/1/process", "WRITE_BUDGETS"),
    ("GET", "/api/public/budget-approvals/pending", "READ_BUDGETS"),
    ("GET", "/api/public/budget-approvals/history", "READ_BUDGETS"),
    ("GET", "/api/public/budget-approvals/can-approve", "READ_BUDGETS"),
    ("GET", "/api/public/budget-approvals/stats", "READ_BUDGETS"),
    ("GET", "/api/public/customers", "READ_CUSTOMERS"),
    ("GET", "/api/public/customers/search", "READ_CUSTOMERS"),
    ("GET", "/api/public/customers/1", "READ_CUSTOMERS"),
    ("POST", "/api/public/customers", "WRITE_CUSTOMERS"),
    ("PUT", "/api/public/customers/1", "WRITE_CUSTOMERS"),
    ("DELETE", "/api/public/customers/1", "WRITE_CUSTOMERS"),
    ("GET", "/api/public/products", "READ_PRODUCTS"),
    ("GET", "/api/public/products/1", "READ_PRODUCTS"),
    ("POST", "/api/public/products", "WRITE_PRODUCTS"),
    ("PUT", "/api/public/products/1", "WRITE_PRODUCTS"),
    ("DELETE", "/api/public/products/1", "WRITE_PRODUCTS"),
    ("GET", "/api/public/products/1/variants", "READ_PRODUCTS"),
    ("POST", "/api/public/products/with-variants", "WRITE_PRODUCTS"),
    ("GET", "/api/public/product-variants/1", "READ_PRODUCTS"),
    ("POST", "/api/public/product-variants", "WRITE_PRODUCTS"),
    ("PUT", "/api/public/product-variants/1", "WRITE_PRODUCTS"),
    ("DELETE", "/api/public/product-variants/1", "WRITE_PRODUCTS"),
    ("POST", "/api/public/webhooks/test", "WEBHOOKS"),
]
ALL_SCOPES = sorted({scope for _, _, scope in SCOPE_TABLE})


@pytest.mark.parametrize(("method", "path", "scope"), SCOPE_TABLE)
async def test_each_route_needs_its_scope(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    method: str,
    path: str,
    scope: str,
) -> None:
    others = [s for s in ALL_SCOPES if s != scope]
    created = await emulator.admin.create_key(scopes=others)
    reply = await call_api(
        http_session, emulator.api_url + path, created["key"], method, json_body={}
    )
    assert reply.status == 403
    assert without_meta(reply.body) == {
        "error": "insufficient_scope",
        "message": f"API key does not have required scope: {scope}",
        "details": {"requiredScope": scope, "keyScopes": others},
    }


@pytest.mark.parametrize("prefix", ["/v1", ""])
async def test_routes_are_served_with_and_without_v1(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any], prefix: str
) -> None:
    await emulator.admin.seed()
    reply = await call_api(http_session, f"{emulator.base_url}{prefix}{BUDGETS}/1", key["key"])
    assert reply.status == 200
    assert reply.body["data"]["id"] == 1


async def test_unknown_route_is_404_not_found(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    reply = await call_api(http_session, emulator.api_url + "/api/public/invoices", key["key"])
    assert reply.status == 404
    assert reply.body["error"] == "not_found"


async def test_test_and_live_keys_see_separate_data(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession
) -> None:
    test_key = await emulator.admin.create_key(environment="test")
    live_key = await emulator.admin.create_key(environment="live")
    await emulator.admin.seed("live")
    url = emulator.api_url + "/api/public/customers"
    test_reply = await call_api(http_session, url, test_key["key"])
    live_reply = await call_api(http_session, url, live_key["key"])
    assert test_reply.body["pagination"]["total"] == 0
    assert live_reply.body["pagination"]["total"] == 3
    assert live_key["key"].startswith("bk_live_")


async def test_generated_keys_are_40_characters_and_never_listed_whole(
    emulator: RunningEmulator, key: dict[str, Any]
) -> None:
    assert re.fullmatch(r"bk_test_[A-Za-z0-9]{32}", key["key"])
    assert key["webhookSecret"].startswith("whsec_")
    listed = await emulator.admin.keys()
    assert listed[0]["keyPrefix"] == key["key"][:12]
    assert key["key"] not in str(listed)
    assert key["webhookSecret"] not in str(listed)
