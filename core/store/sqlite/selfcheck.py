"""The self-check's writes on SQLite: its saved reports and the shared call throttle.

Functions on a connection inside the caller's write transaction (reads:
:mod:`core.store.sqlite.reads`).
"""

from __future__ import annotations

import sqlite3

SELFCHECK_RESULTS_KEPT = 200


def save_selfcheck(conn: sqlite3.Connection, report_json: str, ok: bool, now: str) -> None:
    """Store a report, keeping the latest :data:`SELFCHECK_RESULTS_KEPT`."""
    conn.execute(
        "INSERT INTO selfcheck_results (at, ok, json) VALUES (?, ?, ?)",
        (now, int(ok), report_json),
    )
    conn.execute(
        "DELETE FROM selfcheck_results WHERE id <= (SELECT MAX(id) FROM selfcheck_results) - ?",
        (SELFCHECK_RESULTS_KEPT,),
    )


def claim_selfcheck_slot(conn: sqlite3.Connection, *, min_interval_s: float, now: float) -> float:
    """0.0 and the slot is taken, or the seconds left until the next one is free."""
    row = conn.execute("SELECT last_call_at FROM selfcheck_throttle WHERE id = 1").fetchone()
    if row is not None and 0 <= now - float(row[0]) < min_interval_s:
        return min_interval_s - (now - float(row[0]))
    conn.execute("INSERT OR REPLACE INTO selfcheck_throttle VALUES (1, ?)", (now,))
    return 0.0
