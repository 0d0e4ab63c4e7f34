"""The Dramatiq broker of the workers: Redis, Dramatiq's default middleware plus AsyncIO.

Built by a function from :class:`core.settings.Settings` (no import-time global); our actor sets
``max_retries=0`` because retries are our own policy (:mod:`workers.retry`), recorded in the
store.

A worker killed -9 leaves the messages it held in its Redis "acks" set; Dramatiq moves them
back to the queue once that worker missed its heartbeat for ``heartbeat_timeout`` and some
broker command draws "maintenance". Dramatiq's defaults (60 s, 0.1 % of commands) leave such
an event waiting minutes on a quiet queue; ours make it seconds. Every Redis command a worker
sends is a heartbeat, and its delay-queue consumer polls at least once a second even when every
thread is busy, so a live worker never misses 15 s of heartbeats; maintenance is one sorted-set
range query when nothing is dead, cheap at one command in ten.
"""

from __future__ import annotations

from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from core.settings import Settings

HEARTBEAT_TIMEOUT_MS = 15_000
MAINTENANCE_CHANCE = 100_000  # per million broker commands


def build_broker(settings: Settings) -> RedisBroker:
    broker = RedisBroker(
        url=settings.redis_url,
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    broker.add_middleware(AsyncIO())
    return broker
