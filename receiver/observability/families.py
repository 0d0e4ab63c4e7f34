"""The receiver's own metric families, on a registry of its own (one per app).

- ``billoget_hooks_deliveries_total{result}``: ``stored``, ``duplicate`` or the refusal reason
  (the ``reason`` of the :mod:`core.errors` error that refused it); every result is exported
  from the start, at 0;
- ``billoget_hooks_signature_matches_total{secret}``: which configured secret verified, by its
  fingerprint (:meth:`core.signing.WebhookSecret.fingerprint`), never the secret;
- ``billoget_hooks_clock_skew_seconds``: now minus ``webhook-timestamp`` of verified deliveries
  (positive: the sender's clock is behind ours, or the delivery took that long);
- ``billoget_hooks_commit_duration_seconds`` and ``billoget_hooks_commit_batch_size``: the group
  commit, per batch;
- ``billoget_hooks_last_delivery_timestamp_seconds``: Unix time of the latest verified delivery
  (this process's, or the store's when newer: other receivers share it).

The hot path calls :meth:`ReceiverMetrics.verified` and :meth:`ReceiverMetrics.stored` (or
:meth:`ReceiverMetrics.refused`): children are bound once here, so a delivery costs two counter
increments and one histogram observation, no allocation of ours.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.utils import floatToGoString

STORED, DUPLICATE = "stored", "duplicate"
# the 401s: what the signature-failure alert counts
VERIFICATION_FAILURES = (
    "invalid_signature",
    "timestamp_too_old",
    "timestamp_in_future",
    "missing_headers",
)
REFUSALS = (
    *VERIFICATION_FAILURES,
    "malformed_body",
    "payload_too_large",
    "id_mismatch",
    "ip_not_allowed",
    "overloaded",
    "store_unavailable",
)
RESULTS = (STORED, DUPLICATE, *REFUSALS)
# now - webhook-timestamp; the tolerance (300 s by default) bounds what verifies
SKEW_BUCKETS = (-300, -60, -10, -2, -0.5, 0, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
COMMIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

# kinds of the per-minute counters kept in the store (core.store: delivery_stats)
RESULT_KIND, SECRET_KIND, SKEW_KIND = "result", "secret", "skew"


class ReceiverMetrics:
    def __init__(self, fingerprints: Sequence[str]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._deliveries = Counter(
            "billoget_hooks_deliveries",
            "Deliveries answered by the webhook endpoint, by result (stored, duplicate, or why "
            "it was refused).",
            ["result"],
            registry=self.registry,
        )
        self._results = {r: self._deliveries.labels(result=r) for r in RESULTS}
        self._matches_family = Counter(
            "billoget_hooks_signature_matches",
            "Verified deliveries by the fingerprint of the configured secret that matched.",
            ["secret"],
            registry=self.registry,
        )
        self.fingerprints = list(fingerprints)
        self._matches = [self._matches_family.labels(secret=fp) for fp in self.fingerprints]
        self._skew = LoopHistogram(
            "billoget_hooks_clock_skew_seconds",
            "Now minus webhook-timestamp of verified deliveries.",
            SKEW_BUCKETS,
        )
        self.registry.register(self._skew)
        self._commit_duration = Histogram(
            "billoget_hooks_commit_duration_seconds",
            "Time from starting a group commit to its being durable.",
            buckets=COMMIT_BUCKETS,
            registry=self.registry,
        )
        self._commit_batch = Histogram(
            "billoget_hooks_commit_batch_size",
            "Deliveries per group commit.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.last_delivery_s = 0.0
        last = Gauge(
            "billoget_hooks_last_delivery_timestamp_seconds",
            "Unix time of the latest verified delivery (0: none yet).",
            registry=self.registry,
        )
        last.set_function(lambda: self.last_delivery_s)  # read at scrape time, never set

    # -- the hot path --------------------------------------------------------------------------

    def verified(self, secret_index: int, now: float, webhook_ts: int) -> None:
        """:attr:`receiver.ingest.Ingestor.on_verified`."""
        self._matches[secret_index].inc()
        self._skew.observe(now - webhook_ts)
        if now > self.last_delivery_s:
            self.last_delivery_s = now

    def stored(self, is_new: bool) -> None:
        self._results[STORED if is_new else DUPLICATE].inc()

    def refused(self, reason: str) -> None:
        child = self._results.get(reason)
        if child is not None:
            child.inc()

    def committed(self, size: int, seconds: float) -> None:
        """:class:`receiver.batcher.GroupCommitter`'s ``on_batch``."""
        self._commit_batch.observe(size)
        self._commit_duration.observe(seconds)

    # -- off the hot path ----------------------------------------------------------------------

    def delivery_seen_at(self, when: float) -> None:
        """A newer delivery is in the store (another receiver, or before a restart)."""
        if when > self.last_delivery_s:
            self.last_delivery_s = when

    def totals(self) -> dict[tuple[str, str], float]:
        """(kind, key) → the running total, for the per-minute counters in the store: results,
        secret fingerprints and the skew histogram's cumulative buckets (key: ``le``)."""
        found: dict[tuple[str, str], float] = {}
        for kind, family, label in (
            (RESULT_KIND, self._deliveries, "result"),
            (SECRET_KIND, self._matches_family, "secret"),
        ):
            for metric in family.collect():
                for sample in metric.samples:
                    if sample.name.endswith("_total"):
                        found[(kind, sample.labels[label])] = sample.value
        for metric in self._skew.collect():
            for sample in metric.samples:
                if sample.name.endswith("_bucket"):
                    found[(SKEW_KIND, sample.labels["le"])] = sample.value
        return found


class LoopHistogram:
    """A histogram observed from the event loop only, for the hot path: an observation is a
    bisect and two additions (prometheus_client's Histogram takes a lock per bucket and per
    sum: ~1.6 µs against ~0.3 µs, measured with timeit). A scrape reads it from another thread:
    at worst it sees an observation in the buckets and not yet in the sum."""

    def __init__(self, name: str, documentation: str, bounds: Sequence[float]) -> None:
        self._name = name
        self._documentation = documentation
        self._bounds = [float(b) for b in bounds]
        self._labels = [floatToGoString(b) for b in self._bounds] + ["+Inf"]
        self._counts = [0] * (len(self._bounds) + 1)  # per bucket, not cumulative
        self._sum = 0.0

    def observe(self, value: float) -> None:
        self._counts[bisect_left(self._bounds, value)] += 1  # le: value <= bound
        self._sum += value

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        # built by hand: HistogramMetricFamily leaves out _count and _sum when a bucket is
        # negative (an OpenMetrics rule); the classic text format, like Histogram, keeps them
        metric = Metric(self._name, self._documentation, "histogram")
        running = 0
        for label, count in zip(self._labels, list(self._counts), strict=True):
            running += count
            metric.add_sample(f"{self._name}_bucket", {"le": label}, running)
        metric.add_sample(f"{self._name}_count", {}, running)
        metric.add_sample(f"{self._name}_sum", {}, self._sum)
        yield metric


def verification_failures(totals: dict[tuple[str, str], float]) -> float:
    """The 401s among :meth:`ReceiverMetrics.totals`."""
    return sum(totals.get((RESULT_KIND, r), 0.0) for r in VERIFICATION_FAILURES)
