"""The event store's contract: the ``EventStore`` protocol and the records it takes and returns.

:class:`EventStore` is the interface the receiver, the workers and the CLI use; SQLite
(:mod:`core.store.sqlite`) and PostgreSQL (:mod:`core.store.postgres`) implement it and pass one
conformance suite (``tests/core/store/test_conformance.py``). It holds what production calls,
no more; the tests exercise the same methods. Status moves ``received → queued → processed |
failed | dead``; ``failed`` goes back to ``queued`` when retried. Outcomes are recorded with
their reason.

One vocabulary from the worker to the row: an attempt ends in a :class:`Result` (the worker's
verdict and the :class:`Outcome` write both carry it), and each result names the
:class:`Status` it leaves the row in (:attr:`Result.status`): ``processed``, ``failed`` and
``dead`` are stored under their own name; ``deferred`` (waiting, not counted) puts the row back
to ``queued``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Status(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSED = "processed"
    FAILED = "failed"
    DEAD = "dead"


DONE_STATUSES = frozenset({Status.PROCESSED, Status.DEAD})


class Result(StrEnum):
    """How one processing attempt ended."""

    PROCESSED = "processed"  # the handlers are done: the text is the outcome
    FAILED = "failed"  # counted; retried with backoff until the attempts are spent
    DEFERRED = "deferred"  # waiting (rate budget, a 429, a busy entity): not counted
    DEAD = "dead"  # never retried: the text is the reason

    @property
    def status(self) -> Status:
        """The status this result leaves the stored row in."""
        return Status.QUEUED if self is Result.DEFERRED else Status(self.value)


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A verified delivery about to be committed."""

    delivery_id: str
    event_type: str
    event_timestamp: str
    webhook_timestamp: int
    body: bytes
    selfcheck_nonce: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    delivery_id: str
    event_type: str
    status: Status
    attempts: int
    last_error: str | None
    outcome: str | None
    received_at: str
    updated_at: str
    queued_at: str | None
    processed_at: str | None
    next_attempt_at: str | None
    event_timestamp: str
    webhook_timestamp: int
    body: bytes
    selfcheck_nonce: str | None

    def __repr__(self) -> str:  # the body may hold customer data: keep it out of reprs
        return (
            f"StoredEvent({self.delivery_id!r}, {self.event_type!r}, status={self.status.value}, "
            f"attempts={self.attempts})"
        )


@dataclass(frozen=True, slots=True)
class RelayItem:
    delivery_id: str
    event_type: str
    # ISO-8601 UTC: enqueue with a delay until then (a retry's backoff, a deferral), else now
    not_before: str | None = None


@dataclass(frozen=True, slots=True)
class Unfinished:
    """A row the store says is not done (``received``, ``queued`` or ``failed``), for the
    resend after Redis lost its data; ``updated_at`` with ``delivery_id`` is the page cursor."""

    delivery_id: str
    event_type: str
    status: Status
    updated_at: str
    next_attempt_at: str | None


class SweeperLease(Protocol):
    """The right to run the relay sweeper, held by one receiver at a time across processes and
    hosts; released by the operating system or the database when its holder dies."""

    def held(self) -> bool:
        """True if this process holds the lease now, taking it when it is free (blocking, never
        waits for the holder)."""
        ...

    def release(self) -> None: ...


