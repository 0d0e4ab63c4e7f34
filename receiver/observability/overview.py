"""The data of the inspector's overview (``GET /admin/``), as plain functions.

The blocking ones take the store (run them on a store-reader thread); :func:`overview` takes
the app and gathers everything at once off the event loop. Nothing here renders: the page
decides how to show it.

- :func:`counts_by_status` → ``{"received": 3, "queued": 0, "processed": 912, ...}``;
- :func:`deliveries_per_minute` → ``[("2026-12-01T18:05", 4), ...]``, one entry per minute of
  the last hour, oldest first, 0 where nothing came (from the events table: every receiver);
- :func:`queue_lag_s` → seconds the oldest unprocessed event has waited (0: no backlog);
- :func:`last_delivery_at` → store text of the newest delivery, None when there is none;
- :func:`secret_matches` → per configured secret (by fingerprint) its verified deliveries over
  the last day, plus fingerprints seen that are no longer configured;
- :func:`warnings` → the alerts that hold now (silence, dead letters, signature failures);
- :func:`diagnosis` → :class:`~receiver.observability.diagnosis.Diagnosis`, whose ``sentence``
  names the commonest failure and whose ``lines()`` are what ``billoget-hooks diagnose`` prints.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from core.store import EventStore
from receiver.inspector.state import Signals
from receiver.keys import READ_EXECUTOR_KEY, SETTINGS_KEY, STORE_KEY
from receiver.observability.diagnosis import DAY_S, Diagnosis, SecretUse, diagnose
from receiver.observability.observer import OBSERVER_KEY
from receiver.observability.snapshot import epoch_of
from receiver.observability.stats import utc_text

MINUTES = 60


def counts_by_status(store: EventStore) -> dict[str, int]:
    return store.counts()


def deliveries_per_minute(
    store: EventStore, *, now: float | None = None, minutes: int = MINUTES
) -> list[tuple[str, int]]:
    """Events received per minute over the last ``minutes``, oldest first, zeros filled in."""
    now = time.time() if now is None else now
    end = datetime.fromtimestamp(now, UTC).replace(second=0, microsecond=0)
    first = end - timedelta(minutes=minutes - 1)
    found = dict(store.received_per_minute(since=utc_text(first.timestamp())))
    keys = [(first + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M") for i in range(minutes)]
    return [(key, found.get(key, 0)) for key in keys]


def queue_lag_s(store: EventStore, *, now: float | None = None) -> float:
    oldest = epoch_of(store.oldest_unprocessed_at())
    now = time.time() if now is None else now
    return 0.0 if oldest is None else max(0.0, now - oldest)


def last_delivery_at(store: EventStore) -> str | None:
    return store.last_received_at()


def secret_matches(app: web.Application, *, now: float | None = None) -> list[SecretUse]:
    """Blocking: verified deliveries per secret over the last day (see :func:`diagnosis`)."""
    return diagnosis(app, now=now).secrets


def diagnosis(app: web.Application, *, now: float | None = None) -> Diagnosis:
    """Blocking: the verification diagnosis of ``billoget-hooks diagnose``."""
    settings = app[SETTINGS_KEY]
    return diagnose(
        app[STORE_KEY],
        settings.webhook_secrets(),
        tolerance_s=settings.billoget_tolerance_s,
        max_body_bytes=settings.billoget_max_body_bytes,
        now=now,
    )


def warnings(app: web.Application) -> list[dict[str, Any]]:
    """``[{"alert": "silence", "message": "...", "since": 1796150000.0}, ...]`` (no I/O)."""
    return app[OBSERVER_KEY].warnings()


@dataclass(frozen=True, slots=True)
class Overview:
    counts: dict[str, int]
    per_minute: list[tuple[str, int]]
    queue_lag_s: float
    last_delivery_at: str | None
    diagnosis: Diagnosis  # .secrets: the secret matches; .sentence: the commonest failure
    warnings: list[dict[str, Any]]
    window_s: float = DAY_S


def _gather(app: web.Application, now: float) -> Overview:
    store = app[STORE_KEY]
    return Overview(
        counts=counts_by_status(store),
        per_minute=deliveries_per_minute(store, now=now),
        queue_lag_s=queue_lag_s(store, now=now),
        last_delivery_at=last_delivery_at(store),
        diagnosis=diagnosis(app, now=now),
        warnings=warnings(app),
    )


async def overview(app: web.Application) -> Overview:
    """Everything the overview shows, read on a store-reader thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(app[READ_EXECUTOR_KEY], _gather, app, time.time())


async def inspector_signals(app: web.Application) -> Signals:
    """The inspector's alert-side facts (:data:`receiver.inspector.state.SIGNALS_KEY`): the
    verified deliveries per secret fingerprint over the last day, the silence warning and the
    other alerts that hold now."""
    loop = asyncio.get_running_loop()
    uses = await loop.run_in_executor(app[READ_EXECUTOR_KEY], secret_matches, app)
    active = warnings(app)
    return Signals(
        secret_matches={
            u.fingerprint if u.position else f"{u.fingerprint} (no longer configured)": u.verified
            for u in uses
        },
        silence_warning=next((w["message"] for w in active if w["alert"] == "silence"), None),
        warnings=[w["message"] for w in active if w["alert"] != "silence"],
    )
