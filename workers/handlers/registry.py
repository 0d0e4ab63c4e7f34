"""Route events to handlers by type: ``registry.on("budget.approved")``, ``"budget.*"``, ``"*"``.

An event goes to every handler whose pattern matches it, in registration order; the worker
registers the default mirror handlers first, then the modules named in ``BILLOGET_HANDLERS``
(each exposes ``register(registry)``), so a user handler runs after the mirror is fresh.
A handler is ``async def handler(ctx) -> str | None`` (or a plain function, run in a thread);
what it returns is recorded as the outcome. It must be idempotent (delivery is at least once);
raising :class:`core.errors.PermanentError` marks the event dead at once; any other exception
(``ValueError`` and ``pydantic.ValidationError`` included) is retried with backoff, and the event
is dead with the last error only once ``WORKER_MAX_ATTEMPTS`` are spent.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import ConfigError

if TYPE_CHECKING:
    from workers.handlers.context import HandlerContext

Handler = Callable[["HandlerContext"], Awaitable[str | None] | str | None]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class Route:
    pattern: str
    handler: Handler

    def matches(self, event_type: str) -> bool:
        if self.pattern in ("*", event_type):
            return True
        family, dot, _ = event_type.partition(".")
        return bool(dot) and self.pattern == f"{family}.*"


def _check_pattern(pattern: str) -> None:
    family, dot, action = pattern.partition(".")
    if pattern == "*":
        return
    if family and dot and action and "*" not in family and ("*" not in action or action == "*"):
        return
    raise ValueError(f"handler pattern must be 'family.action', 'family.*' or '*': {pattern!r}")


class HandlerRegistry:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def on(self, *patterns: str) -> Callable[[H], H]:
        """Decorator: handle events matching any of ``patterns``."""
        for pattern in patterns:
            _check_pattern(pattern)

        def register(handler: H) -> H:
            for pattern in patterns:
                self.add(pattern, handler)
            return handler

        return register

    def add(self, pattern: str, handler: Handler) -> None:
        _check_pattern(pattern)
        self._routes.append(Route(pattern, handler))

    def resolve(self, event_type: str) -> list[Handler]:
        """The handlers for ``event_type``, in registration order, each once."""
        found: list[Handler] = []
        for route in self._routes:
            if route.matches(event_type) and route.handler not in found:
                found.append(route.handler)
        return found

    def load_modules(self, names: Iterable[str]) -> None:
        """Import each module and call its ``register(registry)``."""
        for name in names:
            try:
                module: Any = importlib.import_module(name)
            except ImportError as exc:
                raise ConfigError(f"BILLOGET_HANDLERS: cannot import {name!r}: {exc}") from exc
            register = getattr(module, "register", None)
            if not callable(register):
                raise ConfigError(
                    f"BILLOGET_HANDLERS: module {name!r} has no register(registry) function"
                )
            register(self)


def handler_modules(setting: str) -> list[str]:
    """``BILLOGET_HANDLERS`` (comma or space separated) as module names."""
    return [part for part in setting.replace(",", " ").split() if part]
