"""The inspector's reads on PostgreSQL (:class:`core.store.inspect.InspectsEvents`), with the
SQLite store's semantics (``core/store/sqlite/reads.py``): keyset pages newest first, counts, the
entity-id filter on the ``events_entity`` expression index, and an event's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from core.store.inspect import AttemptRecord, Cursor, EventFilter, EventSummary
from core.store.models import Status
from core.store.sqlite.observe import MINUTE_CHARS

ENTITY_EXPR = "billoget_entity_id(body)"  # exactly as migration 5 indexes it
SUMMARY_COLUMNS = (
    "delivery_id, event_type, status, attempts, last_error, outcome, received_at, updated_at, "
    f"next_attempt_at, selfcheck_nonce, {ENTITY_EXPR}"
)


def _where(where: EventFilter) -> tuple[list[str], list[Any]]:
    clauses, params = ["TRUE"], []
    for clause, value in (
        ("status = %s", where.status.value if where.status is not None else None),
        ("event_type = %s", where.event_type),
        ("received_at >= %s", where.since),
        (f"{ENTITY_EXPR} = %s", where.entity_id),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return clauses, params


def page_events(
    conn: psycopg.Connection[Any], where: EventFilter, *, before: Cursor | None, limit: int
) -> list[EventSummary]:
    clauses, params = _where(where)
    if before is not None:
        clauses.append("(received_at, delivery_id) < (%s, %s)")
        params += list(before)
    rows = conn.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM events WHERE {' AND '.join(clauses)}"
        " ORDER BY received_at DESC, delivery_id DESC LIMIT %s",
        (*params, limit),
    ).fetchall()
    return [_summary(r) for r in rows]


def _summary(r: Sequence[Any]) -> EventSummary:
    return EventSummary(
        delivery_id=r[0],
        event_type=r[1],
        status=Status(r[2]),
        attempts=r[3],
        last_error=r[4],
        outcome=r[5],
        received_at=r[6],
        updated_at=r[7],
        next_attempt_at=r[8],
        selfcheck_nonce=r[9],
        entity_id=r[10],
    )


def count_events(conn: psycopg.Connection[Any], where: EventFilter) -> int:
    clauses, params = _where(where)
    row = conn.execute(
        f"SELECT COUNT(*) FROM events WHERE {' AND '.join(clauses)}", params
    ).fetchone()
    return int(row[0]) if row else 0


def received_per_minute(conn: psycopg.Connection[Any], since: str) -> list[tuple[str, int]]:
    rows = conn.execute(
        f"SELECT substr(received_at, 1, {MINUTE_CHARS}) AS minute, COUNT(*) FROM events"
        " WHERE received_at >= %s GROUP BY minute ORDER BY minute",
        (since,),
    ).fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]


def attempts(conn: psycopg.Connection[Any], delivery_id: str) -> list[AttemptRecord]:
    rows = conn.execute(
        "SELECT attempt, at, result, detail FROM event_attempts WHERE delivery_id = %s ORDER BY id",
        (delivery_id,),
    ).fetchall()
    return [AttemptRecord(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]
