"""Counters of the fetch plans this process ran (the metrics read :data:`PLAN_STATS`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class PlanStats:
    plans: int = 0
    entities_pending: int = 0
    gets: int = 0
    scan_pages: int = 0
    entities_applied: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def requests(self) -> int:
        return self.gets + self.scan_pages

    def add(self, *, pending: int, gets: int, scan_pages: int, applied: int) -> None:
        with self._lock:
            self.plans += 1
            self.entities_pending += pending
            self.gets += gets
            self.scan_pages += scan_pages
            self.entities_applied += applied

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "plans": self.plans,
                "entities_pending": self.entities_pending,
                "gets": self.gets,
                "scan_pages": self.scan_pages,
                "requests": self.gets + self.scan_pages,
                "entities_applied": self.entities_applied,
            }


PLAN_STATS = PlanStats()
