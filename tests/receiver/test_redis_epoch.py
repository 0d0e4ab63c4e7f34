"""Redis lost its data: the marker notices it and every unfinished event is sent again at once;
a healthy Redis with a long backlog keeps its marker and nothing is sent twice."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import redis

from core.queue import QUEUE_NAME, REDIS_EPOCH_KEY
from core.settings import Settings
from core.store import NewDelivery, Outcome, RelayItem, Result, StartAttempt
from core.store.sqlite.store import SQLiteEventStore
from core.times import format_time
from receiver.broker import build_broker, close_broker
from receiver.redis_epoch import EpochMarker, RedisRecovery
from receiver.relay import Relay
from tests.fixtures.procs import Proc
from tests.fixtures.receiver import (
    MakeReceiver,
    eventually,
    post_delivery,
    queued_messages,
    redis_url_of,
)

DELAYED_KEY = f"dramatiq:{QUEUE_NAME}.DQ.msgs"
# sweeps often, everything else default: RELAY_STALE_AFTER_S stays 300 s
QUICK_SWEEP = {"relay_sweep_interval_s": 0.2}


def _ids(client: redis.Redis) -> list[str]:
    return sorted(m["args"][0] for m in queued_messages(client))


def _delayed(client: redis.Redis) -> dict[str, int]:
    """delivery id → eta (ms) of the messages in Dramatiq's delay queue."""
    found = (json.loads(raw) for raw in client.hvals(DELAYED_KEY))
    return {m["args"][0]: m["options"]["eta"] for m in found}


def _delivery(delivery_id: str) -> NewDelivery:
    return NewDelivery(delivery_id, "customer.updated", "2024-05-01T10:00:00.000000Z", 1, b"{}")


class Receiver:
    """A relay and its recovery on a real Redis and store: one receiver, without HTTP."""

    def __init__(self, store: SQLiteEventStore, url: str, executor: ThreadPoolExecutor) -> None:
        self.broker = build_broker(url)
        self.relay = Relay(store, self.broker, write_executor=executor, broker_executor=executor)
        marker = EpochMarker(self.broker.client)
        self.recovery = RedisRecovery(store, self.relay, marker, read_executor=executor)


@pytest.fixture
async def make_receiver_parts(
    store: SQLiteEventStore, receiver_redis_url: str
) -> AsyncIterator[Callable[[], Receiver]]:
    made: list[Receiver] = []
    with ThreadPoolExecutor(max_workers=2) as executor:

        def build() -> Receiver:
            made.append(Receiver(store, receiver_redis_url, executor))
            return made[-1]

        yield build
        for parts in made:
            close_broker(parts.broker)


async def _queue(store: SQLiteEventStore, receiver: Receiver, ids: list[str]) -> None:
    """Commit ``ids`` and relay them (``queued`` in the store, on the Redis queue)."""
    store.commit_batch([_delivery(i) for i in ids])
    assert await receiver.relay.send([RelayItem(i, "customer.updated") for i in ids])


async def test_a_healthy_redis_with_a_long_backlog_gets_nothing_sent_twice(
    store: SQLiteEventStore,
    make_receiver_parts: Callable[[], Receiver],
    receiver_redis: redis.Redis,
) -> None:
    receiver = make_receiver_parts()
    assert await receiver.recovery.check() == 0  # the first check writes the marker
    backlog = [f"dlv_backlog_{i:03d}" for i in range(300)]
    await _queue(store, receiver, backlog)  # no worker consumes: the backlog stays
    for _ in range(5):
        assert await receiver.recovery.check() == 0
    assert _ids(receiver_redis) == backlog  # each message once
    assert store.counts()["queued"] == len(backlog)


async def test_after_a_flush_every_unfinished_event_is_sent_again_at_the_next_check(
    store: SQLiteEventStore,
    make_receiver_parts: Callable[[], Receiver],
    receiver_redis: redis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = make_receiver_parts()
    await receiver.recovery.check()
    queued = [f"dlv_lost_{i:02d}" for i in range(20)]
    await _queue(store, receiver, queued)
    store.commit_batch([_delivery("dlv_received"), _delivery("dlv_retry"), _delivery("dlv_done")])
    retry_at = datetime.now(UTC) + timedelta(seconds=60)
    for done in ("dlv_retry", "dlv_done"):
        assert store.apply_worker_writes([StartAttempt(done)])[0] is not None
    later = format_time(retry_at)
    store.apply_worker_writes([Outcome("dlv_retry", Result.FAILED, "503 from the API", later)])
    store.apply_worker_writes([Outcome("dlv_done", Result.PROCESSED, "mirrored")])
    receiver_redis.flushdb()  # Redis restarted without persistence

    with caplog.at_level(logging.INFO, logger="receiver.redis_epoch"):
        assert await receiver.recovery.check() == len(queued) + 2
    assert _ids(receiver_redis) == sorted([*queued, "dlv_received"])
    eta = _delayed(receiver_redis)
    assert list(eta) == ["dlv_retry"]  # the retry keeps its backoff, in the delay queue
    assert abs(eta["dlv_retry"] - retry_at.timestamp() * 1000) < 2000
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("Redis lost its data") for line in lines), lines
    assert "resent 22 events after Redis lost its data" in "\n".join(lines)
    assert await receiver.recovery.check() == 0  # the new marker stays: once per loss


