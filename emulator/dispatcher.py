"""The webhook sender: fan events out to keys, retry with backoff, apply delivery faults.

Every delivery runs in its own background task, so API handlers never wait on a receiver;
a semaphore bounds how many HTTP attempts are in flight at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from emulator.clock import iso
from emulator.config import EmulatorConfig
from emulator.delivery import Attempt, Delivery, envelope, new_delivery_id, post_once, retry_delay_s
from emulator.faults import FaultInjector
from emulator.keys import ApiKey, KeyStore
from emulator.source import current as current_source

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        config: EmulatorConfig,
        keys: KeyStore,
        faults: FaultInjector,
        rng: random.Random,
    ) -> None:
        self._config = config
        self._keys = keys
        self._faults = faults
        self._rng = rng
        self._deliveries: dict[str, Delivery] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._held: list[Delivery] = []
        self._flush_timer: asyncio.Task[None] | None = None
        self._semaphore = asyncio.Semaphore(config.max_concurrent_deliveries)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        self.cancel_all()
        await self.wait_cancelled()
        if self._session is not None:
            await self._session.close()

    def cancel_all(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        self._held.clear()
        for task in list(self._tasks.values()):
            task.cancel()

    async def wait_cancelled(self) -> None:
        tasks = list(self._tasks.values())
        if self._flush_timer is not None:
            tasks.append(self._flush_timer)
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- queries -------------------------------------------------------------------------------

    def get(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

    def all(self) -> list[Delivery]:
        return list(self._deliveries.values())

    def clear(self) -> None:
        self.cancel_all()
        self._deliveries.clear()

    # -- sending -------------------------------------------------------------------------------

    def publish(self, environment: str, event: str, data: dict[str, Any]) -> list[Delivery]:
        """Send ``event`` to every key of ``environment`` that receives webhooks, with the
        source of the change being made (:mod:`emulator.source`)."""
        source = current_source()
        return [
            self.send(key, event, data, source=source)
            for key in self._keys.webhook_targets(environment)
        ]

    def send(self, key: ApiKey, event: str, data: dict[str, Any], *, source: str) -> Delivery:
        delivery_id = new_delivery_id()
        delivery = Delivery(
            id=delivery_id,
            key_id=key.id,
            environment=key.environment,
            event=event,
            body=envelope(event, data, delivery_id, source=source),
            created_at=iso(datetime.now(UTC)),
        )
        self._deliveries[delivery.id] = delivery
        faults = self._faults.faults
        if self._faults.chance(faults.delivery_drop_rate):
            delivery.state = "dropped"
            log.info("delivery %s dropped by an injected fault", delivery.id)
        elif faults.delivery_out_of_order:
            self._hold(delivery)
        else:
            self._spawn(delivery)
        return delivery

    def redeliver(self, delivery: Delivery) -> Delivery:
        task = self._tasks.pop(delivery.id, None)
        if task is not None:
            task.cancel()
        delivery.state = "pending"
        self._spawn(delivery)
        return delivery

    def _spawn(self, delivery: Delivery, after: asyncio.Event | None = None) -> asyncio.Event:
        first_done = asyncio.Event()
        task = asyncio.create_task(self._run(delivery, after, first_done))
        self._tasks[delivery.id] = task
        task.add_done_callback(lambda t: self._forget(delivery.id, t))
        return first_done

    def _forget(self, delivery_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(delivery_id) is task:
            del self._tasks[delivery_id]
        if not task.cancelled() and (exc := task.exception()) is not None:
            if (delivery := self._deliveries.get(delivery_id)) is not None:
                delivery.state = "failed"
            log.error("delivery %s crashed: %s", delivery_id, type(exc).__name__)

    # -- out-of-order fault: hold a small batch, release it shuffled, one after another --------

    def _hold(self, delivery: Delivery) -> None:
        self._held.append(delivery)
        faults = self._faults.faults
        if len(self._held) >= faults.out_of_order_batch:
            self._flush()
        elif self._flush_timer is None or self._flush_timer.done():
            self._flush_timer = asyncio.create_task(self._flush_later(faults.out_of_order_hold_ms))

    async def _flush_later(self, hold_ms: float) -> None:
        await asyncio.sleep(hold_ms / 1000)
        self._flush()

    def _flush(self) -> None:
        batch, self._held = self._held, []
        shuffled = list(batch)
        self._rng.shuffle(shuffled)
        if len(shuffled) > 1 and shuffled == batch:
            shuffled.reverse()
        previous: asyncio.Event | None = None
        for delivery in shuffled:
            previous = self._spawn(delivery, previous)

    # -- one delivery's life ----------------------------------------------------------------

    async def _run(
        self, delivery: Delivery, after: asyncio.Event | None, first_done: asyncio.Event
    ) -> None:
        try:
            if after is not None:
                await after.wait()
            retry_index = 0
            while True:
                retry_after = await self._attempt(delivery)
                first_done.set()
                if delivery.state != "pending":
                    return
                delay = retry_delay_s(
                    retry_index,
                    schedule_s=self._config.retry_schedule_s,
                    time_factor=self._config.time_factor,
                    jitter_ratio=self._config.jitter_ratio,
                    retry_after_s=retry_after,
                    rng=self._rng,
                )
                if delay is None:
                    delivery.state = "failed"
                    log.warning(
                        "delivery %s failed after %d attempts", delivery.id, retry_index + 1
                    )
                    return
                delivery.next_attempt_at = time.time() + delay
                await asyncio.sleep(delay)
                retry_index += 1
        finally:
            first_done.set()
            delivery.next_attempt_at = None

    async def _attempt(self, delivery: Delivery) -> float | None:
        """Make one attempt, settle ``delivery.state`` if it is final; return any Retry-After."""
        key = self._keys.get(delivery.key_id)
        if key is None or not key.webhook_url:
            delivery.state = "failed"
            return None
        if key.endpoint_disabled:
            delivery.state = "disabled"
            return None
        faults = self._faults.faults
        if faults.delivery_latency_ms:
            await asyncio.sleep(faults.delivery_latency_ms / 1000)
        attempt = await self._post(delivery, key)
        if attempt.ok:
            delivery.state = "delivered"
            if self._faults.chance(self._faults.faults.delivery_duplicate_rate):
                await self._post(delivery, key, duplicate=True)
        elif attempt.status_code == 410:
            key.endpoint_disabled = True
            delivery.state = "disabled"
            log.warning("delivery %s got 410: endpoint of key %d disabled", delivery.id, key.id)
        return attempt.retry_after_s

    async def _post(self, delivery: Delivery, key: ApiKey, *, duplicate: bool = False) -> Attempt:
        assert self._session is not None and key.webhook_url
        async with self._semaphore:
            attempt = await post_once(
                self._session,
                key.webhook_url,
                delivery,
                key.signing_secrets(time.time()),
                timeout_s=self._config.delivery_timeout_s,
                duplicate=duplicate,
            )
        delivery.attempts.append(attempt)
        log.info(
            "delivery %s attempt %d: status=%s error=%s",
            delivery.id,
            len(delivery.attempts),
            attempt.status_code,
            attempt.error,
        )
        return attempt
