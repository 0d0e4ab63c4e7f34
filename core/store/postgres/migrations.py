"""Schema migrations for the PostgreSQL store, numbered, applied in order, each once.

:func:`apply` runs them in one transaction under a transaction-level advisory lock, so of
several processes starting at once one migrates and the others wait, then find nothing to do.
Append new migrations; never edit one that has shipped. Times are the product's fixed-width
UTC text (:mod:`core.times`) as in SQLite, so both stores compare and sort them alike.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from core.times import utcnow

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the migrations ("bhmigr" as an integer): fixed, per database
MIGRATION_LOCK_KEY = 0x62686D696772

SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations"
    " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)

_MIRROR_TABLE = """
CREATE TABLE {name} (
    id TEXT PRIMARY KEY,
    data JSONB,
    updated_at TEXT,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at TEXT,
    fetched_at TEXT,
    last_delivery_id TEXT
);
CREATE INDEX {name}_updated ON {name} (updated_at);
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "events",
        """
CREATE TABLE events (
    delivery_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'received',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    outcome TEXT,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    queued_at TEXT,
    processed_at TEXT,
    next_attempt_at TEXT,
    event_timestamp TEXT NOT NULL,
    webhook_timestamp BIGINT NOT NULL,
    body BYTEA NOT NULL,
    selfcheck_nonce TEXT,
    pruned_at TEXT
);
CREATE INDEX events_status_updated ON events (status, updated_at);
CREATE INDEX events_type ON events (event_type);
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_selfcheck ON events (selfcheck_nonce) WHERE selfcheck_nonce IS NOT NULL;
""",
    ),
    (
        2,
        "mirror",
        # The workers' mirror of Billoget entities (core/store/postgres/mirror.py); ``data`` is
        # the entity's JSON, a deleted entity keeps a tombstone row.
        "".join(_MIRROR_TABLE.format(name=n) for n in ("budgets", "customers", "products")),
    ),
    (
        3,
        "selfcheck",
        """
CREATE TABLE selfcheck_results (
    id BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    ok BOOLEAN NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE selfcheck_throttle (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_call_at DOUBLE PRECISION NOT NULL
);
INSERT INTO selfcheck_throttle VALUES (1, 0);
CREATE TABLE store_heartbeat (id INTEGER PRIMARY KEY, at TEXT);
""",
    ),
    (
        4,
        "delivery_stats",
        # The receivers' per-minute counters for ``billoget-hooks diagnose`` (issue 11; see
        # core/store/sqlite/migrations.py): every receiver adds to the same rows.
        """
CREATE TABLE delivery_stats (
    minute TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    count DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (minute, kind, key)
);
""",
    ),
    (
        5,
        "inspector",
        # The inspector (core/store/inspect.py): keyset pages newest first (all, by status, by
        # type), the envelope's data.id (NULL for a body that is not JSON, so such a row never
        # fails its insert) and the history of every attempt's outcome and replay.
        """
CREATE FUNCTION billoget_entity_id(body BYTEA) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN convert_from(body, 'UTF8')::jsonb -> 'data' ->> 'id';
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END
$$;
CREATE INDEX events_received_id ON events (received_at, delivery_id);
CREATE INDEX events_status_received ON events (status, received_at, delivery_id);
CREATE INDEX events_type_received ON events (event_type, received_at, delivery_id);
CREATE INDEX events_entity ON events (billoget_entity_id(body), received_at, delivery_id);
DROP INDEX events_received;
DROP INDEX events_type;
CREATE TABLE event_attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX event_attempts_delivery ON event_attempts (delivery_id, id);
""",
    ),
    (
        6,
        "confirmed",
        # When reconciliation last saw the API hold each mirrored entity's state.
        """
ALTER TABLE budgets ADD COLUMN confirmed_at TEXT;
ALTER TABLE customers ADD COLUMN confirmed_at TEXT;
ALTER TABLE products ADD COLUMN confirmed_at TEXT;
""",
    ),
    (
        7,
        "reconcile",
        # Reconciliation (workers/reconcile/; SQLite's migration 13): each family's saved list
        # cursor (a pass resumes from it after a restart) and the repairs only reconciliation
        # found (the webhooks that were missed).
        """
CREATE TABLE reconcile_cursors (
    family TEXT PRIMARY KEY,
    pass_started_at TEXT,
    next_page INTEGER NOT NULL DEFAULT 1,
    last_completed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE reconcile_repairs (
    delivery_id TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    found_at TEXT NOT NULL
);
""",
    ),
]


def pending(conn: psycopg.Connection[Any]) -> list[tuple[int, str, str]]:
    known = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not known or not known[0]:
        return list(MIGRATIONS)
    done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    return [m for m in MIGRATIONS if m[0] not in done]


def apply(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply what is pending, inside the caller's transaction; the versions applied."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
    conn.execute(SCHEMA_MIGRATIONS)
    applied = []
    for version, name, sql in pending(conn):
        conn.execute(sql)  # constant text, several statements
        conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)", (version, name, utcnow()))
        log.info("applied migration %s (%s)", version, name)
        applied.append(version)
    return applied
