"""What the inspector keeps on the application, and the hook other features fill in.

:data:`SIGNALS_KEY` is optional: a provider of the overview's signals that the receiver does
not compute itself (which secret verified how many deliveries, the silence warning, other
alerts). The metrics and alerts feature wires its functions there; without it the overview says
that these are not available.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Signals:
    """The overview's alert-side facts (none of them ever holds a secret)."""

    # secret fingerprint → verified deliveries (e.g. since start or over the last day)
    secret_matches: Mapping[str, int] | None = None
    silence_warning: str | None = None  # set while deliveries have gone quiet
    warnings: list[str] = field(default_factory=list)  # other alerts, one sentence each


SignalsProvider = Callable[[web.Application], Awaitable[Signals]]
SIGNALS_KEY = web.AppKey[SignalsProvider]("inspector_signals")


@runtime_checkable
class MirrorReads(Protocol):
    """The mirror lookup the inspector needs (``core.store.sqlite.mirror`` implements it)."""

    def get_entity(self, family: str, entity_id: int | str) -> Any: ...


@dataclass(slots=True)
class InspectorState:
    mirror: MirrorReads | None = None
    selfcheck_task: asyncio.Task[Any] | None = None

    @property
    def selfcheck_running(self) -> bool:
        return self.selfcheck_task is not None and not self.selfcheck_task.done()


STATE_KEY = web.AppKey("inspector_state", InspectorState)
