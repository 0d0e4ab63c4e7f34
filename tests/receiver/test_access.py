"""Sender allowlist, trusted proxies and the admin routes' guard, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.errors import ConfigError
from core.settings import load_settings
from core.store import Outcome, Result
from core.store.sqlite.store import SQLiteEventStore
from receiver.views import WEBHOOK_PATH
from tests.fixtures.receiver import ReceiverClient, eventually, signed

ALLOWED = "203.0.113.0/24"


async def _post(client: ReceiverClient, delivery_id: str, forwarded: str | None) -> int:
    body, headers = signed(delivery_id)
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    async with client.post(WEBHOOK_PATH, data=body, headers=headers) as resp:
        if resp.status != 200:
            payload = await resp.json()
            assert set(payload) == {"error", "message"}
        return resp.status


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        ("127.0.0.1/32", "203.0.113.9", 200),
        ("127.0.0.1/32", "198.51.100.1", 403),
        ("", "203.0.113.9", 403),
        ("127.0.0.1/32", "203.0.113.9, 198.51.100.1", 403),
        ("127.0.0.1/32", "198.51.100.1, 203.0.113.9", 200),
        ("127.0.0.1/32, 10.0.0.0/8", "203.0.113.9, 10.1.1.1", 200),
        ("127.0.0.1/32", "not-an-ip", 403),
        ("127.0.0.1/32", None, 403),
    ],
    ids=[
        "allowed-via-proxy",
        "other-via-proxy",
        "forwarded-ignored-without-trusted-proxy",
        "spoofed-left-entry-ignored",
        "rightmost-untrusted-entry-counts",
        "chain-of-trusted-proxies",
        "garbled-forwarded-for",
        "proxy-itself-not-allowed",
    ],
)
async def test_sender_allowlist_judges_the_client_behind_trusted_proxies_only(
    receiver_with: Callable[..., Any],
    store: SQLiteEventStore,
    trusted: str,
    forwarded: str | None,
    expected: int,
) -> None:
    client = await receiver_with(allowed_sender_ips=ALLOWED, trusted_proxies=trusted)
    assert await _post(client, "dlv_acl", forwarded) == expected
    assert (store.get("dlv_acl") is not None) == (expected == 200)


async def test_without_an_allowlist_any_sender_may_post(receiver_client: ReceiverClient) -> None:
    assert await _post(receiver_client, "dlv_any", "198.51.100.1") == 200


async def test_admin_routes_answer_loopback_clients_without_a_token(
    receiver_client: ReceiverClient,
) -> None:
    async with receiver_client.get("/admin/events") as resp:
        assert resp.status == 200
        assert (await resp.json()) == {"data": []}


async def test_admin_routes_refuse_remote_clients_without_a_token(
    receiver_with: Callable[..., Any],
) -> None:
    client = await receiver_with(trusted_proxies="127.0.0.1/32")
    headers = {"X-Forwarded-For": "198.51.100.1"}
    async with client.get("/admin/events", headers=headers) as resp:
        assert resp.status == 403
        assert (await resp.json())["error"] == "forbidden"


async def test_health_checks_stay_open_to_remote_clients(
    receiver_with: Callable[..., Any],
) -> None:
    client = await receiver_with(trusted_proxies="127.0.0.1/32")
    async with client.get("/healthz", headers={"X-Forwarded-For": "198.51.100.1"}) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [(None, 401), ("Bearer wrong-token", 401), ("Bearer s3cret-admin-token", 200)],
    ids=["missing", "wrong", "right"],
)
async def test_admin_routes_need_the_token_when_one_is_set(
    receiver_with: Callable[..., Any], authorization: str | None, expected: int
) -> None:
    client = await receiver_with(admin_token="s3cret-admin-token")
    headers = {"Authorization": authorization} if authorization else {}
    async with client.get("/admin/events", headers=headers) as resp:
        assert resp.status == expected


async def test_admin_event_list_shows_metadata_but_never_the_body(
    receiver_client: ReceiverClient,
) -> None:
    assert await _post(receiver_client, "dlv_listed", None) == 200
    async with receiver_client.get("/admin/events?limit=5") as resp:
        row = (await resp.json())["data"][0]
    assert row["delivery_id"] == "dlv_listed" and "body" not in row


async def test_admin_event_list_rejects_an_unknown_status(
    receiver_client: ReceiverClient,
) -> None:
    async with receiver_client.get("/admin/events?status=lost") as resp:
        assert resp.status == 400


async def test_admin_replay_sends_a_processed_event_back_through_the_relay(
    receiver_client: ReceiverClient, store: SQLiteEventStore
) -> None:
    assert await _post(receiver_client, "dlv_replay", None) == 200
    await eventually(lambda: store.get("dlv_replay").status.value == "queued", what="queued")
    store.apply_worker_writes([Outcome("dlv_replay", Result.PROCESSED, "done")])
    async with receiver_client.post("/admin/events/dlv_replay/replay") as resp:
        assert resp.status == 202
    await eventually(lambda: store.get("dlv_replay").status.value == "queued", what="requeued")


async def test_admin_replay_of_an_unknown_event_is_404(receiver_client: ReceiverClient) -> None:
    async with receiver_client.post("/admin/events/nope/replay") as resp:
        assert resp.status == 404


@pytest.mark.parametrize("field", ["ALLOWED_SENDER_IPS", "TRUSTED_PROXIES"])
def test_a_bad_ip_range_stops_start_up_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    monkeypatch.setenv(field, "10.0.0.0/8, not-a-range")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert field in caught.value.message and "not-a-range" in caught.value.message
