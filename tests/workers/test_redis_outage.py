"""A worker while Redis is away: one WARNING when it goes, one INFO when it is back, none of
Dramatiq's connection errors repeated; retries it could not schedule are sent when it returns,
and a handler that hits the outage is a retry with a one-line reason."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
import redis

from core.queue import QUEUE_NAME
from core.settings import Settings
from core.store import Result
from tests.fixtures.procs import Proc
from tests.fixtures.receiver import eventually, redis_url_of
from tests.fixtures.workers import StartWorker
from workers.broker import build_broker
from workers.processing import classify
from workers.redis_watch import RedisWatch, redis_ping

DELAYED_KEY = f"dramatiq:{QUEUE_NAME}.DQ.msgs"


def _lines(
    caplog: pytest.LogCaptureFixture, predicate: Callable[[logging.LogRecord], bool]
) -> list[str]:
    return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records if predicate(r)]


async def test_a_worker_says_once_that_redis_is_away_and_once_that_it_is_back(
    start_worker: StartWorker, private_redis: Proc, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_worker(redis_url=redis_url_of(private_redis))
    watch = running.runtime.redis_watch
    with caplog.at_level(logging.INFO):
        private_redis.kill9()
        await eventually(lambda: watch.down, timeout_s=10, what="the outage noticed")
        # Dramatiq's consumers keep trying every few seconds: at least two repeats left out
        await eventually(lambda: watch.suppressed >= 2, timeout_s=15, what="repeats dropped")
        private_redis.start()
        await eventually(lambda: not watch.down, timeout_s=10, what="Redis back")

    ours = _lines(caplog, lambda r: r.name == "workers.redis_watch")
    assert len(ours) == 2, ours
    assert ours[0].startswith("WARNING workers.redis_watch: Redis unreachable (")
    assert "events are stored and will be sent when Redis returns" in ours[0]
    assert ours[1].startswith("INFO workers.redis_watch: Redis reachable again after ")
    from_dramatiq = _lines(caplog, lambda r: r.name.startswith("dramatiq") and r.levelno >= 30)
    assert len(from_dramatiq) == 1, from_dramatiq  # the first connection error, one line
    assert from_dramatiq[0].startswith("WARNING dramatiq.worker.ConsumerThread(")
    assert "\n" not in from_dramatiq[0]
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL or r.exc_info]


async def test_a_retry_scheduled_while_redis_is_away_is_sent_when_it_returns(
    private_redis: Proc,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = redis_url_of(private_redis)
    broker = build_broker(make_settings(redis_url=url))
    broker.declare_queue(QUEUE_NAME)
    watch = RedisWatch(broker, redis_ping(url), ping_interval_s=0.1)
    try:
        with caplog.at_level(logging.INFO, logger="workers.redis_watch"):
            private_redis.kill9()
            watch.enqueue("dlv_retry_later", "customer.updated", 30.0)
            assert watch.down
            private_redis.start()
            await eventually(lambda: not watch.down, timeout_s=10, what="Redis back")
        with redis.Redis.from_url(url) as client:
            delayed = [json.loads(raw) for raw in client.hvals(DELAYED_KEY)]
        assert [m["args"][0] for m in delayed] == ["dlv_retry_later"]
        back = _lines(caplog, lambda r: "reachable again" in r.getMessage())
        assert len(back) == 1 and ": 1 retries scheduled that were waiting for it" in back[0]
    finally:
        watch.close()
        broker.close()


@pytest.mark.parametrize(
    "exc",
    [redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379."), redis.TimeoutError("x")],
)
def test_a_handler_that_hits_the_redis_outage_is_retried_with_a_one_line_reason(
    exc: Exception,
) -> None:
    verdict = classify(exc)
    assert verdict.kind is Result.FAILED
    assert verdict.text.startswith("Redis unavailable: ") and "\n" not in verdict.text
