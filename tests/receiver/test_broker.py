"""Batched enqueueing writes exactly what ``RedisBroker.enqueue`` writes, in one round trip."""

from __future__ import annotations

import json

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from core.queue import QUEUE_NAME, build_message, encode_message
from core.store import RelayItem
from receiver.broker import BatchEnqueuer, build_broker, close_broker


@pytest.mark.parametrize("delivery_id", ["dlv_1", 'dlv_"quoted"\\', "dlv_\u00e9\u2603"])
def test_encode_message_is_byte_for_byte_dramatiqs_encoding(delivery_id: str) -> None:
    message = build_message(delivery_id, "budget.updated").copy(
        options={"redis_message_id": "redis-id-1"}
    )
    assert message.encode() == encode_message(
        delivery_id,
        "budget.updated",
        message_id=message.message_id,
        message_timestamp=message.message_timestamp,
        redis_message_id="redis-id-1",
    )


def test_a_batch_lands_on_the_queue_as_dramatiq_messages_in_order(
    receiver_redis_url: str,
) -> None:
    broker = build_broker(receiver_redis_url)
    try:
        BatchEnqueuer(broker)([RelayItem(f"dlv_{i}", "customer.created") for i in range(5)])
        client: redis.Redis = broker.client
        ids = client.lrange(f"dramatiq:{QUEUE_NAME}", 0, -1)
        assert len(set(ids)) == 5
        raw = client.hmget(f"dramatiq:{QUEUE_NAME}.msgs", ids)
        messages = [dramatiq.Message.decode(r) for r in raw if r is not None]
        assert [m.args for m in messages] == [(f"dlv_{i}",) for i in range(5)]
        assert all(m.kwargs == {"event_type": "customer.created"} for m in messages)
        assert [m.options["redis_message_id"].encode() for m in messages] == ids
        assert len({m.message_id for m in messages}) == 5
        assert json.loads(raw[0] or b"")["actor_name"] == "process_event"
    finally:
        close_broker(broker)


def test_a_broker_with_enqueue_hooks_gets_every_message_through_enqueue(
    receiver_redis_url: str,
) -> None:
    seen: list[str] = []

    class Hook(dramatiq.Middleware):
        def after_enqueue(self, broker: dramatiq.Broker, message: object, delay: object) -> None:
            assert isinstance(message, dramatiq.Message)
            seen.append(message.args[0])

    broker = RedisBroker(url=receiver_redis_url, middleware=[Hook()])
    try:
        BatchEnqueuer(broker)([RelayItem("dlv_a", "budget.updated"), RelayItem("dlv_b", "x")])
        assert seen == ["dlv_a", "dlv_b"]
        assert broker.client.llen(f"dramatiq:{QUEUE_NAME}") == 2
    finally:
        close_broker(broker)
