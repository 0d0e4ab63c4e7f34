"""The SQLite event store's reads and writes for observability (issue 11): the age of the
backlog, the latest delivery, deliveries per minute, and the receiver's per-minute counters
(``delivery_stats``) that ``billoget-hooks diagnose`` reads.

Every query is a range on an index: ``events_received`` (``received_at``), the primary key of
``delivery_stats`` (``minute`` first), or ``events_status_updated`` for the backlog.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from core.store.models import DONE_STATUSES, Status

MINUTE_CHARS = 16  # "YYYY-MM-DDTHH:MM" of core.times' fixed-width text
_NOT_DONE = tuple(s.value for s in Status if s not in DONE_STATUSES)


def oldest_unprocessed_at(conn: sqlite3.Connection) -> str | None:
    """``received_at`` of the oldest event not yet processed or dead (None: no backlog)."""
    marks = ", ".join("?" * len(_NOT_DONE))
    row = conn.execute(
        f"SELECT MIN(received_at) FROM events WHERE status IN ({marks})", _NOT_DONE
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def last_received_at(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT MAX(received_at) FROM events").fetchone()
    return None if row is None or row[0] is None else str(row[0])


def add_delivery_stats(
    conn: sqlite3.Connection, minute: str, counts: Mapping[tuple[str, str], float]
) -> None:
    conn.executemany(
        "INSERT INTO delivery_stats (minute, kind, key, count) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (minute, kind, key) DO UPDATE SET count = count + excluded.count",
        [(minute[:MINUTE_CHARS], kind, key, value) for (kind, key), value in counts.items()],
    )


def delivery_stats(conn: sqlite3.Connection, since: str) -> dict[tuple[str, str], float]:
    """(kind, key) → the sum of its counts in the minutes from ``since`` on."""
    rows = conn.execute(
        "SELECT kind, key, SUM(count) FROM delivery_stats WHERE minute >= ? GROUP BY kind, key",
        (since[:MINUTE_CHARS],),
    ).fetchall()
    return {(str(r[0]), str(r[1])): float(r[2]) for r in rows}


def prune_delivery_stats(conn: sqlite3.Connection, before: str) -> int:
    cursor = conn.execute("DELETE FROM delivery_stats WHERE minute < ?", (before[:MINUTE_CHARS],))
    return cursor.rowcount
