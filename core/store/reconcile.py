"""Reconciliation's records, the same on every store: each family's list cursor, the repairs
found, and the mirror's coverage (when each entity was last confirmed against the API).

The SQL lives with each backend (:mod:`core.store.sqlite.reconcile`,
:mod:`core.store.postgres.reconcile`); :class:`ReconcileStore` is what ``workers/reconcile/``
needs of one object holding the event store and its mirror (``SQLiteMirrorStore``,
``PostgresMirrorStore``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from core.store.mirror import MirrorStore, normalize_id
from core.store.models import EventStore
from core.times import utcnow

MIRROR_TABLES = {"budget": "budgets", "customer": "customers", "product": "products"}
REPAIR_KINDS = ("missing", "stale", "gone")


@dataclass(frozen=True, slots=True)
class ReconcileCursor:
    """Where a family's reconciliation stands: the pass in progress (``pass_started_at``, None
    when none is) resumes at ``next_page``; ``last_completed_at`` ends the last full pass."""

    family: str
    pass_started_at: str | None
    next_page: int
    last_completed_at: str | None


@dataclass(frozen=True, slots=True)
class Repair:
    """One drift reconciliation repaired with a synthetic event ``delivery_id``."""

    delivery_id: str
    family: str
    entity_id: str
    kind: str  # missing | stale | gone


@dataclass(frozen=True, slots=True)
class Coverage:
    """Live mirrored entities of a family, and how many were confirmed since a moment."""

    confirmed: int
    total: int


def table_for(family: str) -> str:
    try:
        return MIRROR_TABLES[family]
    except KeyError:
        raise ValueError(f"no mirror table for {family!r}") from None


class ReconcileStore(EventStore, MirrorStore, Protocol):
    """The event store and its mirror as one object, as reconciliation uses them."""

    def reconcile_cursor(self, family: str) -> ReconcileCursor | None: ...

    def save_reconcile_cursor(self, cursor: ReconcileCursor) -> None: ...

    def record_repairs(self, repairs: Sequence[Repair]) -> None: ...

    def unconfirmed_live_ids(self, family: str, *, before: str) -> list[str]: ...

    def mirror_coverage(self, *, confirmed_since: str) -> dict[str, Coverage]: ...

    def reconcile_repair_counts(self) -> dict[str, int]: ...


class ReconcileMirrorMethods:
    """The mirror's reconciliation methods, written once for both backends: a backend's
    mirror names its SQL module (``_reconcile_sql``: ``confirm``, ``get_cursor``,
    ``save_cursor``, ``record_repairs``, ``unconfirmed_live_ids``) and has its connection owner
    as ``_db`` (``write()`` and ``reading()`` context managers)."""

    _reconcile_sql: ClassVar[Any]
    _db: Any

    def confirm_entities(self, family: str, entity_ids: Sequence[int | str], *, at: str) -> None:
        """Record that the API was seen holding the mirror's state of these entities at ``at``."""
        if not entity_ids:
            return
        with self._db.write() as conn:
            self._reconcile_sql.confirm(conn, family, [normalize_id(i) for i in entity_ids], at)

    def reconcile_cursor(self, family: str) -> ReconcileCursor | None:
        with self._db.reading() as conn:
            cursor: ReconcileCursor | None = self._reconcile_sql.get_cursor(conn, family)
            return cursor

    def save_reconcile_cursor(self, cursor: ReconcileCursor) -> None:
        with self._db.write() as conn:
            self._reconcile_sql.save_cursor(conn, cursor, utcnow())

    def record_repairs(self, repairs: Sequence[Repair]) -> None:
        if not repairs:
            return
        with self._db.write() as conn:
            self._reconcile_sql.record_repairs(conn, repairs, utcnow())

    def unconfirmed_live_ids(self, family: str, *, before: str) -> list[str]:
        """Live mirrored entities neither confirmed nor written since ``before``."""
        with self._db.reading() as conn:
            ids: list[str] = self._reconcile_sql.unconfirmed_live_ids(conn, family, before)
            return ids
