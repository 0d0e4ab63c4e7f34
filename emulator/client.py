"""An async client for the emulator's admin API, for tests and ``scripts/``.

async with aiohttp.ClientSession() as session:
    admin = EmulatorAdmin("http://127.0.0.1:8090", session)
    key = await admin.create_key(webhookUrl="http://127.0.0.1:8080/webhooks/billoget")
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

Json = dict[str, Any]


class EmulatorError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"emulator admin call failed with {status}: {body}")
        self.status = status
        self.body = body


class EmulatorAdmin:
    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session

    @property
    def api_url(self) -> str:
        """What to use as ``BILLOGET_API_URL``."""
        return f"{self.base_url}/v1"

    async def _call(self, method: str, path: str, body: Json | None = None, **params: Any) -> Any:
        url = f"{self.base_url}/__emulator{path}"
        query = {k: str(v) for k, v in params.items() if v is not None}
        async with self._session.request(method, url, json=body, params=query) as response:
            data = await response.json()
            if response.status >= 400:
                raise EmulatorError(response.status, data)
            return data

    async def create_key(self, **spec: Any) -> Json:
        """Create a key (``environment``, ``scopes``, ``webhookUrl``...); has ``key`` and
        ``webhookSecret`` (the only time the whole key is returned)."""
        result: Json = await self._call("POST", "/keys", spec)
        return result

    async def update_key(self, key_id: int, **patch: Any) -> Json:
        result: Json = await self._call("PATCH", f"/keys/{key_id}", patch)
        return result

    async def keys(self) -> list[Json]:
        return list((await self._call("GET", "/keys"))["data"])

    async def rotate_secret(self, key_id: int, *, grace_s: float = 86400) -> Json:
        result: Json = await self._call(
            "POST", f"/keys/{key_id}/rotate-secret", {"grace_s": grace_s}
        )
        return result

    async def seed(self, environment: str = "test") -> Json:
        result: Json = await self._call("POST", "/seed", {"environment": environment})
        return result

    async def trigger(
        self,
        event: str,
        entity_id: int | None = None,
        *,
        environment: str = "test",
        changes: Json | None = None,
    ) -> Json:
        body = {
            "event": event,
            "id": entity_id,
            "environment": environment,
            "changes": changes or {},
        }
        result: Json = await self._call("POST", "/trigger", body)
        return result

    async def deliveries(
        self, *, status: str | None = None, event: str | None = None
    ) -> list[Json]:
        return list((await self._call("GET", "/deliveries", status=status, event=event))["data"])

    async def delivery(self, delivery_id: str) -> Json:
        result: Json = await self._call("GET", f"/deliveries/{delivery_id}")
        return result

    async def redeliver(self, delivery_id: str) -> Json:
        result: Json = await self._call("POST", f"/deliveries/{delivery_id}/redeliver")
        return result

    async def wait_for_deliveries(
        self, count: int, *, status: str = "delivered", timeout_s: float = 5.0
    ) -> list[Json]:
        """Poll until at least ``count`` deliveries have ``status``; raise TimeoutError if not."""
        deadline = time.monotonic() + timeout_s
        while True:
            rows = await self.deliveries(status=status)
            if len(rows) >= count:
                return rows
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(rows)} of {count} deliveries are {status}")
            await asyncio.sleep(0.01)

    async def requests(self) -> list[Json]:
        return list((await self._call("GET", "/requests"))["data"])

    async def clear_requests(self) -> None:
        await self._call("DELETE", "/requests")

    async def set_faults(self, **faults: Any) -> Json:
        result: Json = await self._call("POST", "/faults", faults)
        return result

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def state(self, environment: str = "test") -> Json:
        result: Json = (await self._call("GET", "/state", environment=environment))["data"]
        return result
