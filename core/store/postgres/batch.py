"""The receiver's group commit on PostgreSQL: one multi-row insert, one update, one transaction.

The batch's rows travel as one array per column and are inserted with ``INSERT ... SELECT
FROM unnest(...) ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id``: one statement
(prepared once, whatever the batch size) and one round trip. ``RETURNING`` names the rows this
transaction inserted; an id that another receiver is inserting at the same moment waits on the
unique index until that transaction ends, then is skipped here, so exactly one caller learns
True. ``synchronous_commit`` stays as the server has it (on by default): the 2xx follows the
commit, which follows the WAL flush.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from core.store.models import NewDelivery

SELFCHECK_OUTCOME = "selfcheck: recorded, not handed to handlers"

_INSERT = (
    "INSERT INTO events (delivery_id, event_type, status, outcome, received_at, updated_at,"
    " event_timestamp, webhook_timestamp, body, selfcheck_nonce)"
    " SELECT d, t, s, o, %(now)s, %(now)s, et, wt, b, n FROM unnest("
    "%(ids)s::text[], %(types)s::text[], %(statuses)s::text[], %(outcomes)s::text[],"
    " %(event_ts)s::text[], %(webhook_ts)s::bigint[], %(bodies)s::bytea[], %(nonces)s::text[])"
    " AS u(d, t, s, o, et, wt, b, n)"
    " ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id"
)
SET_QUEUED = (
    "UPDATE events SET status = 'queued', queued_at = %(now)s, updated_at = %(now)s"
    " WHERE delivery_id = ANY(%(ids)s::text[]) AND status IN ('received', 'failed', 'queued')"
)


def insert_deliveries(
    conn: psycopg.Connection[Any], deliveries: Sequence[NewDelivery], now: str
) -> list[bool]:
    """Insert the deliveries whose id is not stored (nor earlier in the batch); per delivery
    True if this call inserted it. Runs inside the caller's transaction."""
    first: dict[str, NewDelivery] = {}
    for d in deliveries:
        first.setdefault(d.delivery_id, d)
    rows = list(first.values())
    if not rows:
        return []
    selfcheck = [bool(d.selfcheck_nonce) for d in rows]
    params = {
        "now": now,
        "ids": [d.delivery_id for d in rows],
        "types": [d.event_type for d in rows],
        # a self-check round trip is recorded, never handed to handlers
        "statuses": ["processed" if s else "received" for s in selfcheck],
        "outcomes": [SELFCHECK_OUTCOME if s else None for s in selfcheck],
        "event_ts": [d.event_timestamp for d in rows],
        "webhook_ts": [d.webhook_timestamp for d in rows],
        "bodies": [d.body for d in rows],
        "nonces": [d.selfcheck_nonce for d in rows],
    }
    inserted = {r[0] for r in conn.execute(_INSERT, params).fetchall()}
    stored = []
    for d in deliveries:
        is_new = d.delivery_id in inserted
        stored.append(is_new)
        inserted.discard(d.delivery_id)  # a repeat later in the batch is a duplicate
    return stored


def set_queued(conn: psycopg.Connection[Any], delivery_ids: Sequence[str], now: str) -> None:
    if delivery_ids:
        conn.execute(SET_QUEUED, {"now": now, "ids": list(delivery_ids)})
