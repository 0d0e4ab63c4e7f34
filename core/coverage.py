"""How much of the mirror the API confirmed lately, and what only reconciliation found.

For /readyz and the metrics (``billoget_hooks_reconcile_coverage_ratio``,
``billoget_hooks_reconcile_repairs_total{kind}``): :func:`reconcile_report` reads both from a
store that records them (:class:`ReportsReconcile`, either backend; another store without
them reports None).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from core.store.reconcile import Coverage
from core.times import format_time

DEFAULT_WITHIN_S = 6 * 3600.0


@runtime_checkable
class ReportsReconcile(Protocol):
    def mirror_coverage(self, *, confirmed_since: str) -> dict[str, Coverage]: ...

    def reconcile_repair_counts(self) -> dict[str, int]: ...


def coverage_ratio(coverage: dict[str, Coverage]) -> float | None:
    """Confirmed share of the live mirrored entities; None when the mirror is empty."""
    total = sum(c.total for c in coverage.values())
    if total == 0:
        return None
    return sum(c.confirmed for c in coverage.values()) / total


def reconcile_report(
    store: object, *, within_s: float, now: datetime | None = None
) -> dict[str, Any] | None:
    """``{"coverage_ratio", "confirmed", "mirrored", "within_s", "families", "repairs"}``
    (blocking); None for a store that does not record them."""
    if not isinstance(store, ReportsReconcile):
        return None
    within_s = within_s if within_s > 0 else DEFAULT_WITHIN_S
    since = format_time((now or datetime.now(UTC)) - timedelta(seconds=within_s))
    coverage = store.mirror_coverage(confirmed_since=since)
    return {
        "coverage_ratio": coverage_ratio(coverage),
        "confirmed": sum(c.confirmed for c in coverage.values()),
        "mirrored": sum(c.total for c in coverage.values()),
        "within_s": within_s,
        "families": {
            f: {"confirmed": c.confirmed, "mirrored": c.total} for f, c in coverage.items()
        },
        "repairs": store.reconcile_repair_counts(),
    }
