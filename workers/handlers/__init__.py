"""Event handlers: the registry, the context handlers get, and the default mirror handlers."""

from workers.handlers.context import HandlerContext
from workers.handlers.registry import Handler, HandlerRegistry

__all__ = ["Handler", "HandlerContext", "HandlerRegistry"]
