"""The retry schedule and ``Retry-After`` parsing, without the network."""

from __future__ import annotations

import random
import time
from email.utils import formatdate

import pytest

from emulator.config import DEFAULT_RETRY_SCHEDULE_S, EmulatorConfig
from emulator.delivery import parse_retry_after, retry_delay_s


def _delay(index: int, *, retry_after_s: float | None = None, jitter: float = 0.2) -> float | None:
    return retry_delay_s(
        index,
        schedule_s=DEFAULT_RETRY_SCHEDULE_S,
        time_factor=0.001,
        jitter_ratio=jitter,
        retry_after_s=retry_after_s,
        rng=random.Random(1),
    )


def test_default_schedule_starts_at_5_s_and_spans_about_three_days() -> None:
    assert DEFAULT_RETRY_SCHEDULE_S[:4] == (5, 300, 1800, 7200)
    assert 2.5 * 86400 <= sum(DEFAULT_RETRY_SCHEDULE_S) <= 3.5 * 86400
    assert EmulatorConfig().delivery_timeout_s == 15


@pytest.mark.parametrize("index", range(len(DEFAULT_RETRY_SCHEDULE_S)))
def test_each_delay_is_scaled_by_the_time_factor_within_the_jitter(index: int) -> None:
    base = DEFAULT_RETRY_SCHEDULE_S[index] * 0.001
    delay = _delay(index)
    assert delay is not None
    assert base * 0.8 <= delay <= base * 1.2


def test_no_jitter_gives_the_exact_scaled_delay() -> None:
    assert _delay(1, jitter=0) == pytest.approx(0.3)


def test_the_schedule_ends() -> None:
    assert _delay(len(DEFAULT_RETRY_SCHEDULE_S)) is None


def test_retry_after_replaces_the_schedule_and_is_scaled() -> None:
    assert _delay(5, retry_after_s=120) == pytest.approx(0.12)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), ("7", 7.0), ("soon", None)]
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_retry_after_as_an_http_date() -> None:
    parsed = parse_retry_after(formatdate(time.time() + 60, usegmt=True))
    assert parsed is not None
    assert 55 <= parsed <= 61
