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
from typing import Protocol

from core.store.mirror import MirrorStore
from core.store.models import EventStore

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
