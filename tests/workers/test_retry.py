"""The retry policy: full-jitter backoff under a capped ceiling, a bounded number of tries."""

from __future__ import annotations

import random

from workers.retry import RetryPolicy


def test_backoff_is_full_jitter_under_a_doubling_capped_ceiling() -> None:
    policy = RetryPolicy(base_s=1, cap_s=10, max_attempts=5, rng=random.Random(1))
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (40, 10)]:
        delays = [policy.delay_s(attempt) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > ceiling / 2


def test_retry_after_is_a_floor_of_the_backoff() -> None:
    policy = RetryPolicy(base_s=1, cap_s=100, rng=random.Random(2))
    assert all(policy.delay_s(1, retry_after_s=30) >= 30 for _ in range(50))


def test_the_policy_says_when_attempts_are_exhausted() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.exhausted(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
