"""A log of every API request (never admin ones) so tests can count calls and 429s."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []

    def record(self, *, method: str, path: str, key_prefix: str | None, status: int) -> None:
        self._entries.append(
            {
                "method": method,
                "path": path,
                "keyPrefix": key_prefix,
                "status": status,
                "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
