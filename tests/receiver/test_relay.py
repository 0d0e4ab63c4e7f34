"""Redis is transport, the store is the truth: nothing answered 2xx is ever lost."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
import redis

from billoget_hooks.procs import Proc, free_port
from core.settings import Settings
from core.store.sqlite.store import SQLiteEventStore
from tests.fixtures.receiver import (
    MakeReceiver,
    eventually,
    post_delivery,
    queued_messages,
    redis_url_of,
)

FAST_SWEEP = {"relay_sweep_interval_s": 0.2, "relay_received_grace_s": 0.0}


def _message_ids(client: redis.Redis) -> set[str]:
    return {m["args"][0] for m in queued_messages(client)}


async def test_with_redis_down_deliveries_are_answered_fast_and_relayed_when_it_returns(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    private_redis: Proc,
    store: SQLiteEventStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = redis_url_of(private_redis)
    client = await make_receiver(settings=make_settings(redis_url=url, **FAST_SWEEP))
    private_redis.kill9()
    caplog.set_level(logging.WARNING, logger="receiver.relay")
    started = time.monotonic()
    results = await asyncio.gather(*(post_delivery(client, f"dlv_down_{i}") for i in range(30)))
    assert [s for s, _ in results] == [200] * 30
    assert time.monotonic() - started < 2.0
    await eventually(
        lambda: any("Redis unreachable" in r.getMessage() for r in caplog.records),
        what="the relay finding Redis down",
    )
    assert store.counts()["received"] == 30
    private_redis.start()
    with redis.Redis.from_url(url) as check:
        await eventually(lambda: len(_message_ids(check)) == 30, what="30 relayed messages")
        assert _message_ids(check) == {f"dlv_down_{i}" for i in range(30)}
    await eventually(lambda: store.counts()["queued"] == 30, what="30 queued rows")


async def test_events_left_received_by_a_stopped_receiver_are_relayed_by_the_next(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
    receiver_redis: redis.Redis,
    receiver_redis_url: str,
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    first = await make_receiver(settings=make_settings(redis_url=dead_redis))
    for i in range(5):
        assert (await post_delivery(first, f"dlv_restart_{i}"))[0] == 200
    await first.close()
    assert store.counts()["received"] == 5

    await make_receiver(settings=make_settings(redis_url=receiver_redis_url, **FAST_SWEEP))
    await eventually(lambda: len(_message_ids(receiver_redis)) == 5, what="5 relayed messages")
    assert _message_ids(receiver_redis) == {f"dlv_restart_{i}" for i in range(5)}
    await eventually(lambda: store.counts()["queued"] == 5, what="5 queued rows")


async def test_queued_events_the_broker_lost_are_sent_again_after_the_stale_period(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
    receiver_redis: redis.Redis,
    receiver_redis_url: str,
) -> None:
    settings = make_settings(redis_url=receiver_redis_url, relay_stale_after_s=0.5, **FAST_SWEEP)
    client = await make_receiver(settings=settings)
    assert (await post_delivery(client, "dlv_lost_1"))[0] == 200
    await eventually(lambda: store.counts()["queued"] == 1, what="queued")
    receiver_redis.flushdb()  # Redis restarted without persistence: the message is gone
    await eventually(lambda: _message_ids(receiver_redis) == {"dlv_lost_1"}, what="re-sent")


async def test_a_redis_outage_is_logged_once_not_per_event(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    client = await make_receiver(settings=make_settings(redis_url=dead_redis, **FAST_SWEEP))
    with caplog.at_level(logging.WARNING, logger="receiver.relay"):
        for i in range(10):
            assert (await post_delivery(client, f"dlv_quiet_{i}"))[0] == 200
        await asyncio.sleep(0.6)
    outage_lines = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(outage_lines) == 1
