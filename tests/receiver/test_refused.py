"""The receiver keeps its last refused deliveries in memory, for ``diagnose --signatures``,
and shows them only through the guarded admin route."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import pytest

from receiver.refused import MAX_BODY_KEPT
from receiver.views import WEBHOOK_PATH
from tests.fixtures.infra import OTHER_SECRET
from tests.fixtures.receiver import ReceiverClient, signed


async def _post_forged(client: ReceiverClient, n: int, **extra_headers: str) -> int:
    body, headers = signed(f"dlv_forged_{n}", secret=OTHER_SECRET)
    async with client.post(WEBHOOK_PATH, data=body, headers=headers | extra_headers) as resp:
        return resp.status


async def _refused(client: ReceiverClient, **headers: str) -> tuple[int, Any]:
    async with client.get("/admin/refused", headers=headers) as resp:
        return resp.status, await resp.json()


async def test_a_refused_delivery_is_kept_with_its_headers_body_and_reason(
    receiver_client: ReceiverClient,
) -> None:
    assert await _post_forged(receiver_client, 1) == 401
    status, answer = await _refused(receiver_client)
    assert status == 200 and answer["kept"] == 20
    [item] = answer["data"]
    headers = dict(item["headers"])
    assert headers["webhook-id"] == "dlv_forged_1" and "webhook-signature" in headers
    assert item["status"] == 401 and item["error"] == "invalid_signature"
    assert item["message"] == "no signature matches any configured secret"
    body, _ = signed("dlv_forged_1")
    assert base64.b64decode(item["body_base64"]) == body
    assert item["body_truncated"] is False


async def test_only_the_last_n_are_kept_newest_first(
    receiver_with: Callable[..., Any],
) -> None:
    client = await receiver_with(billoget_refused_keep=3)
    for n in range(5):
        assert await _post_forged(client, n) == 401
    _, answer = await _refused(client)
    ids = [dict(item["headers"])["webhook-id"] for item in answer["data"]]
    assert ids == ["dlv_forged_4", "dlv_forged_3", "dlv_forged_2"]


async def test_keeping_none_keeps_nothing(receiver_with: Callable[..., Any]) -> None:
    client = await receiver_with(billoget_refused_keep=0)
    assert await _post_forged(client, 1) == 401
    assert (await _refused(client))[1]["data"] == []


async def test_an_accepted_delivery_is_not_kept(receiver_client: ReceiverClient) -> None:
    body, headers = signed("dlv_good")
    async with receiver_client.post(WEBHOOK_PATH, data=body, headers=headers) as resp:
        assert resp.status == 200
    assert (await _refused(receiver_client))[1]["data"] == []


async def test_a_large_body_is_kept_up_to_64_kb_and_marked_truncated(
    receiver_client: ReceiverClient,
) -> None:
    big = b'{"pad": "' + b"x" * (MAX_BODY_KEPT + 100) + b'"}'
    body, headers = signed("dlv_big", big, secret=OTHER_SECRET)
    async with receiver_client.post(WEBHOOK_PATH, data=body, headers=headers) as resp:
        assert resp.status == 401
    [item] = (await _refused(receiver_client))[1]["data"]
    assert len(base64.b64decode(item["body_base64"])) == MAX_BODY_KEPT
    assert item["body_truncated"] is True and item["body_bytes"] == len(big)


async def test_credentials_a_sender_sent_are_not_kept(receiver_client: ReceiverClient) -> None:
    await _post_forged(receiver_client, 1, Authorization="Bearer leaked", Cookie="session=1")
    [item] = (await _refused(receiver_client))[1]["data"]
    names = {name.lower() for name, _ in item["headers"]}
    assert "authorization" not in names and "cookie" not in names


async def test_refused_deliveries_are_shown_only_to_loopback_or_the_token(
    receiver_with: Callable[..., Any],
) -> None:
    remote = await receiver_with(trusted_proxies="127.0.0.1/32")
    assert (await _refused(remote, **{"X-Forwarded-For": "198.51.100.1"}))[0] == 403
    guarded = await receiver_with(admin_token="s3cret-admin-token")
    assert (await _refused(guarded))[0] == 401
    assert (await _refused(guarded, Authorization="Bearer s3cret-admin-token"))[0] == 200


async def test_a_kept_delivery_never_reaches_the_log(
    receiver_client: ReceiverClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body, headers = signed("dlv_quiet", secret=OTHER_SECRET)
    async with receiver_client.post(WEBHOOK_PATH, data=body, headers=headers) as resp:
        assert resp.status == 401
    await _refused(receiver_client)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert headers["webhook-signature"].split(",")[1] not in logged
    assert body.decode() not in logged
