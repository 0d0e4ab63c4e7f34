"""The read methods of :class:`core.store.EventStore`, written once for every backend.

A backend's ``reads`` module holds the SQL as functions taking a connection first (same names,
same arguments); its store class sets :attr:`ReadMethods.reads` to that module and provides
``reading()``, a context manager lending a connection (and turning the driver's failures into
StoreUnavailableError).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol

from core.store.models import RelayItem, Status, StoredEvent, Unfinished
from core.times import seconds_from_now


def list_query(
    columns: str,
    *,
    status: Status | None,
    event_type: str | None,
    since: str | None,
    limit: int,
    mark: str,
) -> tuple[str, tuple[Any, ...]]:
    """``list_events``' SQL and parameters, with the driver's placeholder ``mark`` (``?``,
    ``%s``): newest first, filtered by what is given."""
    where, params = ["1 = 1"], []
    for clause, value in (
        ("status = ", status.value if status is not None else None),
        ("event_type = ", event_type),
        ("received_at >= ", since),
    ):
        if value is not None:
            where.append(clause + mark)
            params.append(value)
    sql = (
        f"SELECT {columns} FROM events WHERE {' AND '.join(where)}"
        f" ORDER BY received_at DESC, delivery_id LIMIT {mark}"
    )
    return sql, (*params, limit)


class ReadsModule(Protocol):
    def get_event(self, conn: Any, delivery_id: str, /) -> StoredEvent | None: ...

    def list_events(
        self,
        conn: Any,
        /,
        *,
        status: Status | None,
        event_type: str | None,
        since: str | None,
        limit: int,
    ) -> list[StoredEvent]: ...

    def counts(self, conn: Any, /) -> dict[str, int]: ...

    def find_selfcheck(self, conn: Any, nonce: str, /) -> StoredEvent | None: ...

    def due_for_relay(
        self, conn: Any, /, *, received_before: str, stale_before: str, limit: int
    ) -> list[RelayItem]: ...

    def last_selfcheck(self, conn: Any, /) -> tuple[str, bool, str] | None: ...

    def unfinished(
        self, conn: Any, /, *, before: str, after: tuple[str, str] | None, limit: int
    ) -> list[Unfinished]: ...


class ReadMethods:
    reads: ClassVar[ReadsModule]

    def reading(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def due_for_relay(
        self, *, received_grace_s: float, stale_after_s: float, limit: int
    ) -> list[RelayItem]:
        received, stale = seconds_from_now(-received_grace_s), seconds_from_now(-stale_after_s)
        with self.reading() as conn:
            return self.reads.due_for_relay(
                conn, received_before=received, stale_before=stale, limit=limit
            )

    def unfinished(
        self, *, before: str, after: tuple[str, str] | None = None, limit: int
    ) -> list[Unfinished]:
        with self.reading() as conn:
            return self.reads.unfinished(conn, before=before, after=after, limit=limit)

    def get(self, delivery_id: str) -> StoredEvent | None:
        with self.reading() as conn:
            return self.reads.get_event(conn, delivery_id)

    def list_events(
        self,
        *,
        status: Status | None = None,
        event_type: str | None = None,
        since: str | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        with self.reading() as conn:
            return self.reads.list_events(
                conn, status=status, event_type=event_type, since=since, limit=limit
            )

    def counts(self) -> dict[str, int]:
        with self.reading() as conn:
            return self.reads.counts(conn)

    def find_selfcheck(self, nonce: str) -> StoredEvent | None:
        with self.reading() as conn:
            return self.reads.find_selfcheck(conn, nonce)

    def last_selfcheck(self) -> tuple[str, bool, str] | None:
        with self.reading() as conn:
            return self.reads.last_selfcheck(conn)
