"""Alerts that come to the operator: silence, dead letters, a spike of signature failures.

Each is judged on every observer tick. While one holds, ``/readyz`` lists it under
``warnings`` (still 200: the process is healthy) and ``billoget_hooks_alert_active{alert}`` is
1. One WARNING line is logged when it starts (its onset), one INFO line when it ends: never
one per tick.

- ``silence``: ``SILENCE_ALERT_AFTER_S`` set, no verified delivery for that long (since start,
  when there was none), and the last self-check passed (had it failed, that is the problem);
- ``dead_letters``: the store holds dead events;
- ``signature_failures``: more than ``SIGNATURE_ALERT_COUNT`` deliveries failed verification
  (401) within ``SIGNATURE_ALERT_WINDOW_S``.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from receiver.observability.snapshot import StoreSnapshot

log = logging.getLogger(__name__)

SILENCE, DEAD_LETTERS, SIGNATURE_FAILURES = "silence", "dead_letters", "signature_failures"
ALERT_NAMES = (SILENCE, DEAD_LETTERS, SIGNATURE_FAILURES)


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    message: str
    since: float  # Unix seconds of its onset


def span(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


class AlertBoard:
    def __init__(
        self,
        *,
        silence_after_s: float | None,
        signature_count: int,
        signature_window_s: float,
        started_at: float,
    ) -> None:
        self._silence_after_s = silence_after_s
        self._signature_count = signature_count
        self._signature_window_s = signature_window_s
        self._started_at = started_at
        self._failures: deque[tuple[float, float]] = deque([(started_at, 0.0)])
        self.active: dict[str, Alert] = {}

    def evaluate(
        self,
        *,
        now: float,
        snapshot: StoreSnapshot | None,
        last_delivery_s: float,
        failures_total: float,
    ) -> None:
        """Judge every alert; log onsets and ends."""
        self._set(SIGNATURE_FAILURES, self._signature_message(now, failures_total), now)
        if snapshot is None:  # the store did not answer: keep what holds
            return
        self._set(SILENCE, self._silence_message(now, snapshot, last_delivery_s), now)
        dead = snapshot.counts.get("dead", 0)
        self._set(
            DEAD_LETTERS,
            None
            if not dead
            else f"{dead} event(s) are dead: `billoget-hooks events list --status dead` says "
            "why; replay them once the cause is fixed (`billoget-hooks events replay --status "
            "dead`)",
            now,
        )

    def _silence_message(
        self, now: float, snapshot: StoreSnapshot, last_delivery_s: float
    ) -> str | None:
        if self._silence_after_s is None or snapshot.selfcheck_ok is not True:
            return None
        last = max(last_delivery_s, snapshot.last_received_at or 0.0)
        quiet_s = now - (last or self._started_at)
        if quiet_s <= self._silence_after_s:
            return None
        what = "since this receiver started" if not last else f"for {span(quiet_s)}"
        return (
            f"no verified delivery {what} (SILENCE_ALERT_AFTER_S={self._silence_after_s:g}) "
            "although the last self-check passed: is Billoget still sending to this URL? "
            "Check the webhook URL in Billoget and run `billoget-hooks selfcheck`"
        )

    def _signature_message(self, now: float, failures_total: float) -> str | None:
        window = self._failures
        window.append((now, failures_total))
        while len(window) > 1 and window[1][0] <= now - self._signature_window_s:
            window.popleft()
        failed = failures_total - window[0][1]
        if failed <= self._signature_count:
            return None
        return (
            f"{failed:.0f} deliveries failed signature verification in the last "
            f"{span(self._signature_window_s)} (more than SIGNATURE_ALERT_COUNT="
            f"{self._signature_count}): `billoget-hooks diagnose` says why"
        )

    def _set(self, name: str, message: str | None, now: float) -> None:
        current = self.active.get(name)
        if message is None:
            if current is not None:
                del self.active[name]
                log.info("alert %s resolved after %s", name, span(now - current.since))
            return
        if current is None:
            log.warning("alert %s: %s", name, message)
            self.active[name] = Alert(name, message, now)
        else:  # still holding: the message may say more now, the onset stays
            self.active[name] = Alert(name, message, current.since)
