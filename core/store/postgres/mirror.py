"""The mirror (:class:`core.store.mirror.MirrorStore`) in the event store's PostgreSQL database.

:class:`PostgresMirror` composes the store's connection pool; workers on any number of hosts
share it. Each write is one conditional ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` (the
row lock serialises concurrent writers of one entity; the condition decides who wins), with the
rules of :mod:`core.store.mirror`: only an ``updatedAt`` at least the stored one wins, and a
tombstone is never undone. ``data`` is JSONB, queryable with ``data->>'name'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from psycopg.types.json import Jsonb

from core.store.mirror import COLUMNS, MirrorRow, normalize_id, row_of, table_of
from core.store.postgres import reconcile
from core.store.postgres.connections import PostgresConnections
from core.store.postgres.store import PostgresEventStore
from core.store.reconcile import ReconcileMirrorMethods


def _row(family: str, values: Any) -> MirrorRow:
    return row_of(family, values, values[1])


class PostgresMirror(ReconcileMirrorMethods):
    """The mirror tables, on the pool of an event store (``PostgresEventStore`` is one)."""

    _reconcile_sql: ClassVar[Any] = reconcile

    def __init__(self, connections: PostgresConnections) -> None:
        self._db = connections

    def __repr__(self) -> str:
        return f"PostgresMirror({self._db.where!r})"

    def get_entity(self, family: str, entity_id: int | str) -> MirrorRow | None:
        rows = self._db.read(
            f"SELECT {COLUMNS} FROM {table_of(family)} WHERE id = %s", (normalize_id(entity_id),)
        )
        return _row(family, rows[0]) if rows else None

    def upsert_entity(
        self,
        family: str,
        entity_id: int | str,
        *,
        data: Mapping[str, Any],
        updated_at: str | None,
        fetched_at: str,
        delivery_id: str | None,
    ) -> bool:
        t = table_of(family)
        with self._db.write() as conn:
            cur = conn.execute(
                f"INSERT INTO {t} AS m (id, data, updated_at, deleted, fetched_at,"
                " last_delivery_id) VALUES (%s, %s, %s, FALSE, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at, fetched_at = excluded.fetched_at,"
                " last_delivery_id = excluded.last_delivery_id"
                " WHERE NOT m.deleted AND COALESCE(excluded.updated_at >= m.updated_at,"
                " excluded.fetched_at >= COALESCE(m.fetched_at, ''))",
                (normalize_id(entity_id), Jsonb(dict(data)), updated_at, fetched_at, delivery_id),
            )
            return cur.rowcount == 1

    def tombstone_entity(
        self, family: str, entity_id: int | str, *, deleted_at: str, delivery_id: str | None
    ) -> bool:
        t = table_of(family)
        with self._db.write() as conn:
            cur = conn.execute(
                f"INSERT INTO {t} AS m (id, deleted, deleted_at, updated_at, last_delivery_id)"
                " VALUES (%s, TRUE, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET deleted = TRUE,"
                " deleted_at = excluded.deleted_at, last_delivery_id = excluded.last_delivery_id"
                " WHERE NOT m.deleted",
                (normalize_id(entity_id), deleted_at, deleted_at, delivery_id),
            )
            return cur.rowcount == 1

    def list_entities(self, family: str, *, include_deleted: bool = True) -> list[MirrorRow]:
        where = "" if include_deleted else " WHERE NOT deleted"
        rows = self._db.read(f"SELECT {COLUMNS} FROM {table_of(family)}{where} ORDER BY id")
        return [_row(family, r) for r in rows]


class PostgresMirrorStore(PostgresEventStore, PostgresMirror):
    """The worker's event store and its mirror as one object on one pool, for reconciliation,
    which uses both (``workers/reconcile/``), as ``SQLiteMirrorStore`` is on SQLite."""

    def __init__(self, url: str, **pool: Any) -> None:
        """``pool``: :class:`PostgresConnections`' keywords (sizes, timeouts, name)."""
        PostgresEventStore.__init__(self, url, **pool)
        PostgresMirror.__init__(self, self)

    def __repr__(self) -> str:
        return f"PostgresMirrorStore({self.where!r})"
