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
]
