"""The last refused deliveries, kept in memory for ``billoget-hooks diagnose --signatures``.

Only requests the ingest step refused (bad signature, timestamp, envelope, delivery id) are
kept: their headers and up to :data:`MAX_BODY_KEPT` bytes of body, with the refusal's code and
message. They live in this process's memory only: never written to disk, never logged, shown
only through the admin routes (``GET /admin/refused``). Credentials a sender might have sent
(``Authorization``, cookies) are not kept.
"""

from __future__ import annotations

import base64
from collections import deque
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDictProxy

from core.errors import ClientError
from core.times import utcnow

MAX_BODY_KEPT = 64 * 1024
MAX_HEADERS_KEPT = 100
_DROPPED = frozenset({"authorization", "proxy-authorization", "cookie"})


@dataclass(frozen=True, slots=True)
class RefusedRequest:
    at: str
    remote: str | None
    status: int
    code: str
    message: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    body_bytes: int

    def __repr__(self) -> str:  # its headers hold signatures: never in a log line
        return f"RefusedRequest({self.at}, {self.status} {self.code})"

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "remote": self.remote,
            "status": self.status,
            "error": self.code,
            "message": self.message,
            "headers": [list(h) for h in self.headers],
            "body_base64": base64.b64encode(self.body).decode("ascii"),
            "body_bytes": self.body_bytes,
            "body_truncated": self.body_bytes > len(self.body),
        }


class RefusedLog:
    """A ring of the last ``keep`` refused requests (0: keep none)."""

    def __init__(self, keep: int) -> None:
        self._items: deque[RefusedRequest] = deque(maxlen=max(keep, 0))
        self.keep = keep

    def add(
        self,
        headers: CIMultiDictProxy[str],
        body: bytes,
        error: ClientError,
        *,
        remote: str | None,
    ) -> None:
        if not self.keep:
            return
        kept = tuple(
            (name, value) for name, value in headers.items() if name.lower() not in _DROPPED
        )[:MAX_HEADERS_KEPT]
        self._items.append(
            RefusedRequest(
                at=utcnow(),
                remote=remote,
                status=error.status,
                code=error.code,
                message=error.message,
                headers=kept,
                body=body[:MAX_BODY_KEPT],
                body_bytes=len(body),
            )
        )

    def newest_first(self) -> list[RefusedRequest]:
        return list(reversed(self._items))
