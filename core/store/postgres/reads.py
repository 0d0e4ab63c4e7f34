"""The PostgreSQL store's reads: events, counts, the relay sweeper's query, self-check results.

Functions on a connection; :class:`core.store.postgres.store.PostgresEventStore` lends them a
pooled one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from core.store.models import RelayItem, Status, StoredEvent, Unfinished
from core.store.reading import list_query

EVENT_COLUMNS = (
    "delivery_id, event_type, status, attempts, last_error, outcome, received_at, updated_at, "
    "queued_at, processed_at, next_attempt_at, event_timestamp, webhook_timestamp, body, "
    "selfcheck_nonce"
)

# The sweeper's query (the same three branches as SQLite's, each a range on the
# (status, updated_at) index): ``received`` for longer than the grace, ``queued`` with no
# progress (nor a retry pending) for the stale period, ``failed`` whose retry is overdue by it.
DUE_FOR_RELAY = (
    " UNION ALL ".join(
        f"(SELECT delivery_id, event_type, updated_at FROM events WHERE {where}"
        " ORDER BY updated_at LIMIT %(limit)s)"
        for where in (
            "status = 'received' AND updated_at < %(received)s",
            "status = 'queued' AND updated_at < %(stale)s"
            " AND COALESCE(next_attempt_at, '') < %(stale)s",
            "status = 'failed' AND COALESCE(next_attempt_at, updated_at) < %(stale)s",
        )
    )
    + " ORDER BY updated_at LIMIT %(limit)s"
)


# The resend after Redis lost its data (as SQLite's UNFINISHED_PAGE): every row not done, a page
# at a time, one range per status on the (status, updated_at) index, the row value the cursor.
UNFINISHED_PAGE = (
    " UNION ALL ".join(
        "(SELECT delivery_id, event_type, status, updated_at, next_attempt_at FROM events"
        f" WHERE status = '{status}' AND updated_at < %(before)s"
        " AND (updated_at, delivery_id) > (%(after_at)s, %(after_id)s)"
        " ORDER BY updated_at, delivery_id LIMIT %(limit)s)"
        for status in ("received", "queued", "failed")
    )
    + " ORDER BY updated_at, delivery_id LIMIT %(limit)s"
)


def unfinished(
    conn: psycopg.Connection[Any], *, before: str, after: tuple[str, str] | None, limit: int
) -> list[Unfinished]:
    after_at, after_id = after or ("", "")
    params = {"before": before, "after_at": after_at, "after_id": after_id, "limit": limit}
    rows = conn.execute(UNFINISHED_PAGE, params).fetchall()
    return [Unfinished(r[0], r[1], Status(r[2]), r[3], r[4]) for r in rows]


def row_to_event(row: Sequence[Any]) -> StoredEvent:
    values = list(row)
    values[2] = Status(values[2])
    values[13] = bytes(values[13])
    return StoredEvent(*values)


def get_event(conn: psycopg.Connection[Any], delivery_id: str) -> StoredEvent | None:
    row = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE delivery_id = %s", (delivery_id,)
    ).fetchone()
    return row_to_event(row) if row is not None else None


def list_events(
    conn: psycopg.Connection[Any],
    *,
    status: Status | None,
    event_type: str | None,
    since: str | None,
    limit: int,
) -> list[StoredEvent]:
    sql, params = list_query(
        EVENT_COLUMNS, status=status, event_type=event_type, since=since, limit=limit, mark="%s"
    )
    return [row_to_event(r) for r in conn.execute(sql, params).fetchall()]


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    rows = conn.execute("SELECT status, COUNT(*) FROM events GROUP BY status").fetchall()
    found = {str(r[0]): int(r[1]) for r in rows}
    return {s.value: found.get(s.value, 0) for s in Status}


def find_selfcheck(conn: psycopg.Connection[Any], nonce: str) -> StoredEvent | None:
    row = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE selfcheck_nonce = %s LIMIT 1", (nonce,)
    ).fetchone()
    return row_to_event(row) if row is not None else None


def due_for_relay(
    conn: psycopg.Connection[Any], *, received_before: str, stale_before: str, limit: int
) -> list[RelayItem]:
    params = {"received": received_before, "stale": stale_before, "limit": limit}
    rows = conn.execute(DUE_FOR_RELAY, params).fetchall()
    return [RelayItem(r[0], r[1]) for r in rows]


def last_selfcheck(conn: psycopg.Connection[Any]) -> tuple[str, bool, str] | None:
    row = conn.execute(
        "SELECT at, ok, json FROM selfcheck_results ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return (str(row[0]), bool(row[1]), str(row[2])) if row else None
