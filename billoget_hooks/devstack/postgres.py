"""``billoget-hooks dev --postgres``: the dev stack on a local PostgreSQL instead of SQLite.

The database is created when it does not exist yet (the server must answer); every process of
the stack then migrates it as it would in production.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from core.errors import ConfigError

DEFAULT_DEV_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/billoget_hooks_dev"
CONNECT_TIMEOUT_S = 3


def ensure_database(url: str) -> None:
    """Create ``url``'s database on its server if missing; ConfigError when nothing answers."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgresql", "postgres") or not name:
        raise ConfigError(f"--postgres wants postgresql://user@host:port/dbname, not {url!r}")
    server = urlunsplit(parts._replace(path="/postgres"))
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if found.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"--postgres: no usable PostgreSQL at {where} ({first}); start one, or run "
            "without --postgres to use SQLite"
        ) from None
