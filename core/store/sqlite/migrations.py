"""Schema migrations for the SQLite store, applied in order, each once.

Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

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
            webhook_timestamp INTEGER NOT NULL,
            body BLOB NOT NULL,
            selfcheck_nonce TEXT
        );
        CREATE INDEX events_status_updated ON events (status, updated_at);
        CREATE INDEX events_type ON events (event_type);
        CREATE INDEX events_received ON events (received_at);
        CREATE INDEX events_selfcheck ON events (selfcheck_nonce)
            WHERE selfcheck_nonce IS NOT NULL;
        """,
    ),
    (
        2,
        "mirror",
        # The workers' local mirror of Billoget entities (core/store/sqlite/mirror.py).
        # ``id`` is the entity id as text; ``data`` the JSON fetched from the API;
        # ``updated_at`` its ``updatedAt`` (fixed-width UTC text); a deleted entity keeps a
        # tombstone row.
        """
        CREATE TABLE budgets (
            id TEXT PRIMARY KEY,
            data TEXT,
            updated_at TEXT,
            deleted INTEGER NOT NULL DEFAULT 0,
            deleted_at TEXT,
            fetched_at TEXT,
            last_delivery_id TEXT
        );
        CREATE INDEX budgets_updated ON budgets (updated_at);
        CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            data TEXT,
            updated_at TEXT,
            deleted INTEGER NOT NULL DEFAULT 0,
            deleted_at TEXT,
            fetched_at TEXT,
            last_delivery_id TEXT
        );
        CREATE INDEX customers_updated ON customers (updated_at);
        CREATE TABLE products (
            id TEXT PRIMARY KEY,
            data TEXT,
            updated_at TEXT,
            deleted INTEGER NOT NULL DEFAULT 0,
            deleted_at TEXT,
            fetched_at TEXT,
            last_delivery_id TEXT
        );
        CREATE INDEX products_updated ON products (updated_at);
        """,
    ),
    (
        10,
        "selfcheck",
        # The self-check's results (the last one is shown by /readyz) and the time of the last
        # call to Billoget's test endpoint (10 per minute), shared by every process.
        """
        CREATE TABLE selfcheck_results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            json TEXT NOT NULL
        );
        CREATE TABLE selfcheck_throttle (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_call_at REAL NOT NULL
        );
        """,
    ),
    (
        11,
        "delivery_stats",
        # What the receiver counted, per minute (issue 11: ``billoget-hooks diagnose``):
        # ``kind`` is ``result`` (key: stored, duplicate or a refusal reason), ``secret`` (key:
        # the fingerprint of the secret that verified) or ``skew`` (key: a histogram bucket's
        # upper bound; cumulative, as Prometheus keeps them). ``minute`` is UTC
        # ``YYYY-MM-DDTHH:MM``.
        """
        CREATE TABLE delivery_stats (
            minute TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            count REAL NOT NULL,
            PRIMARY KEY (minute, kind, key)
        ) WITHOUT ROWID;
        """,
    ),
    (
        12,
        "inspector",
        # The inspector's keyset pages (newest first, by status / by type / all) and its
        # entity-id filter: an index on the envelope's data.id (NULL for a body that is not
        # JSON, so such a row never fails its insert). (received_at, delivery_id) serves
        # everything events_received did, (event_type, received_at, ...) everything
        # events_type did: both go (each index costs the commit path). event_attempts: one
        # row per attempt's outcome (processed, failed, dead, deferred) and per replay, for
        # the event's page.
        """
        CREATE TABLE event_attempts (
            id INTEGER PRIMARY KEY,
            delivery_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            at TEXT NOT NULL,
            result TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX event_attempts_delivery ON event_attempts (delivery_id, id);
        DROP INDEX IF EXISTS events_received;
        DROP INDEX IF EXISTS events_type;
        CREATE INDEX events_received_id ON events (received_at, delivery_id);
        CREATE INDEX events_status_received ON events (status, received_at, delivery_id);
        CREATE INDEX events_type_received ON events (event_type, received_at, delivery_id);
        CREATE INDEX events_entity ON events (
            (CASE WHEN json_valid(CAST(body AS TEXT))
                THEN json_extract(CAST(body AS TEXT), '$.data.id') END),
            received_at, delivery_id);
        """,
    ),
]
