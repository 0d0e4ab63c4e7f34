"""Scheduled reconciliation: walk the API's lists within a budget share, repair the mirror, and
store what the webhooks missed as synthetic events through the normal pipeline.

:mod:`.walk` is one family's pass, :mod:`.repairs` the synthetic events, :mod:`.lease` the
one-at-a-time lease, :mod:`.run` a run over families, :mod:`.schedule` the workers' timer.
"""

from __future__ import annotations

from workers.reconcile.lease import Lease
from workers.reconcile.repairs import SOURCE, Drift, synthetic_delivery
from workers.reconcile.run import RunResult, reconcile
from workers.reconcile.schedule import ReconcileSchedule
from workers.reconcile.walk import PassProgress

__all__ = [
    "SOURCE",
    "Drift",
    "Lease",
    "PassProgress",
    "ReconcileSchedule",
    "RunResult",
    "reconcile",
    "synthetic_delivery",
]
