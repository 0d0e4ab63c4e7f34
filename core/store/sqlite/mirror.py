"""The mirror (:class:`core.store.mirror.MirrorStore`) in the event store's SQLite file.

:class:`SQLiteMirror` composes the store's connection owner (:class:`SQLiteConnections`): its
writes take the same single write connection as the workers' bookkeeping, its reads this
thread's connection. The tables (migration 2) sit next to the events, so they can be queried
with sqlite-utils or Datasette. Plain ``sqlite3`` statements: each write is one conditional
``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` that sqlite-utils' upsert cannot express.

Writes are conditional, so events applied in any order converge to the newest state:

- an upsert wins only if its entity ``updatedAt`` is at least the stored one (entities without
  ``updatedAt`` fall back to the fetch time);
- a delete leaves a tombstone (``deleted = 1``) that no later upsert undoes. Billoget ids are
  auto-increment and never reused, so an entity is never resurrected; should an id ever come
  back, delete its row by hand (``DELETE FROM budgets WHERE id = ?``) and replay its events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from core.store.mirror import (
    COLUMNS,
    FAMILIES,
    TABLES,
    MirrorRow,
    MirrorStore,
    normalize_id,
    normalize_time,
    row_of,
    table_of,
)
from core.store.reconcile import ReconcileMirrorMethods
from core.store.sqlite import reconcile
from core.store.sqlite.connections import DEFAULT_BUSY_TIMEOUT_MS, SQLiteConnections
from core.store.sqlite.store import SQLiteEventStore

__all__ = [
    "FAMILIES",
    "TABLES",
    "MirrorRow",
    "MirrorStore",
    "SQLiteMirror",
    "SQLiteMirrorStore",
    "normalize_id",
    "normalize_time",
]


def _row(family: str, values: Any) -> MirrorRow:
    return row_of(family, values, json.loads(values[1]) if values[1] is not None else None)


class SQLiteMirror(ReconcileMirrorMethods):
    """The mirror tables, on the connections of an event store (``SQLiteEventStore`` is one)."""

    _reconcile_sql: ClassVar[Any] = reconcile

    def __init__(self, connections: SQLiteConnections) -> None:
        self._db = connections

    def __repr__(self) -> str:
        return f"SQLiteMirror({str(self._db.path)!r})"

    def get_entity(self, family: str, entity_id: int | str) -> MirrorRow | None:
        rows = self._db.read(
            f"SELECT {COLUMNS} FROM {table_of(family)} WHERE id = ?",
            (normalize_id(entity_id),),
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
        table = table_of(family)
        with self._db.write() as conn:
            cur = conn.execute(
                f"INSERT INTO {table} (id, data, updated_at, deleted, fetched_at, last_delivery_id)"
                " VALUES (?, ?, ?, 0, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at, fetched_at = excluded.fetched_at,"
                " last_delivery_id = excluded.last_delivery_id"
                f" WHERE {table}.deleted = 0 AND COALESCE("
                f"   excluded.updated_at >= {table}.updated_at,"
                f"   excluded.fetched_at >= COALESCE({table}.fetched_at, ''))",
                (
                    normalize_id(entity_id),
                    json.dumps(dict(data), separators=(",", ":"), sort_keys=True),
                    updated_at,
                    fetched_at,
                    delivery_id,
                ),
            )
            return cur.rowcount == 1

    def tombstone_entity(
        self, family: str, entity_id: int | str, *, deleted_at: str, delivery_id: str | None
    ) -> bool:
        table = table_of(family)
        with self._db.write() as conn:
            cur = conn.execute(
                f"INSERT INTO {table} (id, deleted, deleted_at, updated_at, last_delivery_id)"
                " VALUES (?, 1, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET deleted = 1, deleted_at = excluded.deleted_at,"
                " last_delivery_id = excluded.last_delivery_id"
                f" WHERE {table}.deleted = 0",
                (normalize_id(entity_id), deleted_at, deleted_at, delivery_id),
            )
            return cur.rowcount == 1

    def list_entities(self, family: str, *, include_deleted: bool = True) -> list[MirrorRow]:
        where = "" if include_deleted else " WHERE deleted = 0"
        rows = self._db.read(f"SELECT {COLUMNS} FROM {table_of(family)}{where} ORDER BY id")
        return [_row(family, r) for r in rows]


class SQLiteMirrorStore(SQLiteEventStore, SQLiteMirror):
    """The worker's event store and its mirror as one object, for reconciliation, which uses
    both (``workers/reconcile/``): the store on ONE write connection (``single_writer``) and
    the mirror composed on that same store, not a second set of connections."""

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        SQLiteEventStore.__init__(
            self,
            path,
            busy_timeout_ms=busy_timeout_ms,
            synchronous=synchronous,
            single_writer=True,
        )
        SQLiteMirror.__init__(self, self)

    def __repr__(self) -> str:
        return f"SQLiteMirrorStore({str(self.path)!r})"
