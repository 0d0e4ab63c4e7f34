"""The workers' writes on PostgreSQL: an attempt's start and outcome, requeue, retention.

Every outcome and every replay also adds a line to the event's history (``event_attempts``,
the inspector's), in the same statement: ``WITH u AS (UPDATE ... RETURNING) INSERT ... FROM u``,
so a write that changes no row (a late ``failed`` after ``dead``) logs nothing.

Functions on a connection inside the caller's transaction, with the SQLite store's semantics
(``core/store/sqlite/worker_writes.py``; the conformance suite holds both to them). A row is
locked by the statement that changes it, so two workers starting the same event take turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from core.store.models import Outcome, Result, StartAttempt, StoredEvent, WorkerWrite
from core.store.postgres.reads import EVENT_COLUMNS, row_to_event

# the event as it was before the attempt was counted
_STARTED = EVENT_COLUMNS.replace("attempts,", "attempts - 1,", 1)
_NOT_DONE = "status NOT IN ('processed', 'dead')"

_LOG = (
    " INSERT INTO event_attempts (delivery_id, attempt, at, result, detail)"
    " SELECT delivery_id, attempts, %(now)s, %(result)s, %(text)s FROM u"
)
_UPDATES = {
    Result.PROCESSED: "UPDATE events SET status = 'processed', outcome = %(text)s,"
    " processed_at = %(now)s, updated_at = %(now)s, next_attempt_at = NULL"
    " WHERE delivery_id = %(id)s",
    Result.FAILED: "UPDATE events SET status = 'failed', last_error = %(text)s,"
    " next_attempt_at = %(at)s, updated_at = %(now)s"
    f" WHERE delivery_id = %(id)s AND {_NOT_DONE}",
    Result.DEAD: "UPDATE events SET status = 'dead', last_error = %(text)s, outcome = 'dead',"
    " updated_at = %(now)s, next_attempt_at = NULL WHERE delivery_id = %(id)s",
    Result.DEFERRED: "UPDATE events SET status = 'queued', last_error = %(text)s,"
    " next_attempt_at = %(at)s, attempts = GREATEST(attempts - 1, 0), updated_at = %(now)s"
    f" WHERE delivery_id = %(id)s AND {_NOT_DONE}",
}
_OUTCOME_SQL = {
    kind: f"WITH u AS ({update} RETURNING delivery_id, attempts){_LOG}"
    for kind, update in _UPDATES.items()
}
_START = (
    "UPDATE events SET attempts = attempts + 1, updated_at = %(now)s"
    f" WHERE delivery_id = %(id)s AND {_NOT_DONE} RETURNING {_STARTED}"
)


def apply_worker_writes(
    conn: psycopg.Connection[Any], writes: Sequence[WorkerWrite], now: str
) -> list[StoredEvent | None]:
    """Every write, in order; per write the started event (``StartAttempt``) or None."""
    results: list[StoredEvent | None] = []
    for write in writes:
        if isinstance(write, StartAttempt):
            row = conn.execute(_START, {"now": now, "id": write.delivery_id}).fetchone()
            results.append(row_to_event(row) if row is not None else None)
        else:
            results.append(None)
            conn.execute(_OUTCOME_SQL[write.kind], _outcome_params(write, now))
    return results


def _outcome_params(outcome: Outcome, now: str) -> dict[str, Any]:
    return {
        "now": now,
        "id": outcome.delivery_id,
        "text": outcome.text,
        "at": outcome.next_attempt_at,
        "result": outcome.kind.value,
    }


def requeue(conn: psycopg.Connection[Any], delivery_ids: Sequence[str], now: str) -> int:
    """Back to ``received`` with a fresh attempt count; how many rows changed."""
    cur = conn.execute(
        "WITH u AS (UPDATE events SET status = 'received', attempts = 0, next_attempt_at = NULL,"
        " outcome = NULL, updated_at = %(now)s WHERE delivery_id = ANY(%(ids)s::text[])"
        f" RETURNING delivery_id, attempts){_LOG}",
        {"now": now, "ids": list(delivery_ids), "result": "replayed", "text": None},
    )
    return cur.rowcount


_DONE = "status IN ('processed', 'dead')"


def prune(
    conn: psycopg.Connection[Any], *, bodies_before: str, ids_before: str, limit: int, now: str
) -> tuple[int, int]:
    """Retention, one batch (see ``core/store/sqlite/retention.py``); rows another transaction
    holds are skipped, not waited for."""
    counted = conn.execute(
        "WITH gone AS (DELETE FROM events WHERE delivery_id IN (SELECT delivery_id FROM events"
        f" WHERE {_DONE} AND updated_at < %s ORDER BY updated_at LIMIT %s"
        " FOR UPDATE SKIP LOCKED) RETURNING delivery_id),"
        " history AS (DELETE FROM event_attempts WHERE delivery_id IN"
        " (SELECT delivery_id FROM gone))"
        " SELECT COUNT(*) FROM gone",
        (ids_before, limit),
    ).fetchone()
    deleted = int(counted[0]) if counted else 0
    emptied = conn.execute(
        "UPDATE events SET body = '', pruned_at = %s WHERE delivery_id IN (SELECT delivery_id"
        f" FROM events WHERE {_DONE} AND updated_at >= %s AND updated_at < %s"
        " AND pruned_at IS NULL ORDER BY updated_at LIMIT %s FOR UPDATE SKIP LOCKED)",
        (now, ids_before, bodies_before, limit),
    ).rowcount
    return emptied, deleted


SELFCHECK_RESULTS_KEPT = 200


def save_selfcheck(conn: psycopg.Connection[Any], report_json: str, ok: bool, now: str) -> None:
    conn.execute(
        "INSERT INTO selfcheck_results (at, ok, json) VALUES (%s, %s, %s)", (now, ok, report_json)
    )
    conn.execute(
        "DELETE FROM selfcheck_results WHERE id <= (SELECT MAX(id) FROM selfcheck_results) - %s",
        (SELFCHECK_RESULTS_KEPT,),
    )


def claim_selfcheck_slot(
    conn: psycopg.Connection[Any], *, min_interval_s: float, now: float
) -> float:
    """0.0 and the slot is taken, or the seconds left (the row lock serialises callers)."""
    row = conn.execute(
        "SELECT last_call_at FROM selfcheck_throttle WHERE id = 1 FOR UPDATE"
    ).fetchone()
    last = float(row[0]) if row is not None else None
    if last is not None and 0 <= now - last < min_interval_s:
        return min_interval_s - (now - last)
    conn.execute(
        "INSERT INTO selfcheck_throttle VALUES (1, %s)"
        " ON CONFLICT (id) DO UPDATE SET last_call_at = excluded.last_call_at",
        (now,),
    )
    return 0.0
