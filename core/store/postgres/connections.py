"""The PostgreSQL store's connections: one ``psycopg_pool.ConnectionPool`` per process.

:meth:`PostgresConnections.write` is one transaction on a pooled connection and
:meth:`PostgresConnections.reading` a read; each turns a lost connection, a database that is
down or a pool with no free connection within ``timeout_s`` into a StoreUnavailableError (the
receiver answers 503 + ``Retry-After``). The pool checks a connection before lending it and
replaces broken ones in the background, so it recovers by itself once the database is back.
Autocommit connections with explicit transactions: a read holds no transaction open.
``prepare=False`` turns server-side prepared statements off (PgBouncer in transaction mode).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict

from core.errors import ConfigError, StoreUnavailableError

log = logging.getLogger(__name__)

DEFAULT_POOL_MIN_SIZE = 1
DEFAULT_POOL_MAX_SIZE = 10
DEFAULT_POOL_TIMEOUT_S = 5.0
DEFAULT_CONNECT_TIMEOUT_S = 5


def describe(url: str) -> str:
    """``host:port/dbname`` of a URL, without its user or password (for logs and errors)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"DATABASE_URL is not a valid PostgreSQL URL: {exc}") from None
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or info.get('user') or ''}"


def unavailable(exc: BaseException, what: str) -> StoreUnavailableError:
    """A store error naming the cause in one line (psycopg's messages carry no password)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreUnavailableError(f"event store {what} failed: {first}")


# Errors that mean "the database or the connection is not there", as opposed to a bug in a
# statement (those propagate as they are).
TRANSIENT: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    psycopg_pool.PoolClosed,
    psycopg.errors.AdminShutdown,
    psycopg.errors.CannotConnectNow,
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
)


class PostgresConnections:
    """A connection pool to one PostgreSQL database."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = DEFAULT_POOL_MIN_SIZE,
        max_size: int = DEFAULT_POOL_MAX_SIZE,
        timeout_s: float = DEFAULT_POOL_TIMEOUT_S,
        connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
        prepare: bool = True,
        name: str = "billoget-hooks",
    ) -> None:
        self.url = url
        self.where = describe(url)
        self.connect_timeout_s = connect_timeout_s
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": connect_timeout_s,
            "application_name": name,
            # None: never prepare (PgBouncer in transaction mode cannot keep them)
            "prepare_threshold": 5 if prepare else None,
        }
        self.pool = psycopg_pool.ConnectionPool(
            url,
            min_size=min(min_size, max_size),
            max_size=max_size,
            timeout=timeout_s,
            kwargs=kwargs,
            check=psycopg_pool.ConnectionPool.check_connection,
            open=False,
            name=name,
        )
        self._opened = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where!r})"

    def open(self) -> None:
        """Open the pool (its connections come up in the background)."""
        if not self._opened:
            self.pool.open(wait=False)
            self._opened = True

    @contextmanager
    def connection(self, what: str = "read") -> Iterator[psycopg.Connection[Any]]:
        self.open()
        try:
            with self.pool.connection() as conn:
                yield conn
        except TRANSIENT as exc:
            raise unavailable(exc, what) from exc

    @contextmanager
    def write(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction (committed when the block ends, rolled back on an exception)."""
        with self.connection("write") as conn, conn.transaction():
            yield conn

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection[Any]]:
        with self.connection("read") as conn:
            yield conn

    def read(self, sql: str, params: Any = ()) -> list[Any]:
        with self.reading() as conn:
            return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        if self._opened:
            self.pool.close()
            self._opened = False
