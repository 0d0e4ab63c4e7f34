"""The Dramatiq broker of the workers: Redis, Dramatiq's default middleware plus AsyncIO.

Built by a function from :class:`core.settings.Settings` (no import-time global); our actor sets
``max_retries=0`` because retries are our own policy (:mod:`workers.retry`), recorded in the
store.
"""

from __future__ import annotations

from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from core.settings import Settings


def build_broker(settings: Settings) -> RedisBroker:
    broker = RedisBroker(url=settings.redis_url)
    broker.add_middleware(AsyncIO())
    return broker
