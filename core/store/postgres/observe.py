"""The PostgreSQL store's reads and writes for observability (issue 11), with the SQLite
store's semantics (``core/store/sqlite/observe.py``): the age of the backlog, the latest
delivery, deliveries per minute, and the receivers' per-minute counters (``delivery_stats``,
summed across every receiver that writes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from core.store.sqlite.observe import MINUTE_CHARS

_NOT_DONE = "status NOT IN ('processed', 'dead')"


def oldest_unprocessed_at(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(f"SELECT MIN(received_at) FROM events WHERE {_NOT_DONE}").fetchone()
    return None if row is None or row[0] is None else str(row[0])


def last_received_at(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute("SELECT MAX(received_at) FROM events").fetchone()
    return None if row is None or row[0] is None else str(row[0])


def add_delivery_stats(
    conn: psycopg.Connection[Any], minute: str, counts: Mapping[tuple[str, str], float]
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO delivery_stats AS s (minute, kind, key, count) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (minute, kind, key) DO UPDATE SET count = s.count + excluded.count",
            [(minute[:MINUTE_CHARS], kind, key, value) for (kind, key), value in counts.items()],
        )


def delivery_stats(conn: psycopg.Connection[Any], since: str) -> dict[tuple[str, str], float]:
    rows = conn.execute(
        "SELECT kind, key, SUM(count) FROM delivery_stats WHERE minute >= %s GROUP BY kind, key",
        (since[:MINUTE_CHARS],),
    ).fetchall()
    return {(str(r[0]), str(r[1])): float(r[2]) for r in rows}


def prune_delivery_stats(conn: psycopg.Connection[Any], before: str) -> int:
    cur = conn.execute("DELETE FROM delivery_stats WHERE minute < %s", (before[:MINUTE_CHARS],))
    return cur.rowcount