async def test_two_receivers_that_both_notice_a_loss_each_send_once(
    store: SQLiteEventStore,
    make_receiver_parts: Callable[[], Receiver],
    receiver_redis: redis.Redis,
) -> None:
    first, second = make_receiver_parts(), make_receiver_parts()
    await first.recovery.check()
    assert await second.recovery.check() == 0  # the marker exists: the second adopts it
    await _queue(store, first, ["dlv_shared_1", "dlv_shared_2"])
    receiver_redis.flushdb()
    # each noticed the loss (the second sees a token it did not know): a double resend, once
    assert await first.recovery.check() == 2
    assert await second.recovery.check() == 2
    assert _ids(receiver_redis) == ["dlv_shared_1", "dlv_shared_1", "dlv_shared_2", "dlv_shared_2"]
    assert await first.recovery.check() == 0
    assert await second.recovery.check() == 0


async def test_a_receiver_started_on_a_redis_that_kept_its_marker_sends_nothing(
    store: SQLiteEventStore,
    make_receiver_parts: Callable[[], Receiver],
    receiver_redis: redis.Redis,
) -> None:
    before = make_receiver_parts()
    await before.recovery.check()
    await _queue(store, before, ["dlv_kept_1"])
    after_restart = make_receiver_parts()
    assert await after_restart.recovery.check() == 0
    assert _ids(receiver_redis) == ["dlv_kept_1"]


async def test_a_flushed_redis_gets_its_queued_events_back_within_a_sweep_with_the_default_stale_period(  # noqa: E501
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
    receiver_redis: redis.Redis,
    receiver_redis_url: str,
) -> None:
    settings = make_settings(redis_url=receiver_redis_url, **QUICK_SWEEP)
    assert settings.relay_stale_after_s == 300
    client = await make_receiver(settings=settings)
    ids = [f"dlv_flushed_{i}" for i in range(5)]
    for delivery_id in ids:
        assert (await post_delivery(client, delivery_id))[0] == 200
    await eventually(lambda: store.counts()["queued"] == 5, what="5 queued rows")
    receiver_redis.flushall()
    await eventually(lambda: _ids(receiver_redis) == ids, timeout_s=5, what="all 5 sent again")


async def test_the_end_of_an_outage_sends_what_arrived_meanwhile_at_once_and_says_so(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    private_redis: Proc,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = redis_url_of(private_redis)
    settings = make_settings(redis_url=url, **QUICK_SWEEP)
    assert settings.relay_received_grace_s == 10
    client = await make_receiver(settings=settings)
    with redis.Redis.from_url(url) as check:
        await eventually(lambda: check.exists(REDIS_EPOCH_KEY) == 1, what="marker")
    with caplog.at_level(logging.INFO, logger="receiver"):
        private_redis.stop()  # no persistence: it comes back empty
        ids = [f"dlv_meanwhile_{i}" for i in range(10)]
        for delivery_id in ids:
            assert (await post_delivery(client, delivery_id))[0] == 200
        # the relay lingers (RELAY_LINGER_S) before its round trip: let it meet the outage
        await eventually(
            lambda: any(r.getMessage().startswith("Redis unreachable") for r in caplog.records),
            what="the relay to find Redis down",
        )
        private_redis.start()
        with redis.Redis.from_url(url) as check:
            # well inside the 10 s received grace: the end of the outage sent them
            await eventually(lambda: _ids(check) == ids, timeout_s=5, what="10 sent")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("receiver")]
    down = [line for line in lines if line.startswith("Redis unreachable")]
    back = [line for line in lines if line.startswith("Redis reachable again")]
    assert down == [
        "Redis unreachable (ConnectionError): events are stored and will be sent when Redis returns"
    ]
    assert len(back) == 1 and "resent 10 events (10 received)" in back[0], lines
