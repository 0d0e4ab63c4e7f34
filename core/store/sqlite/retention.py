"""Retention on SQLite: empty old bodies of done events, delete done events past the id horizon.

A done event's age is its ``updated_at`` (when it became ``processed``/``dead``, never before
it was received), so the (status, updated_at) index finds them. One small batch per call,
inside the caller's write transaction, so the receiver's group commit waits at most one batch
(:func:`core.store.retention.prune_all` loops).
"""

from __future__ import annotations

import sqlite3

_DONE = "status IN ('processed', 'dead')"


def prune(
    conn: sqlite3.Connection, *, bodies_before: str, ids_before: str, limit: int, now: str
) -> tuple[int, int]:
    """``(bodies emptied, events deleted)``, each at most ``limit``."""
    gone = [
        row[0]
        for row in conn.execute(
            f"SELECT delivery_id FROM events WHERE {_DONE} AND updated_at < ?"
            " ORDER BY updated_at LIMIT ?",
            (ids_before, limit),
        )
    ]
    if gone:  # the event and its history (the inspector's event_attempts) go together
        marks = ", ".join("?" * len(gone))
        conn.execute(f"DELETE FROM event_attempts WHERE delivery_id IN ({marks})", gone)
        conn.execute(f"DELETE FROM events WHERE delivery_id IN ({marks})", gone)
    deleted = len(gone)
    emptied = conn.execute(
        "UPDATE events SET body = x'', pruned_at = ? WHERE delivery_id IN (SELECT delivery_id"
        f" FROM events WHERE {_DONE} AND updated_at >= ? AND updated_at < ?"
        " AND pruned_at IS NULL ORDER BY updated_at LIMIT ?)",
        (now, ids_before, bodies_before, limit),
    ).rowcount
    return emptied, deleted
