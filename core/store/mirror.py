"""The local mirror of Billoget entities (budgets, customers, products): its contract.

:class:`MirrorStore` is the interface the workers use; :mod:`core.store.sqlite.mirror` keeps
the tables in the event store's SQLite file, :mod:`core.store.postgres.mirror` in its
PostgreSQL database. Each composes its store's connection owner, so the mirror and the events
share connections (and, on SQLite, the one write connection).

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.events import Family
from core.times import normalize_time

__all__ = [
    "COLUMNS",
    "FAMILIES",
    "TABLES",
    "MirrorRow",
    "MirrorStore",
    "normalize_id",
    "normalize_time",
    "row_of",
    "table_of",
]

FAMILIES: tuple[Family, ...] = ("budget", "customer", "product")
TABLES: dict[str, str] = {"budget": "budgets", "customer": "customers", "product": "products"}
COLUMNS = "id, data, updated_at, deleted, deleted_at, fetched_at, last_delivery_id"


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

    def confirm_entities(self, family: str, entity_ids: Sequence[int | str], *, at: str) -> None:
        """Record that the API was seen holding the mirror's state of these entities."""
        ...


def row_of(family: str, values: Any, data: dict[str, Any] | None) -> MirrorRow:
    """A row of ``COLUMNS`` as read, with its ``data`` already decoded."""
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


def table_of(family: str) -> str:
    try:
        return TABLES[family]
    except KeyError:
        raise ValueError(f"no mirror table for {family!r}") from None
