"""Emulator settings: one typed model, units in the names, built by the entry point."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_PORT = 8090
DEFAULT_HOUR_WINDOW_S = 3600.0
DEFAULT_RATE_LIMIT_PER_HOUR = 1000
DEFAULT_TEST_ENDPOINT_LIMIT = 10
DEFAULT_TEST_ENDPOINT_WINDOW_S = 60.0
DEFAULT_DELIVERY_TIMEOUT_S = 15.0
DEFAULT_MAX_CONCURRENT_DELIVERIES = 16
# Delay before each retry, in seconds, before ``time_factor``: ~2.7 days in all, 9 attempts.
DEFAULT_RETRY_SCHEDULE_S = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 86400.0, 86400.0)
DEFAULT_JITTER_RATIO = 0.2


class EmulatorConfig(BaseModel):
    """Everything the emulator can be tuned by; tests shrink windows and ``time_factor``."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    time_factor: float = Field(default=1.0, gt=0)
    hour_window_s: float = Field(default=DEFAULT_HOUR_WINDOW_S, gt=0)
    test_endpoint_window_s: float = Field(default=DEFAULT_TEST_ENDPOINT_WINDOW_S, gt=0)
    test_endpoint_limit: int = Field(default=DEFAULT_TEST_ENDPOINT_LIMIT, ge=1)
    delivery_timeout_s: float = Field(default=DEFAULT_DELIVERY_TIMEOUT_S, gt=0)
    max_concurrent_deliveries: int = Field(default=DEFAULT_MAX_CONCURRENT_DELIVERIES, ge=1)
    retry_schedule_s: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE_S
    jitter_ratio: float = Field(default=DEFAULT_JITTER_RATIO, ge=0, lt=1)
    seed: bool = False
    seed_environment: str = "test"
    seed_webhook_url: str | None = None
    random_seed: int | None = None
    # list answers: the docs' {data, pagination} or the SDK's {data: {data, meta}}
    pagination: Literal["docs", "sdk"] = "docs"
