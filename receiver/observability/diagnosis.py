"""Verification diagnostics in words, from the store: which secret verified how many deliveries
over the last day, the refusals by reason, the clock skew seen (p50/p99), what is waiting, and
one plain sentence for the commonest failure. ``billoget-hooks diagnose`` prints it; the
inspector's overview shows it.

The counters come from the receiver's per-minute ``delivery_stats`` (see
:mod:`receiver.observability.stats`), so they survive restarts, add up over every receiver
writing the store, and are at most one observer tick behind ``/metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from core.signing import WebhookSecret
from core.store import EventStore
from receiver.observability.alerts import span
from receiver.observability.families import (
    DUPLICATE,
    REFUSALS,
    RESULT_KIND,
    SECRET_KIND,
    SKEW_KIND,
    STORED,
)
from receiver.observability.snapshot import epoch_of
from receiver.observability.stats import quantile, utc_text

DAY_S, HOUR_S = 24 * 3600.0, 3600.0
_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}


@dataclass(frozen=True, slots=True)
class SecretUse:
    fingerprint: str
    position: int | None  # 1-based place in BILLOGET_WEBHOOK_SECRET; None: no longer configured
    verified: int  # over the last day


@dataclass(frozen=True, slots=True)
class Diagnosis:
    at: str
    secrets: list[SecretUse]
    results_day: dict[str, int]  # stored, duplicate and every refusal reason
    refusals_hour: dict[str, int]
    skew_p50_s: float | None
    skew_p99_s: float | None
    skew_count: int
    counts: dict[str, int]
    backlog_age_s: float
    sentence: str
    advice: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        day = self.results_day
        refused = sum(day.get(r, 0) for r in REFUSALS)
        out = [
            f"deliveries in the last 24 h: {day.get(STORED, 0):,} stored, "
            f"{day.get(DUPLICATE, 0):,} duplicate, {refused:,} refused",
            "verified by secret (last 24 h):",
        ]
        for use in self.secrets:
            where = (
                f"{_ORDINALS.get(use.position, f'{use.position}th')} in BILLOGET_WEBHOOK_SECRET"
                if use.position is not None
                else "no longer configured"
            )
            out.append(f"  {use.fingerprint}  {use.verified:>9,}  ({where})")
        if not self.secrets:
            out.append("  (no secret configured and none seen)")
        out.append("refusals by reason (last 24 h / last hour):")
        reasons = [r for r in REFUSALS if day.get(r, 0)]
        for reason in reasons:
            out.append(
                f"  {reason:<20} {day.get(reason, 0):>7,} / {self.refusals_hour.get(reason, 0):,}"
            )
        if not reasons:
            out.append("  none")
        if self.skew_count:
            out.append(
                f"clock skew, now - webhook-timestamp (last 24 h, {self.skew_count:,} verified): "
                f"p50 {_seconds(self.skew_p50_s)}, p99 {_seconds(self.skew_p99_s)}"
            )
        else:
            out.append("clock skew: no verified delivery in the last 24 h")
        waiting = sum(n for s, n in self.counts.items() if s not in ("processed", "dead"))
        line = (
            f"events now: {self.counts.get('processed', 0):,} processed, "
            f"{self.counts.get('dead', 0):,} dead, {waiting:,} waiting"
        )
        if waiting:
            line += f" (the oldest for {span(self.backlog_age_s)})"
        out.append(line)
        out.extend(self.advice)
        out.append(f"=> {self.sentence}")
        return out


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:+.1f} s" if abs(value) < 100 else f"{value:+.0f} s"


def _ordinal_list(secrets: Sequence[WebhookSecret]) -> list[str]:
    return [s.fingerprint() for s in secrets]


def commonest_failure(
    refusals: dict[str, int], when: str, *, tolerance_s: int, max_body_bytes: int
) -> str | None:
    """One plain sentence for the commonest refusal in ``refusals`` (None: there was none)."""
    if not any(refusals.values()):
        return None
    reason = max(REFUSALS, key=lambda r: refusals.get(r, 0))
    n = refusals[reason]
    these = f"{n:,} {'delivery' if n == 1 else 'deliveries'} {when}"
    were = "was" if n == 1 else "were"
    return {
        "invalid_signature": f"{these} {were} signed with a secret we do not have: did the "
        "secret rotate in Billoget? Put the new whsec_... secret in BILLOGET_WEBHOOK_SECRET "
        "(keep the old one beside it until nothing verifies with it).",
        "timestamp_too_old": f"{these} carried a webhook-timestamp more than {tolerance_s} s "
        "old: is this machine's clock ahead (check NTP), or is something holding requests "
        "back or replaying old ones?",
        "timestamp_in_future": f"{these} carried a webhook-timestamp more than {tolerance_s} s "
        "in the future: is this machine's clock behind? Check NTP.",
        "missing_headers": f"{n:,} {'request' if n == 1 else 'requests'} {when} lacked usable "
        "webhook-id, webhook-timestamp or webhook-signature headers: is a proxy stripping "
        "them, or is something other than Billoget posting to this URL?",
        "malformed_body": f"{these} {were} signed correctly but their body is not a Billoget "
        "envelope: is a proxy re-encoding request bodies?",
        "payload_too_large": f"{these} {were} larger than BILLOGET_MAX_BODY_BYTES "
        f"({max_body_bytes:,} bytes): raise it (and your proxy's body limit).",
        "id_mismatch": f"{these} had a webhook-id header that is not their "
        "metadata.delivery_id: the sender does not follow Billoget's delivery contract.",
        "ip_not_allowed": f"{these} came from addresses outside ALLOWED_SENDER_IPS: did "
        "Billoget's ranges change, or is your proxy missing from TRUSTED_PROXIES?",
        "overloaded": f"{these} {were} answered 503 because too many waited for the event store: "
        "it cannot keep up with the load (Billoget retries them).",
        "store_unavailable": f"{these} {were} answered 503 because the event store could not "
        "commit: check its disk and DATABASE_URL (Billoget retries them).",
    }[reason]


def diagnose(
    store: EventStore,
    secrets: Sequence[WebhookSecret],
    *,
    tolerance_s: int,
    max_body_bytes: int,
    now: float | None = None,
) -> Diagnosis:
    """Blocking (store reads): run it on a thread from async code."""
    now = time.time() if now is None else now
    day = store.delivery_stats(utc_text(now - DAY_S))
    hour = store.delivery_stats(utc_text(now - HOUR_S))
    results_day = {k: int(v) for (kind, k), v in day.items() if kind == RESULT_KIND}
    refusals_hour = {
        k: int(v) for (kind, k), v in hour.items() if kind == RESULT_KIND and k in REFUSALS
    }
    configured = _ordinal_list(secrets)
    seen = {k: int(v) for (kind, k), v in day.items() if kind == SECRET_KIND}
    uses = [SecretUse(fp, i + 1, seen.get(fp, 0)) for i, fp in enumerate(configured)]
    uses += [SecretUse(fp, None, n) for fp, n in sorted(seen.items()) if fp not in configured]
    skew = {k: v for (kind, k), v in day.items() if kind == SKEW_KIND}
    counts = store.counts()
    oldest = epoch_of(store.oldest_unprocessed_at())
    sentence = commonest_failure(
        refusals_hour, "in the last hour", tolerance_s=tolerance_s, max_body_bytes=max_body_bytes
    ) or commonest_failure(
        {r: results_day.get(r, 0) for r in REFUSALS},
        "in the last 24 h",
        tolerance_s=tolerance_s,
        max_body_bytes=max_body_bytes,
    )
    if sentence is None:
        stored = results_day.get(STORED, 0) + results_day.get(DUPLICATE, 0)
        sentence = (
            f"No delivery was refused in the last 24 h ({stored:,} accepted)."
            if stored
            else "No delivery reached this receiver in the last 24 h: is its URL registered in "
            "Billoget? `billoget-hooks selfcheck` tries a round trip."
        )
    verified = sum(u.verified for u in uses)
    advice = [
        f"secret {u.fingerprint} verified nothing in the last 24 h: once Billoget signs only "
        "with the other one, it can go from BILLOGET_WEBHOOK_SECRET"
        for u in uses
        if u.position is not None and u.verified == 0 and verified and len(configured) > 1
    ]
    return Diagnosis(
        at=utc_text(now),
        secrets=uses,
        results_day=results_day,
        refusals_hour=refusals_hour,
        skew_p50_s=quantile(0.5, skew),
        skew_p99_s=quantile(0.99, skew),
        skew_count=int(skew.get("+Inf", 0)),
        counts=counts,
        backlog_age_s=0.0 if oldest is None else max(0.0, now - oldest),
        sentence=sentence,
        advice=advice,
    )
