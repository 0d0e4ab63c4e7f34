"""Replay: ``--since`` parsing, and sending stored events back through the queue (real Redis,
real SQLite file)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis

from core.errors import ConfigError
from core.queue import QUEUE_NAME
from core.replay import build_broker, find_events, parse_since, replay, select_events
from core.store import NewDelivery, Status
from core.store.sqlite.store import SQLiteEventStore

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", "2024-05-01T10:30:00.000000Z"),
        ("2h", "2024-05-01T10:00:00.000000Z"),
        ("1.5d", "2024-04-30T00:00:00.000000Z"),
        ("30s", "2024-05-01T11:59:30.000000Z"),
        ("2024-04-01T08:00:00", "2024-04-01T08:00:00.000000Z"),
        ("2024-04-01T08:00:00Z", "2024-04-01T08:00:00.000000Z"),
        (" 2024-04-01T10:00:00+02:00 ", "2024-04-01T08:00:00.000000Z"),
    ],
)
def test_since_is_a_duration_back_from_now_or_an_iso_time(text: str, expected: str) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-2h", "", "2w"])
def test_a_since_that_is_neither_is_a_config_error_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match="neither an ISO-8601 time nor a duration"):
        parse_since(text, now=NOW)


def _stored(store: SQLiteEventStore, count: int) -> list[str]:
    ids = [f"dlv_replay_{n}" for n in range(count)]
    store.insert_batch(
        [NewDelivery(i, "customer.updated", "2024-01-01T00:00:00.000000Z", 1, b"{}") for i in ids]
    )
    for delivery_id in ids:
        store.mark_dead(delivery_id, reason="boom")
    return ids


def test_replay_requeues_and_enqueues_every_event_in_chunks(
    store: SQLiteEventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    ids = _stored(store, 5)
    events = select_events(store, status=Status.DEAD, since=None)
    seen: list[tuple[int, int]] = []

    result = replay(
        store, events, broker=build_broker(redis_url), chunk=2, progress=lambda *p: seen.append(p)
    )

    assert (result.requeued, result.enqueued, result.broker_error) == (5, 5, None)
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert {e.status for e in map(store.get, ids) if e} == {Status.QUEUED}
    assert redis_client.hlen(f"dramatiq:{QUEUE_NAME}.msgs") == 5


def test_with_the_broker_down_replayed_events_stay_received_for_the_sweeper(
    store: SQLiteEventStore,
) -> None:
    ids = _stored(store, 3)
    events, unknown = find_events(store, [*ids, "dlv_nope", ids[0]])

    result = replay(store, events, broker=build_broker("redis://127.0.0.1:9/0"))

    assert unknown == ["dlv_nope"] and len(events) == 3
    assert (result.requeued, result.enqueued) == (3, 0)
    assert result.broker_error is not None
    stored = [store.get(i) for i in ids]
    assert [(e.status, e.attempts) for e in stored if e] == [(Status.RECEIVED, 0)] * 3
