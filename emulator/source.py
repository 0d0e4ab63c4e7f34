"""Who made a change, for the webhook envelope's ``metadata.source`` (Billoget's docs).

``api``: through the public API (the default); ``web``: through the emulator's admin routes,
which stand for Billoget's dashboard; ``system``: by Billoget itself (a budget expiring);
``test``: the test endpoint. A context variable, so each request carries its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Literal

Source = Literal["api", "web", "system", "test"]
_SOURCE: ContextVar[Source] = ContextVar("billoget_change_source", default="api")


def current() -> Source:
    return _SOURCE.get()


@contextlib.contextmanager
def acting_as(source: Source) -> Iterator[None]:
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)
