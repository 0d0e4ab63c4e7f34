"""The happy paths and HTTP behaviour of ``POST /webhooks/billoget``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import redis
import standardwebhooks
from dramatiq.brokers.redis import RedisBroker

from core.queue import ACTOR_NAME, QUEUE_NAME
from core.settings import Settings
from core.store import Status
from core.store.sqlite.store import SQLiteEventStore
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET
from tests.fixtures.receiver import (
    WEBHOOK_PATH,
    MakeReceiver,
    ReceiverClient,
    envelope,
    eventually,
    post_delivery,
    queued_messages,
)

VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _message_ids(client: redis.Redis) -> list[str]:
    return [str(m["args"][0]) for m in queued_messages(client)]


async def _relayed_up_to_a_marker(client: ReceiverClient, receiver_redis: redis.Redis) -> None:
    """Post one more delivery and wait for its message: the relay sends in order, so whatever
    the deliveries before it were going to enqueue is on Redis by then."""
    assert (await post_delivery(client, "dlv_marker"))[0] == 200
    await eventually(lambda: "dlv_marker" in _message_ids(receiver_redis), what="the marker")


async def test_a_standardwebhooks_signed_delivery_is_stored_and_enqueued(
    receiver_client: ReceiverClient, store: SQLiteEventStore, receiver_redis: redis.Redis
) -> None:
    body = envelope("dlv_std_1", event="budget.approved").decode()
    now = datetime.now(UTC)
    signature = standardwebhooks.Webhook(TEST_SECRET).sign("dlv_std_1", now, body)
    headers = {
        "webhook-id": "dlv_std_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    async with receiver_client.post(WEBHOOK_PATH, data=body, headers=headers) as resp:
        assert resp.status == 200
        assert await resp.json() == {
            "received": True,
            "delivery_id": "dlv_std_1",
            "duplicate": False,
        }
    stored = store.get("dlv_std_1")
    assert stored is not None and stored.body == body.encode()
    assert stored.event_type == "budget.approved"
    await eventually(lambda: len(queued_messages(receiver_redis)) == 1, what="the message")
    await eventually(lambda: store.get("dlv_std_1").status == Status.QUEUED, what="queued")  # type: ignore[union-attr]


async def test_an_enqueued_message_is_consumed_by_a_plain_dramatiq_redis_broker(
    receiver_client: ReceiverClient, receiver_redis_url: str, receiver_redis: redis.Redis
) -> None:
    assert (await post_delivery(receiver_client, "dlv_consume_1"))[0] == 200
    await eventually(lambda: len(queued_messages(receiver_redis)) == 1, what="the message")
    worker_broker = RedisBroker(url=receiver_redis_url)
    worker_broker.declare_queue(QUEUE_NAME)
    consumer = worker_broker.consume(QUEUE_NAME, timeout=1000)
    try:
        message = next(m for m in consumer if m is not None)
        assert message.actor_name == ACTOR_NAME
        assert list(message.args) == ["dlv_consume_1"]
        assert message.kwargs == {"event_type": "budget.created"}
        consumer.ack(message)
    finally:
        consumer.close()
        worker_broker.close()
        worker_broker.client.close()


async def test_the_public_test_vector_verifies_and_is_rejected_only_as_a_non_envelope(
    make_receiver: MakeReceiver,
) -> None:
    client = await make_receiver(clock=lambda: float(VECTOR_TS))
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIG,
    }
    async with client.post(WEBHOOK_PATH, data=VECTOR_BODY, headers=headers) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "invalid_payload"


async def test_the_public_test_vector_under_another_secret_is_unauthorised(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(billoget_webhook_secret=OTHER_SECRET)
    client = await make_receiver(settings=settings, clock=lambda: float(VECTOR_TS))
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIG,
    }
    async with client.post(WEBHOOK_PATH, data=VECTOR_BODY, headers=headers) as resp:
        assert resp.status == 401


async def test_any_active_secret_is_accepted_during_rotation(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(billoget_webhook_secret=f"{OTHER_SECRET} {TEST_SECRET}")
    client = await make_receiver(settings=settings)
    assert (await post_delivery(client, "dlv_rot_1", secret=TEST_SECRET))[0] == 200
    assert (await post_delivery(client, "dlv_rot_2", secret=OTHER_SECRET))[0] == 200


async def test_a_redelivery_is_answered_duplicate_and_stored_and_enqueued_once(
    receiver_client: ReceiverClient, store: SQLiteEventStore, receiver_redis: redis.Redis
) -> None:
    first = await post_delivery(receiver_client, "dlv_dup_1")
    second = await post_delivery(receiver_client, "dlv_dup_1")
    assert first == (200, {"received": True, "delivery_id": "dlv_dup_1", "duplicate": False})
    assert second == (200, {"received": True, "delivery_id": "dlv_dup_1", "duplicate": True})
    await _relayed_up_to_a_marker(receiver_client, receiver_redis)
    assert _message_ids(receiver_redis).count("dlv_dup_1") == 1
    assert sum(store.counts().values()) == 2  # stored once, and the marker


async def test_concurrent_copies_of_one_delivery_store_one_row_and_one_message(
    receiver_client: ReceiverClient, store: SQLiteEventStore, receiver_redis: redis.Redis
) -> None:
    results = await asyncio.gather(
        *(post_delivery(receiver_client, "dlv_race_1") for _ in range(20))
    )
    assert all(status == 200 for status, _ in results)
    assert sorted(body["duplicate"] for _, body in results) == [False] + [True] * 19
    await _relayed_up_to_a_marker(receiver_client, receiver_redis)
    assert _message_ids(receiver_redis).count("dlv_race_1") == 1


async def test_many_concurrent_deliveries_are_all_stored_and_enqueued(
    receiver_client: ReceiverClient, store: SQLiteEventStore, receiver_redis: redis.Redis
) -> None:
    results = await asyncio.gather(
        *(post_delivery(receiver_client, f"dlv_many_{i}") for i in range(200))
    )
    assert {status for status, _ in results} == {200}
    assert store.counts()["received"] + store.counts()["queued"] == 200
    await eventually(lambda: len(queued_messages(receiver_redis)) == 200, what="200 messages")
    await eventually(lambda: store.counts()["queued"] == 200, what="200 queued")


async def test_a_selfcheck_delivery_is_recorded_processed_and_not_enqueued(
    receiver_client: ReceiverClient, store: SQLiteEventStore, receiver_redis: redis.Redis
) -> None:
    body = envelope("dlv_self_1", data={"billogetHooksSelfcheckNonce": "nonce-123"})
    assert (await post_delivery(receiver_client, "dlv_self_1", body))[0] == 200
    found = store.find_selfcheck("nonce-123")
    assert found is not None and found.status == Status.PROCESSED
    await _relayed_up_to_a_marker(receiver_client, receiver_redis)
    assert "dlv_self_1" not in _message_ids(receiver_redis)


async def test_an_unknown_event_type_is_stored_and_acknowledged(
    receiver_client: ReceiverClient, store: SQLiteEventStore
) -> None:
    body = envelope("dlv_unknown_1", event="invoice.teleported")
    assert (await post_delivery(receiver_client, "dlv_unknown_1", body))[0] == 200
    assert store.get("dlv_unknown_1").event_type == "invoice.teleported"  # type: ignore[union-attr]


async def test_a_wrong_method_is_405_in_billoget_error_style(
    receiver_client: ReceiverClient,
) -> None:
    async with receiver_client.get(WEBHOOK_PATH) as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "POST"
        body = await resp.json()
    assert body["error"] == "method_not_allowed" and isinstance(body["message"], str)


async def test_an_unknown_path_is_404_in_billoget_error_style(
    receiver_client: ReceiverClient,
) -> None:
    async with receiver_client.post("/webhooks/other", data=b"{}") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"] == "not_found"
