"""One environment's data, the SDK's resources: customers, products (with variants), budgets
(with items), budget approvals with their configuration and approvers.

The store is built in layers, one module each: :mod:`emulator.tables` (rows, ids, tombstones,
events), :mod:`emulator.catalog` (customers, products, variants), :mod:`emulator.budgets`
(budgets and the public token) and :mod:`emulator.approvals` (the approval workflow).
"""

from __future__ import annotations

from emulator.approvals import Approvals
from emulator.budgets import APPROVED, GENERATED, REJECTED
from emulator.tables import EVENT_TABLES, Emit, Entity

__all__ = ["APPROVED", "EVENT_TABLES", "GENERATED", "REJECTED", "Emit", "Entity", "Store"]


class Store(Approvals):
    """Everything one environment (``test`` or ``live``) holds."""
