"""The shape of a readiness check (see :mod:`receiver.health` for the registry)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    detail: str


ReadinessCheck = Callable[[web.Application], Awaitable[CheckResult]]
