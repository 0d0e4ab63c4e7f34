"""Reconciliation's records in the SQLite store (migration 13): when each mirrored entity was
last confirmed against the API, each family's saved list cursor, and the repairs found.

Module functions on an open connection; the store classes run them (``SQLiteEventStore`` the
reads /readyz shows, ``SQLiteMirrorStore`` the writes of the workers and the CLI).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from core.store.reconcile import (
    MIRROR_TABLES,
    REPAIR_KINDS,
    Coverage,
    ReconcileCursor,
    Repair,
    table_for,
)


def _table(family: str) -> str:
    return table_for(family)


def confirm(conn: sqlite3.Connection, family: str, ids: Iterable[str], at: str) -> None:
    conn.executemany(
        f"UPDATE {_table(family)} SET confirmed_at = ? WHERE id = ?",
        [(at, entity_id) for entity_id in ids],
    )


def coverage(conn: sqlite3.Connection, since: str) -> dict[str, Coverage]:
    found = {}
    for family, table in MIRROR_TABLES.items():
        total, confirmed = conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM(confirmed_at >= ?), 0) FROM {table} WHERE deleted = 0",
            (since,),
        ).fetchone()
        found[family] = Coverage(confirmed=int(confirmed), total=int(total))
    return found


def repair_counts(conn: sqlite3.Connection) -> dict[str, int]:
    counts = dict.fromkeys(REPAIR_KINDS, 0)
    for kind, count in conn.execute("SELECT kind, COUNT(*) FROM reconcile_repairs GROUP BY kind"):
        counts[kind] = int(count)
    return counts


def get_cursor(conn: sqlite3.Connection, family: str) -> ReconcileCursor | None:
    row = conn.execute(
        "SELECT family, pass_started_at, next_page, last_completed_at FROM reconcile_cursors"
        " WHERE family = ?",
        (family,),
    ).fetchone()
    return ReconcileCursor(row[0], row[1], int(row[2]), row[3]) if row else None


def save_cursor(conn: sqlite3.Connection, cursor: ReconcileCursor, now: str) -> None:
    conn.execute(
        "INSERT INTO reconcile_cursors (family, pass_started_at, next_page, last_completed_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (family) DO UPDATE SET"
        " pass_started_at = excluded.pass_started_at, next_page = excluded.next_page,"
        " last_completed_at = excluded.last_completed_at, updated_at = excluded.updated_at",
        (cursor.family, cursor.pass_started_at, cursor.next_page, cursor.last_completed_at, now),
    )


def record_repairs(conn: sqlite3.Connection, repairs: Sequence[Repair], now: str) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO reconcile_repairs (delivery_id, family, entity_id, kind, found_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(r.delivery_id, r.family, r.entity_id, r.kind, now) for r in repairs],
    )


def unconfirmed_live_ids(conn: sqlite3.Connection, family: str, before: str) -> list[str]:
    """Live entities neither confirmed nor written since ``before`` (the pass's start): the
    candidates for "gone from the API"."""
    rows = conn.execute(
        f"SELECT id FROM {_table(family)} WHERE deleted = 0"
        " AND COALESCE(confirmed_at, '') < ? AND COALESCE(fetched_at, '') < ? ORDER BY id",
        (before, before),
    ).fetchall()
    return [r[0] for r in rows]
