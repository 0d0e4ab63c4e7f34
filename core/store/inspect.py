"""What the inspector page reads: filtered, keyset-paged event summaries and a few aggregates.

:class:`InspectsEvents` is optional beside :class:`core.store.models.EventStore` (the receiver's
inspector needs it, nothing else does); every method is one indexed query, so a page costs the
same with 100 or 100,000 events. Pages go newest first by ``(received_at, delivery_id)`` and
continue *before* the last row shown (keyset pagination, never ``OFFSET``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.store.models import Status

# (received_at, delivery_id) of the last row shown: the next page starts strictly before it
Cursor = tuple[str, str]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events: every field that is set must match (``since``: received at or after)."""

    status: Status | None = None
    event_type: str | None = None
    since: str | None = None
    entity_id: str | None = None  # the envelope's ``data.id``, as text


@dataclass(frozen=True, slots=True)
class EventSummary:
    """An event without its body (a page of them stays small whatever the bodies weigh)."""

    delivery_id: str
    event_type: str
    status: Status
    attempts: int
    last_error: str | None
    outcome: str | None
    received_at: str
    updated_at: str
    next_attempt_at: str | None
    selfcheck_nonce: str | None
    entity_id: str | None

    @property
    def cursor(self) -> Cursor:
        return (self.received_at, self.delivery_id)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One line of an event's history: an attempt's outcome (``processed``, ``failed``,
    ``dead``, ``deferred``: waiting for the API budget, not counted) or a ``replayed``."""

    attempt: int  # the event's attempt count then (0 for a replay)
    at: str
    result: str
    detail: str | None  # the error, the reason or the outcome


@runtime_checkable
class InspectsEvents(Protocol):
    """The inspector's reads. Blocking; async callers run them in a thread."""

    def page_events(
        self, where: EventFilter, *, before: Cursor | None = None, limit: int = 50
    ) -> list[EventSummary]:
        """Matching events, newest first, strictly before ``before`` when given."""
        ...

    def count_events(self, where: EventFilter) -> int: ...

    def received_per_minute(self, *, since: str) -> list[tuple[str, int]]:
        """Events received at or after ``since``, counted per minute: ``("YYYY-MM-DDTHH:MM",
        n)`` for each minute that has any, oldest first (a day at most)."""
        ...

    def oldest_unfinished(self) -> str | None:
        """``received_at`` of the oldest event that is ``received``, ``queued`` or ``failed``."""
        ...

    def last_received(self) -> str | None:
        """``received_at`` of the newest event."""
        ...

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        """The event's history, oldest first (every outcome and replay since migration 11)."""
        ...
