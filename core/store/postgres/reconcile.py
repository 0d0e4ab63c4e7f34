"""Reconciliation's records in the PostgreSQL store (migrations 6 and 7): when each mirrored
entity was last confirmed against the API, each family's saved list cursor, and the repairs
found; the same contract as :mod:`core.store.sqlite.reconcile`.

Module functions on an open connection; the store classes run them (``PostgresEventStore``
the reads /readyz shows, ``PostgresMirror`` the writes of the workers and the CLI). Values are
always bound; only a mirror table's name (from a fixed map) is part of the SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from core.store.reconcile import (
    MIRROR_TABLES,
    REPAIR_KINDS,
    Coverage,
    ReconcileCursor,
    Repair,
    table_for,
)


def confirm(conn: psycopg.Connection[Any], family: str, ids: Sequence[str], at: str) -> None:
    conn.execute(
        f"UPDATE {table_for(family)} SET confirmed_at = %s WHERE id = ANY(%s::text[])",
        (at, list(ids)),
    )


def coverage(conn: psycopg.Connection[Any], since: str) -> dict[str, Coverage]:
    found = {}
    for family, table in MIRROR_TABLES.items():
        row = conn.execute(
            f"SELECT COUNT(*), COUNT(*) FILTER (WHERE confirmed_at >= %s) FROM {table}"
            " WHERE NOT deleted",
            (since,),
        ).fetchone()
        total, confirmed = row if row else (0, 0)
        found[family] = Coverage(confirmed=int(confirmed), total=int(total))
    return found


def repair_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts = dict.fromkeys(REPAIR_KINDS, 0)
    for kind, count in conn.execute("SELECT kind, COUNT(*) FROM reconcile_repairs GROUP BY kind"):
        counts[kind] = int(count)
    return counts


def get_cursor(conn: psycopg.Connection[Any], family: str) -> ReconcileCursor | None:
    row = conn.execute(
        "SELECT family, pass_started_at, next_page, last_completed_at FROM reconcile_cursors"
        " WHERE family = %s",
        (family,),
    ).fetchone()
    return ReconcileCursor(row[0], row[1], int(row[2]), row[3]) if row else None


def save_cursor(conn: psycopg.Connection[Any], cursor: ReconcileCursor, now: str) -> None:
    conn.execute(
        "INSERT INTO reconcile_cursors (family, pass_started_at, next_page, last_completed_at,"
        " updated_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (family) DO UPDATE SET"
        " pass_started_at = excluded.pass_started_at, next_page = excluded.next_page,"
        " last_completed_at = excluded.last_completed_at, updated_at = excluded.updated_at",
        (cursor.family, cursor.pass_started_at, cursor.next_page, cursor.last_completed_at, now),
    )


def record_repairs(conn: psycopg.Connection[Any], repairs: Sequence[Repair], now: str) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO reconcile_repairs (delivery_id, family, entity_id, kind, found_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (delivery_id) DO NOTHING",
            [(r.delivery_id, r.family, r.entity_id, r.kind, now) for r in repairs],
        )


def unconfirmed_live_ids(conn: psycopg.Connection[Any], family: str, before: str) -> list[str]:
    """Live entities neither confirmed nor written since ``before`` (the pass's start): the
    candidates for "gone from the API". In byte order, as SQLite sorts them."""
    rows = conn.execute(
        f"SELECT id FROM {table_for(family)} WHERE NOT deleted"
        " AND COALESCE(confirmed_at, '') < %s AND COALESCE(fetched_at, '') < %s"
        ' ORDER BY id COLLATE "C"',
        (before, before),
    ).fetchall()
    return [r[0] for r in rows]