class EventStore(Protocol):
    """What every store implementation provides. Methods are blocking; async callers run them
    in a thread. Every method may raise :class:`core.errors.StoreUnavailableError`."""

    def migrate(self) -> None:
        """Apply the pending migrations (one process at a time)."""
        ...

    def pending_migrations(self) -> list[tuple[int, str, str]]:
        """``(version, name, sql)`` of each migration :meth:`migrate` would apply."""
        ...

    def commit_batch(
        self, deliveries: Sequence[NewDelivery], *, queued_ids: Sequence[str] = ()
    ) -> list[bool]:
        """The receiver's group commit: insert ``deliveries`` and mark ``queued_ids`` queued in
        one transaction; per delivery True if stored, False if its id was already stored (or
        came earlier in the batch). Concurrent callers with one id: exactly one learns True."""
        ...

    def mark_queued(self, delivery_ids: Sequence[str]) -> None:
        """``received``/``failed`` → ``queued`` once the message is on the broker."""
        ...

    def due_for_relay(
        self, *, received_grace_s: float, stale_after_s: float, limit: int
    ) -> list[RelayItem]:
        """Events committed but not on the broker: ``received`` for longer than the grace, or
        ``queued``/``failed`` with no progress for ``stale_after_s`` (the broker lost them)."""
        ...

    def unfinished(
        self, *, before: str, after: tuple[str, str] | None = None, limit: int
    ) -> list[Unfinished]:
        """Rows ``received``/``queued``/``failed`` last updated before ``before`` (ISO-8601 UTC),
        ordered by ``(updated_at, delivery_id)`` and starting after the cursor ``after``: what
        the relay sends again when Redis lost its data (:mod:`receiver.redis_epoch`)."""
        ...

    def sweeper_lease(self) -> SweeperLease:
        """The lease that makes one receiver the sweeper (see :class:`SweeperLease`)."""
        ...

    def get(self, delivery_id: str) -> StoredEvent | None: ...

    def list_events(
        self,
        *,
        status: Status | None = None,
        event_type: str | None = None,
        since: str | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]: ...

    def counts(self) -> dict[str, int]: ...

    def apply_worker_writes(self, writes: Sequence[WorkerWrite]) -> list[StoredEvent | None]:
        """The workers' group commit: apply ``writes`` in order, all in one transaction. A
        :class:`StartAttempt` counts one attempt and returns the event as it was (None if
        unknown or already done); an :class:`Outcome` records ``processed`` / ``failed`` /
        ``dead`` / ``deferred`` (back to ``queued``, the attempt not counted) and returns None.
        ``failed`` and ``deferred`` never undo ``processed`` or ``dead``."""
        ...

    def requeue(self, delivery_ids: Sequence[str]) -> int:
        """Send events back through the pipeline (replay): status ``received``, attempts 0."""
        ...

    def prune(self, *, bodies_before: str, ids_before: str, limit: int) -> tuple[int, int]:
        """Retention, one small batch: delete events done (``processed``/``dead``) since before
        ``ids_before`` and empty the bodies of those done since before ``bodies_before`` (and
        not deleted); ``(bodies emptied, events deleted)``, each at most ``limit``. Never
        touches an event that is not done."""
        ...

    def find_selfcheck(self, nonce: str) -> StoredEvent | None: ...

    def save_selfcheck(self, report_json: str, ok: bool) -> None:
        """Keep a self-check report (the latest few hundred are kept)."""
        ...

    def last_selfcheck(self) -> tuple[str, bool, str] | None:
        """The latest self-check report as ``(at, ok, report_json)``; None before the first."""
        ...

    def claim_selfcheck_slot(self, *, min_interval_s: float, now: float) -> float:
        """Record a call to Billoget's test endpoint at ``now`` (Unix seconds) and return 0.0,
        unless the last one was less than ``min_interval_s`` ago: then return the seconds left
        and record nothing. Atomic across processes."""
        ...

    def check_writable(self) -> None:
        """Raise :class:`StoreUnavailableError` unless a write can commit now."""
        ...

    def close(self) -> None: ...

    # -- observability (issue 11): metrics, alerts, ``billoget-hooks diagnose`` --------------

    def oldest_unprocessed_at(self) -> str | None:
        """``received_at`` of the oldest event neither processed nor dead; None if none."""
        ...

    def last_received_at(self) -> str | None:
        """``received_at`` of the newest event; None when the store is empty."""
        ...

    def received_per_minute(self, *, since: str) -> list[tuple[str, int]]:
        """``(minute "YYYY-MM-DDTHH:MM", events received in it)`` from ``since`` on, oldest
        first; minutes without any are left out."""
        ...

    def add_delivery_stats(self, minute: str, counts: Mapping[tuple[str, str], float]) -> None:
        """Add ``(kind, key) → count`` to the receiver's counters of ``minute`` (see the
        ``delivery_stats`` migration)."""
        ...

    def delivery_stats(self, since: str) -> dict[tuple[str, str], float]:
        """``(kind, key) → count`` summed over the minutes from ``since`` on."""
        ...

    def prune_delivery_stats(self, before: str) -> int:
        """Forget the counters of the minutes before ``before``; how many rows went."""
        ...


class StagedBatch(Protocol):
    """A group commit with its statements run and its ``COMMIT`` still to come."""

    stored: list[bool]  # per delivery: True if stored, False if a duplicate (once committed)

    def commit(self) -> None:
        """Make it durable (blocking); rolls back and raises StoreUnavailableError on failure."""
        ...

    def rollback(self) -> None: ...


@runtime_checkable
class StagesBatches(Protocol):
    """Optional (SQLite): a store that can split :meth:`EventStore.commit_batch` in two, so the
    caller runs the statements where it likes (the receiver: on its event loop) and only the
    blocking ``COMMIT`` on the store-writer thread. Other stores simply use ``commit_batch``."""

    def stage_batch(
        self, deliveries: Sequence[NewDelivery], *, queued_ids: Sequence[str] = ()
    ) -> StagedBatch | None:
        """Begin a transaction and run ``commit_batch``'s statements without waiting for any
        lock or disk; None if that cannot be done right now (use ``commit_batch``)."""
        ...


# -- the workers' group commit (EventStore.apply_worker_writes) ------------------------------


@dataclass(frozen=True, slots=True)
class StartAttempt:
    """Count one processing attempt (see :meth:`EventStore.apply_worker_writes`)."""

    delivery_id: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """An attempt's :class:`Result` as one write of a batch: ``processed`` (``text`` is the
    outcome), ``failed`` / ``deferred`` (``text`` is the error or reason, with
    ``next_attempt_at``) or ``dead`` (``text`` is the reason); see
    :meth:`EventStore.apply_worker_writes`."""

    delivery_id: str
    kind: Result
    text: str
    next_attempt_at: str | None = None


WorkerWrite = StartAttempt | Outcome
