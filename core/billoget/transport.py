"""The Billoget API client's transport: one request in, decoded JSON or a typed error out.

Every answer's ``X-RateLimit-*`` headers update :attr:`BillogetClient.last_rate_limit` (and call
``on_rate_limit``). Debug logs carry method, path, status, latency and the key prefix only.
"""

from __future__ import annotations

import json as jsonlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar

import aiohttp
import pydantic

from core.billoget.errors import (
    ApiConnectionError,
    ApiResponseError,
    ApiTimeoutError,
    RateLimitInfo,
)
from core.billoget.key import ApiKey, parse_api_url, redact
from core.billoget.responses import error_from_response, parse_rate_limit

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_USER_AGENT = "billoget-hooks/0.1 (+aiohttp)"
M = TypeVar("M", bound=pydantic.BaseModel)


class ApiTransport:
    """Sends requests to ``{base_url}{path}`` with the key; the base of :class:`BillogetClient`."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: ApiKey,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self._base = str(parse_api_url(base_url)).rstrip("/")
        self._key = api_key
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._user_agent = user_agent
        self.last_rate_limit: RateLimitInfo | None = None
        self.on_rate_limit: Callable[[RateLimitInfo], None] | None = None
        # called with each answer's HTTP status, or "timeout" / "connection_error" (metrics)
        self.on_answer: Callable[[int | str], None] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base!r}, key={self._key.prefix}…)"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # -- transport -----------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._key.reveal()}",
            "Accept": "application/json",
            "User-Agent": self._user_agent,
        }

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request; return the decoded JSON body (None when empty) or raise."""
        started = time.monotonic()
        try:
            async with self._get_session().request(
                method,
                self._base + path,
                params=params,
                json=json,
                headers=self._headers(),
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                status, headers = resp.status, resp.headers
        except TimeoutError:
            self._answered("timeout")
            log.debug("billoget api %s %s timed out (key %s)", method, path, self._key.prefix)
            raise ApiTimeoutError(
                f"no answer within {self._timeout.total:g} s ({method} {path})",
                method=method,
                path=path,
            ) from None
        except aiohttp.ClientError as exc:
            self._answered("connection_error")
            log.debug("billoget api %s %s failed: %s", method, path, type(exc).__name__)
            raise ApiConnectionError(
                f"{type(exc).__name__}: {self._describe(exc)} ({method} {path})",
                method=method,
                path=path,
            ) from None
        latency_ms = (time.monotonic() - started) * 1000
        self._answered(status)
        log.debug(
            "billoget api %s %s -> %s in %.0f ms (key %s)",
            method, path, status, latency_ms, self._key.prefix,
        )  # fmt: skip
        rate_limit = self._track_rate_limit(headers)
        if status >= 300:
            raise error_from_response(
                status, raw, headers, method=method, path=path,
                rate_limit=rate_limit, key=self._key,
            )  # fmt: skip
        return self._decode(raw, method, path, status)

    def _answered(self, status: int | str) -> None:
        if self.on_answer is not None:
            try:
                self.on_answer(status)
            except Exception:
                log.warning("on_answer hook failed", exc_info=True)

    def _describe(self, exc: Exception) -> str:
        return redact(str(exc) or "connection failed", self._key)[:200]

    def _track_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        info = parse_rate_limit(headers)
        if info is None:
            return None
        self.last_rate_limit = info
        if self.on_rate_limit is not None:
            try:
                self.on_rate_limit(info)
            except Exception:
                log.warning("on_rate_limit hook failed", exc_info=True)
        return info

    @staticmethod
    def _decode(raw: bytes, method: str, path: str, status: int) -> Any:
        if not raw.strip():
            return None
        try:
            return jsonlib.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiResponseError(
                f"answer is not JSON ({method} {path})", status=status, method=method, path=path
            ) from None

    @staticmethod
    def _model(model: type[M], body: Any, method: str, path: str) -> M:
        try:
            return model.model_validate(body)
        except pydantic.ValidationError as exc:
            where = ", ".join(
                ".".join(str(p) for p in err["loc"]) or "body"
                for err in exc.errors(include_url=False, include_input=False)[:3]
            )
            raise ApiResponseError(
                f"answer does not match {model.__name__} ({where}) ({method} {path})",
                method=method,
                path=path,
            ) from None

    async def _data(self, model: type[M], method: str, path: str, **kw: Any) -> M:
        body = await self._request(method, path, **kw)
        data = body.get("data") if isinstance(body, dict) else None
        return self._model(model, data, method, path)
