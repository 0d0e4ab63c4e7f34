"""The cheapest fetch plan: fetches needed within a short window are planned together.

:class:`FetchPlanner` collects, per family, the entities events need fetched; after the window
one worker plans them (:func:`choose`: one GET each, or a scan of the list at ``limit=100``,
whichever costs fewer requests given the list's total), applies what it fetched to the mirror,
logs the plan and its cost once and counts it in :data:`PLAN_STATS`.
"""

from __future__ import annotations

from workers.fetchplan.choice import choose, pages_for
from workers.fetchplan.planner import FetchPlanned, FetchPlanner
from workers.fetchplan.stats import PLAN_STATS, PlanStats

__all__ = ["PLAN_STATS", "FetchPlanned", "FetchPlanner", "PlanStats", "choose", "pages_for"]
