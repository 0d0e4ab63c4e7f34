"""A worker's view of Redis: one line when it goes away, one when it is back, nothing between.

While Redis is unreachable a worker cannot fetch messages, acknowledge the ones in hand or
schedule retries. Dramatiq's consumer threads log a CRITICAL "Consumer encountered a connection
error" every few seconds and each worker thread a multi-line WARNING per failed acknowledgement;
:class:`DramatiqOutageFilter` lets the first of them through as one WARNING line and drops the
rest until Redis answers again. :class:`RedisWatch` logs the outage once ("events are stored and
will be sent when Redis returns"), keeps the retries it could not schedule (the store has them
as ``failed``/``queued`` with their next attempt, so nothing depends on this memory), pings
Redis every second from a thread of its own, and once it answers enqueues those retries with
what is left of their delay and logs one INFO line with how many.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import dramatiq
import redis
import redis.asyncio as aioredis
from dramatiq.errors import BrokerConnectionError
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff

from core.queue import QUEUE_NAME, build_message

log = logging.getLogger(__name__)

DEFAULT_PING_INTERVAL_S = 1.0
DEFAULT_PING_TIMEOUT_S = 1.0
REDIS_ERRORS = (redis.RedisError, BrokerConnectionError)
# the loggers of Dramatiq's worker that repeat themselves while Redis is away
DRAMATIQ_LOGGERS = (
    f"dramatiq.worker.ConsumerThread({QUEUE_NAME})",
    f"dramatiq.worker.ConsumerThread({QUEUE_NAME}.DQ)",
    "dramatiq.worker.WorkerThread",
    "dramatiq.worker.Worker",
)
CONNECTION_MESSAGES = (
    "Consumer encountered a connection error",
    "Restarting consumer in",
    "Failed to post_process_message",
    "due to a connection error",
)


class RedisWatch:
    """Outage state of one worker process; thread-safe."""

    def __init__(
        self,
        broker: dramatiq.Broker,
        ping: Callable[[], object],
        *,
        ping_interval_s: float = DEFAULT_PING_INTERVAL_S,
    ) -> None:
        self._broker = broker
        self._ping = ping
        self._ping_interval_s = ping_interval_s
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._owed: dict[str, tuple[str, float]] = {}  # delivery id → (event type, due at)
        self._suppressed = 0
        self._closed = threading.Event()

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def enqueue(self, delivery_id: str, event_type: str, delay_s: float) -> None:
        """Schedule a retry; while Redis is away keep it and send it when Redis is back."""
        if not self.down:
            try:
                self._send(delivery_id, event_type, delay_s)
                return
            except REDIS_ERRORS as exc:
                self.note_down(exc)
        with self._lock:
            self._owed[delivery_id] = (event_type, time.monotonic() + max(delay_s, 0.0))

    def note_down(self, exc: BaseException | str) -> None:
        """Redis did not answer: the one warning of this outage, and the watch thread."""
        with self._lock:
            if self._down_since is not None or self._closed.is_set():
                return
            self._down_since = time.monotonic()
        reason = exc if isinstance(exc, str) else type(exc).__name__
        log.warning(
            "Redis unreachable (%s): events are stored and will be sent when Redis returns; "
            "this worker resumes then",
            reason,
        )
        threading.Thread(target=self._wait_for_redis, name="redis-watch", daemon=True).start()

    @property
    def suppressed(self) -> int:
        """How many of Dramatiq's connection messages this outage left out so far."""
        return self._suppressed

    def suppressing(self) -> bool:
        """Whether Dramatiq's repeated connection messages are dropped now (counts them)."""
        with self._lock:
            if self._down_since is None:
                return False
            self._suppressed += 1
            return True

    def close(self) -> None:
        self._closed.set()

    def _wait_for_redis(self) -> None:
        while not self._closed.wait(self._ping_interval_s):
            try:
                self._ping()
            except REDIS_ERRORS:
                continue
            self._back()
            return

    def _back(self) -> None:
        with self._lock:
            down_since, self._down_since = self._down_since, None
            owed, self._owed = self._owed, {}
            suppressed, self._suppressed = self._suppressed, 0
        now, resent = time.monotonic(), 0
        for delivery_id, (event_type, due) in owed.items():
            try:
                self._send(delivery_id, event_type, due - now)
                resent += 1
            except REDIS_ERRORS as exc:
                with self._lock:
                    self._owed[delivery_id] = (event_type, due)
                self.note_down(exc)
        log.info(
            "Redis reachable again after %.1f s: %d retries scheduled that were waiting for it "
            "(%d repeated Dramatiq connection messages left out)",
            now - (down_since or now),
            resent,
            suppressed,
        )

    def _send(self, delivery_id: str, event_type: str, delay_s: float) -> None:
        delay_ms = max(0, int(delay_s * 1000))
        self._broker.enqueue(build_message(delivery_id, event_type), delay=delay_ms or None)


class DramatiqOutageFilter(logging.Filter):
    """On Dramatiq's worker loggers: the first connection error of an outage becomes one
    WARNING line (it starts the outage if nothing noticed it yet); the repeats are dropped."""

    def __init__(self, watch: RedisWatch) -> None:
        super().__init__()
        self._watch = watch

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return True
        if not any(m in text for m in CONNECTION_MESSAGES):
            return True
        if self._watch.suppressing():
            return False
        record.msg, record.args = text.splitlines()[0], None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        self._watch.note_down(text.split(": ", 1)[-1].splitlines()[0][:200])
        return True

    def install(self) -> None:
        for name in DRAMATIQ_LOGGERS:
            logging.getLogger(name).addFilter(self)

    def remove(self) -> None:
        for name in DRAMATIQ_LOGGERS:
            logging.getLogger(name).removeFilter(self)


def worker_redis(redis_url: str) -> aioredis.Redis:
    """The workers' asyncio client (entity locks, rate budget, problems): a command on a
    connection Redis closed (it restarted) is retried at once on a fresh one, instead of
    failing the handler that happened to use it first."""
    return aioredis.Redis.from_url(
        redis_url,
        retry=AsyncRetry(ExponentialBackoff(cap=0.2, base=0.01), 2),
        retry_on_error=[redis.ConnectionError],
    )


def redis_ping(
    redis_url: str, *, timeout_s: float = DEFAULT_PING_TIMEOUT_S
) -> Callable[[], object]:
    """A ``PING`` of ``redis_url`` that fails within ``timeout_s`` (own client, no retries)."""
    client = redis.Redis.from_url(
        redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
    )
    return client.ping
