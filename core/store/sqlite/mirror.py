"""The local mirror of Billoget entities: budgets, customers and products.

:class:`MirrorStore` is the interface the workers use; :class:`SQLiteMirrorStore` keeps the
tables (migration 2) in the event store's SQLite file, so they can be queried with sqlite-utils
or Datasette next to the events. A PostgreSQL store can implement both interfaces later.

Writes are conditional, so events applied in any order converge to the newest state:

- an upsert wins only if its entity ``updatedAt`` is at least the stored one (entities without
  ``updatedAt`` fall back to the fetch time);
- a delete leaves a tombstone (``deleted = 1``) that no later upsert undoes. Billoget ids are
  auto-increment and never reused, so an entity is never resurrected; should an id ever come
  back, delete its row by hand (``DELETE FROM budgets WHERE id = ?``) and replay its events.

Ids may be integers or strings in Billoget's JSON; the mirror stores them as text (``42`` →
``"42"``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from core.events import Family
from core.store.sqlite.store import SQLiteEventStore

FAMILIES: tuple[Family, ...] = ("budget", "customer", "product")
TABLES: dict[str, str] = {"budget": "budgets", "customer": "customers", "product": "products"}
_COLUMNS = "id, data, updated_at, deleted, deleted_at, fetched_at, last_delivery_id"


def normalize_id(entity_id: int | str) -> str:
    """The mirror's text form of an entity id."""
    if isinstance(entity_id, bool) or not isinstance(entity_id, int | str):
        raise ValueError(f"entity id must be an integer or a string, not {entity_id!r}")
    text = str(entity_id).strip()
    if not text:
        raise ValueError("entity id is empty")
    return text


@dataclass(frozen=True, slots=True)
class MirrorRow:
    family: str
    id: str
    data: dict[str, Any] | None
    updated_at: str | None
    deleted: bool
    deleted_at: str | None
    fetched_at: str | None
    last_delivery_id: str | None


class MirrorStore(Protocol):
    """What a mirror implementation provides. Blocking; async callers use a thread."""

    def get_entity(self, family: str, entity_id: int | str) -> MirrorRow | None: ...

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
        """Store a fetched state if it is not older than the stored one and the entity is not
        tombstoned; True if it was written."""
        ...

    def tombstone_entity(
        self, family: str, entity_id: int | str, *, deleted_at: str, delivery_id: str | None
    ) -> bool:
        """Mark the entity deleted (keeping its last data); True if it was not already."""
        ...

    def list_entities(self, family: str, *, include_deleted: bool = True) -> list[MirrorRow]: ...


def _table(family: str) -> str:
    try:
        return TABLES[family]
    except KeyError:
        raise ValueError(f"no mirror table for {family!r}") from None


def _row(family: str, values: Any) -> MirrorRow:
    data = json.loads(values[1]) if values[1] is not None else None
    return MirrorRow(
        family=family,
        id=values[0],
        data=data,
        updated_at=values[2],
        deleted=bool(values[3]),
        deleted_at=values[4],
        fetched_at=values[5],
        last_delivery_id=values[6],
    )


class SQLiteMirrorStore(SQLiteEventStore):
    """The event store plus the mirror tables, on the same file and connections.

    The worker's store. Its threads write in turn, on ONE connection, behind a Python lock: the
    lock hands over as soon as it is free (SQLite's busy handler sleeps 1, 2, 5, 10… ms between
    tries; only other processes, the receiver, still meet it), and that connection's page cache
    stays warm (a connection's cache is dropped whenever another one commits). Reads keep one
    connection per thread.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock = threading.Lock()
        self._write_conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLiteMirrorStore({str(self.path)!r})"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            # the base class writes on this thread's connection: lend it the write connection
            own = getattr(self._local, "conn", None)
            try:
                if self._write_conn is None:
                    self._local.conn = None
                    self._write_conn = self._connect()
                self._local.conn = self._write_conn
                with super()._write() as conn:
                    yield conn
            finally:
                self._local.conn = own

    def close(self) -> None:
        with self._write_lock:
            self._write_conn = None
            super().close()

    def get_entity(self, family: str, entity_id: int | str) -> MirrorRow | None:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM {_table(family)} WHERE id = ?",
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
        table = _table(family)
        with self._write() as conn:
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
        table = _table(family)
        with self._write() as conn:
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
        sql = f"SELECT {_COLUMNS} FROM {_table(family)}{where} ORDER BY id"
        rows = self._read(sql)
        return [_row(family, r) for r in rows]
