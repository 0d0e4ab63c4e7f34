"""The emulator's whole state in one object, stored on the app (no globals)."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from core.signing import WebhookSecret
from emulator.clock import MonotonicStamper
from emulator.config import EmulatorConfig
from emulator.delivery import Delivery
from emulator.dispatcher import Dispatcher
from emulator.faults import FaultInjector
from emulator.keys import ApiKey, KeyStatus, KeyStore, Scope, generate_key, generate_secret
from emulator.ratelimit import SlidingWindowLimiter
from emulator.requestlog import RequestLog
from emulator.resources import Emit, Store

ENVIRONMENTS = ("test", "live")


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.random_seed)
        self.keys = KeyStore()
        self.faults = FaultInjector(self.rng)
        self.requests = RequestLog()
        self.dispatcher = Dispatcher(config, self.keys, self.faults, self.rng)
        self.hourly = SlidingWindowLimiter(window_s=config.hour_window_s)
        self.test_window = SlidingWindowLimiter(window_s=config.test_endpoint_window_s)
        self._stamp = MonotonicStamper()
        self._captured: list[Delivery] | None = None
        self.stores = self._new_stores()

    def _new_stores(self) -> dict[str, Store]:
        return {env: Store(env, stamp=self._stamp, emit=self._emitter(env)) for env in ENVIRONMENTS}

    def _emitter(self, environment: str) -> Emit:
        def emit(event: str, data: dict[str, Any]) -> None:
            sent = self.dispatcher.publish(environment, event, data)
            if self._captured is not None:
                self._captured.extend(sent)

        return emit

    @contextlib.contextmanager
    def capture_deliveries(self) -> Iterator[list[Delivery]]:
        """Collect the deliveries created inside the block (for admin answers)."""
        captured: list[Delivery] = []
        self._captured = captured
        try:
            yield captured
        finally:
            self._captured = None

    def create_key(
        self,
        *,
        environment: str = "test",
        name: str | None = None,
        scopes: set[Scope] | None = None,
        status: KeyStatus = KeyStatus.ACTIVE,
        allowed_ips: list[str] | None = None,
        rate_limit_per_hour: int = 1000,
        webhook_url: str | None = None,
        key: str | None = None,
        secret: WebhookSecret | None = None,
    ) -> ApiKey:
        key_id = self.keys.next_id()
        return self.keys.add(
            ApiKey(
                id=key_id,
                key=key or generate_key(environment),
                environment=environment,
                name=name or f"key {key_id}",
                scopes=set(Scope) if scopes is None else scopes,
                status=status,
                allowed_ips=allowed_ips or [],
                rate_limit_per_hour=rate_limit_per_hour,
                webhook_url=webhook_url,
                secret=secret or generate_secret(),
                created_at=time.time(),
            )
        )

    def reset(self) -> None:
        self.dispatcher.clear()
        self.keys.clear()
        self.hourly.clear()
        self.test_window.clear()
        self.requests.clear()
        self.faults.clear()
        self.stores = self._new_stores()


EMULATOR = web.AppKey("emulator", Emulator)
DEMO_KEY = web.AppKey("demo_key", ApiKey)
