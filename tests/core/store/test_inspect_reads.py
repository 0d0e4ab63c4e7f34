"""The inspector's store reads (core.store.inspect) on a real SQLite file: filters, keyset
pages, the entity-id index, the per-minute counts and the oldest unfinished event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.store import NewDelivery, Status
from core.store.inspect import EventFilter, InspectsEvents
from core.store.sqlite import reads
from core.store.sqlite.store import SQLiteEventStore
from core.times import format_time


def _delivery(
    delivery_id: str, *, event: str = "budget.updated", data: object = None
) -> NewDelivery:
    body = json.dumps({"event": event, "data": data if data is not None else {"id": 1}})
    return NewDelivery(delivery_id, event, "2026-05-01T10:00:00Z", 1, body.encode())


def test_the_sqlite_store_provides_the_inspector_reads(store: SQLiteEventStore) -> None:
    assert isinstance(store, InspectsEvents)


def test_pages_go_newest_first_and_continue_strictly_before_the_last_row(
    store: SQLiteEventStore,
) -> None:
    for batch in range(5):  # five commits: five received_at values, ties broken by id
        store.insert_batch([_delivery(f"d{batch}-{i}") for i in range(7)])
    seen, before = [], None
    while page := store.page_events(EventFilter(), before=before, limit=10):
        seen += [e.delivery_id for e in page]
        before = page[-1].cursor
    assert len(seen) == 35 and len(set(seen)) == 35
    newest_first = sorted(store.page_events(EventFilter(), limit=100), key=lambda e: e.cursor)
    assert seen == [e.delivery_id for e in reversed(newest_first)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (EventFilter(status=Status.DEAD), {"b", "c"}),
        (EventFilter(event_type="customer.created"), {"c"}),
        (EventFilter(status=Status.DEAD, event_type="budget.updated"), {"b"}),
        (EventFilter(entity_id="7"), {"a", "c"}),  # 7 and "7" in the JSON
        (EventFilter(entity_id="x-9"), {"d"}),
        (EventFilter(entity_id="8"), set()),
        (EventFilter(since="2999-01-01T00:00:00.000000Z"), set()),
    ],
)
def test_filters_match_status_type_entity_and_since(
    store: SQLiteEventStore, where: EventFilter, expected: set[str]
) -> None:
    store.insert_batch(
        [
            _delivery("a", data={"id": 7}),
            _delivery("b", data={"id": 1}),
            _delivery("c", event="customer.created", data={"id": "7"}),
            _delivery("d", data={"id": "x-9"}),
            NewDelivery("e", "odd", "t", 1, b"not json at all"),  # stored, never matched
        ]
    )
    store.mark_dead("b", reason="x")
    store.mark_dead("c", reason="x")
    assert {e.delivery_id for e in store.page_events(where, limit=50)} == expected
    assert store.count_events(where) == len(expected)


def test_the_entity_filter_and_keyset_pages_use_indexes(store: SQLiteEventStore) -> None:
    with store._reading() as conn:
        plan = " ".join(
            str(row)
            for sql in (
                f"SELECT 1 FROM events WHERE {reads.ENTITY_EXPR} IN (?, ?)",
                "SELECT 1 FROM events WHERE status = ? AND (received_at, delivery_id) < (?, ?)"
                " ORDER BY received_at DESC, delivery_id DESC",
            )
            for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("7", 7, "z")[: sql.count("?")])
        )
    assert "events_entity" in plan and "events_status_received" in plan and "SCAN" not in plan


def test_per_minute_counts_and_the_oldest_unfinished_and_last_received(
    store: SQLiteEventStore,
) -> None:
    assert store.oldest_unfinished() is None and store.last_received() is None
    store.insert_batch([_delivery(f"d{i}") for i in range(4)])
    store.mark_queued(["d1"])
    store.start_attempt("d0")
    store.mark_processed("d0", outcome="ok")
    store.start_attempt("d2")
    store.mark_dead("d2", reason="x")
    hour_ago = format_time(datetime.now(UTC) - timedelta(hours=1))
    [(minute, count)] = store.received_per_minute(since=hour_ago)
    assert count == 4 and len(minute) == 16
    newest = store.last_received()
    assert newest is not None and store.oldest_unfinished() == newest  # d1, d3: same commit
    store.start_attempt("d1")
    store.mark_processed("d1", outcome="ok")
    store.start_attempt("d3")
    store.mark_processed("d3", outcome="ok")
    assert store.oldest_unfinished() is None


def test_every_outcome_and_replay_is_kept_in_the_events_history(store: SQLiteEventStore) -> None:
    store.insert_batch([_delivery("h")])
    store.start_attempt("h")
    store.mark_failed("h", error="API timed out", next_attempt_at="2999-01-01T00:00:00Z")
    store.start_attempt("h")
    store.mark_deferred("h", reason="waiting for the API budget", next_attempt_at="2999-01-01")
    store.start_attempt("h")
    store.mark_dead("h", reason="404: budget 1 not found")
    store.mark_failed("h", error="late duplicate", next_attempt_at="2999-01-01")  # no effect
    store.requeue(["h"])
    store.start_attempt("h")
    store.mark_processed("h", outcome="mirrored")
    history = [(a.attempt, a.result, a.detail) for a in store.attempts("h")]
    assert history == [
        (1, "failed", "API timed out"),
        (1, "deferred", "waiting for the API budget"),  # not counted: still attempt 1
        (2, "dead", "404: budget 1 not found"),
        (0, "replayed", None),
        (1, "processed", "mirrored"),
    ]
    assert store.attempts("unknown") == []
