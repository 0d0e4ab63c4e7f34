"""Typed ``web.AppKey`` keys for everything the receiver keeps on its application."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dramatiq
from aiohttp import web

from core.settings import Settings
from core.store import EventStore
from receiver.batcher import GroupCommitter
from receiver.ingest import Ingestor
from receiver.observability.families import ReceiverMetrics
from receiver.readiness import ReadinessCheck
from receiver.relay import Relay

SETTINGS_KEY = web.AppKey("settings", Settings)
STORE_KEY = web.AppKey[EventStore]("store")
BROKER_KEY = web.AppKey[dramatiq.Broker]("broker")
INGESTOR_KEY = web.AppKey("ingestor", Ingestor)
BATCHER_KEY = web.AppKey("batcher", GroupCommitter)
RELAY_KEY = web.AppKey("relay", Relay)
# the single store-writer thread: SQLite has one writer, so every write goes through it
WRITE_EXECUTOR_KEY = web.AppKey("write_executor", ThreadPoolExecutor)
# store reads off the event loop; shut down (waited for) before the store closes
READ_EXECUTOR_KEY = web.AppKey("read_executor", ThreadPoolExecutor)
READINESS_CHECKS_KEY = web.AppKey[dict[str, ReadinessCheck]]("readiness_checks")
# the receiver's own metric families (issue 11), counted by the webhook view and the middleware
METRICS_KEY = web.AppKey("metrics", ReceiverMetrics)
# what /readyz lists under "warnings" (alerts that hold; the process is still ready)
READINESS_WARNINGS_KEY = web.AppKey[Callable[[], list[dict[str, Any]]]]("readiness_warnings")
