"""The self-check: configuration, the key's scopes, and a webhook round trip through the
running receiver (``run``), with its checks in ``config`` and ``api_checks`` and the report
model in ``report``."""

from core.selfcheck.run import DEFAULT_WAIT_S, run_selfcheck, throttled_wait_s

__all__ = ["DEFAULT_WAIT_S", "run_selfcheck", "throttled_wait_s"]
