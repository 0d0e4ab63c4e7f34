"""The workers' writes on SQLite: an attempt's start and outcome, and the operator's requeue.

Every outcome and every replay also adds a line to the event's history (``event_attempts``),
which the inspector shows.

Each statement is written once, as a function on a connection inside the caller's write
transaction: the store's single methods (``start_attempt``, ``mark_*``) run one,
:func:`apply_worker_writes` (the workers' group commit) runs many in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from core.store.models import (
    DONE_STATUSES,
    Outcome,
    Result,
    StartAttempt,
    StoredEvent,
    WorkerWrite,
)
from core.store.sqlite.reads import get_event


def start_attempt(conn: sqlite3.Connection, delivery_id: str, now: str) -> StoredEvent | None:
    """The event, its attempts counted one up; None if unknown or already done."""
    event = get_event(conn, delivery_id)
    if event is None or event.status in DONE_STATUSES:
        return None
    conn.execute(
        "UPDATE events SET attempts = attempts + 1, updated_at = ? WHERE delivery_id = ?",
        (now, delivery_id),
    )
    return event


def log_attempt(
    conn: sqlite3.Connection, delivery_id: str, result: str, detail: str | None, now: str
) -> None:
    """One line of the event's history (``event_attempts``), numbered by its attempt count."""
    conn.execute(
        "INSERT INTO event_attempts (delivery_id, attempt, at, result, detail)"
        " SELECT delivery_id, attempts, ?, ?, ? FROM events WHERE delivery_id = ?",
        (now, result, detail, delivery_id),
    )


def mark_processed(conn: sqlite3.Connection, delivery_id: str, outcome: str, now: str) -> None:
    conn.execute(
        "UPDATE events SET status = 'processed', outcome = ?, processed_at = ?,"
        " updated_at = ?, next_attempt_at = NULL WHERE delivery_id = ?",
        (outcome, now, now, delivery_id),
    )
    log_attempt(conn, delivery_id, "processed", outcome, now)


def mark_failed(
    conn: sqlite3.Connection, delivery_id: str, error: str, next_attempt_at: str | None, now: str
) -> None:
    cur = conn.execute(
        "UPDATE events SET status = 'failed', last_error = ?, next_attempt_at = ?,"
        " updated_at = ? WHERE delivery_id = ? AND status NOT IN ('processed', 'dead')",
        (error, next_attempt_at, now, delivery_id),
    )
    if cur.rowcount:
        log_attempt(conn, delivery_id, "failed", error, now)


def mark_dead(conn: sqlite3.Connection, delivery_id: str, reason: str, now: str) -> None:
    conn.execute(
        "UPDATE events SET status = 'dead', last_error = ?, outcome = 'dead',"
        " updated_at = ?, next_attempt_at = NULL WHERE delivery_id = ?",
        (reason, now, delivery_id),
    )
    log_attempt(conn, delivery_id, "dead", reason, now)


def mark_deferred(
    conn: sqlite3.Connection, delivery_id: str, reason: str, next_attempt_at: str | None, now: str
) -> None:
    cur = conn.execute(
        "UPDATE events SET status = 'queued', last_error = ?, next_attempt_at = ?,"
        " attempts = MAX(attempts - 1, 0), updated_at = ?"
        " WHERE delivery_id = ? AND status NOT IN ('processed', 'dead')",
        (reason, next_attempt_at, now, delivery_id),
    )
    if cur.rowcount:
        log_attempt(conn, delivery_id, "deferred", reason, now)


def apply_outcome(conn: sqlite3.Connection, outcome: Outcome, now: str) -> None:
    i, text, at = outcome.delivery_id, outcome.text, outcome.next_attempt_at
    if outcome.kind == Result.PROCESSED:
        mark_processed(conn, i, text, now)
    elif outcome.kind == Result.DEAD:
        mark_dead(conn, i, text, now)
    elif outcome.kind == Result.FAILED:
        mark_failed(conn, i, text, at, now)
    else:
        mark_deferred(conn, i, text, at, now)


def apply_worker_writes(
    conn: sqlite3.Connection, writes: Sequence[WorkerWrite], now: str
) -> list[StoredEvent | None]:
    """Every write, in order; per write the started event (``StartAttempt``) or None."""
    results: list[StoredEvent | None] = []
    for write in writes:
        if isinstance(write, StartAttempt):
            results.append(start_attempt(conn, write.delivery_id, now))
        else:
            apply_outcome(conn, write, now)
            results.append(None)
    return results


def requeue(conn: sqlite3.Connection, delivery_ids: Sequence[str], now: str) -> int:
    """Back to ``received`` with a fresh attempt count; how many rows changed."""
    changed = 0
    for delivery_id in delivery_ids:
        cur = conn.execute(
            "UPDATE events SET status = 'received', attempts = 0, next_attempt_at = NULL,"
            " outcome = NULL, updated_at = ? WHERE delivery_id = ?",
            (now, delivery_id),
        )
        if cur.rowcount:
            log_attempt(conn, delivery_id, "replayed", None, now)
        changed += cur.rowcount
    return changed
