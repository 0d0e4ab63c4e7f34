"""``unfinished``: every row not done, updated before the cut-off, page by page in a stable order
(what the receiver sends again when Redis lost its data)."""

from __future__ import annotations

import random
from pathlib import Path

from core.store import Status
from core.store.sqlite.store import SQLiteEventStore

STATUSES = ("received", "queued", "processed", "failed", "dead")
CUTOFF = "2024-05-01T10:00:45.000000Z"


def _store(tmp_path: Path) -> SQLiteEventStore:
    store = SQLiteEventStore(tmp_path / "events.db")
    store.migrate()
    rng = random.Random(11)
    rows = []
    for n in range(400):
        # many rows share an updated_at: the delivery id breaks the tie
        updated = f"2024-05-01T10:00:{rng.randrange(60):02d}.000000Z"
        status = rng.choice(STATUSES)
        next_attempt = updated if status in ("failed", "queued") and n % 3 == 0 else None
        rows.append((f"dlv_{n:03d}", "budget.updated", status, updated, updated, next_attempt))
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO events (delivery_id, event_type, status, received_at, updated_at,"
            " next_attempt_at, event_timestamp, webhook_timestamp, body)"
            " VALUES (?, ?, ?, ?, ?, ?, '2024-05-01T10:00:00.000000Z', 1, x'7b7d')",
            rows,
        )
    return store


def test_unfinished_pages_through_every_row_not_done_before_the_cutoff_exactly_once(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    with store.reading() as conn:
        expected = conn.execute(
            "SELECT delivery_id, status, updated_at, next_attempt_at FROM events"
            " WHERE status IN ('received', 'queued', 'failed') AND updated_at < ?"
            " ORDER BY updated_at, delivery_id",
            (CUTOFF,),
        ).fetchall()
    seen, after = [], None
    while True:
        page = store.unfinished(before=CUTOFF, after=after, limit=37)
        seen.extend(page)
        if len(page) < 37:
            break
        after = (page[-1].updated_at, page[-1].delivery_id)
    store.close()

    assert [(u.delivery_id, u.status.value, u.updated_at, u.next_attempt_at) for u in seen] == [
        tuple(r) for r in expected
    ]
    assert {u.status for u in seen} == {Status.RECEIVED, Status.QUEUED, Status.FAILED}
    assert len(expected) > 100
