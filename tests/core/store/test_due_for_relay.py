"""The sweeper's query (``due_for_relay``) picks exactly the rows the plain predicate does."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.store.sqlite import reads as sqlite_reads
from core.store.sqlite.store import SQLiteEventStore

# the predicate as first written: one OR over every status (it scanned every queued row)
REFERENCE_QUERY = (
    "SELECT delivery_id, event_type FROM events"
    " WHERE (status = 'received' AND updated_at < ?)"
    "    OR (status = 'queued' AND MAX(updated_at, COALESCE(next_attempt_at, '')) < ?)"
    "    OR (status = 'failed' AND COALESCE(next_attempt_at, updated_at) < ?)"
    " ORDER BY updated_at LIMIT ?"
)
GRACE_CUTOFF = "2024-05-01T10:00:30.000000Z"
STALE_CUTOFF = "2024-05-01T10:00:20.000000Z"
STATUSES = ("received", "queued", "processed", "failed", "dead")


def _moment(second: int, micro: int) -> str:
    return f"2024-05-01T10:00:{second:02d}.{micro:06d}Z"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteEventStore]:
    s = SQLiteEventStore(tmp_path / "events.db")
    s.migrate()
    rng = random.Random(7)
    rows = []
    for n in range(600):
        updated = _moment(rng.randrange(60), n)  # distinct: the order is fully defined
        next_attempt = rng.choice([None, None, _moment(rng.randrange(60), rng.randrange(10**6))])
        status = rng.choice(STATUSES)
        rows.append((f"dlv_{n}", "budget.updated", status, updated, updated, next_attempt))
    with s.write() as conn:
        conn.executemany(
            "INSERT INTO events (delivery_id, event_type, status, received_at, updated_at,"
            " next_attempt_at, event_timestamp, webhook_timestamp, body)"
            " VALUES (?, ?, ?, ?, ?, ?, '2024-05-01T10:00:00.000000Z', 1, x'7b7d')",
            rows,
        )
    yield s
    s.close()


@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
def test_due_for_relay_returns_what_the_plain_predicate_returns_in_the_same_order(
    store: SQLiteEventStore, limit: int
) -> None:
    expected = store.read(REFERENCE_QUERY, (GRACE_CUTOFF, STALE_CUTOFF, STALE_CUTOFF, limit))
    with store.reading() as conn:
        found = sqlite_reads.due_for_relay(
            conn, received_before=GRACE_CUTOFF, stale_before=STALE_CUTOFF, limit=limit
        )
    assert [(i.delivery_id, i.event_type) for i in found] == [tuple(r) for r in expected]
    assert found  # the data set has due rows of every kind


def test_due_for_relay_reads_each_status_through_the_status_index(
    store: SQLiteEventStore,
) -> None:
    plan = store.read("EXPLAIN QUERY PLAN " + sqlite_reads.DUE_FOR_RELAY, ("x",) * 8)
    searches = [str(row[3]) for row in plan if "events" in str(row[3])]
    assert len(searches) == 3
    assert all("SEARCH events USING INDEX events_status_updated" in s for s in searches)
