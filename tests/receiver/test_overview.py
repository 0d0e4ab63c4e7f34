"""The inspector overview's data functions, on a real receiver app and store."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.settings import Settings
from core.signing import WebhookSecret
from core.store.sqlite.store import SQLiteEventStore
from receiver.observability.overview import deliveries_per_minute, overview, warnings
from tests.fixtures.infra import TEST_SECRET
from tests.fixtures.receiver import MakeReceiver, eventually, post_delivery, signed


async def test_the_overview_gathers_counts_minutes_lag_secrets_and_warnings(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
) -> None:
    client = await make_receiver(settings=make_settings(alert_check_interval_s=0.05))
    for n in range(3):
        assert (await post_delivery(client, f"dlv_o_{n}"))[0] == 200
    body, headers = signed("dlv_o_bad")
    async with client.post("/webhooks/billoget", data=body + b"!", headers=headers) as resp:
        assert resp.status == 401
    store.start_attempt("dlv_o_0")
    store.mark_dead("dlv_o_0", reason="handler refused the event")
    await eventually(
        lambda: store.delivery_stats("2000-01-01T00:00").get(("result", "invalid_signature")) == 1,
        what="the counters in the store",
    )
    await eventually(
        lambda: [w["alert"] for w in warnings(client.app)] == ["dead_letters"],
        what="the dead-letter warning",
    )

    seen = await overview(client.app)
    assert seen.counts["dead"] == 1 and sum(seen.counts.values()) == 3
    assert len(seen.per_minute) == 60 and sum(n for _, n in seen.per_minute) == 3
    assert seen.per_minute[-1][0] == time.strftime("%Y-%m-%dT%H:%M", time.gmtime())
    assert seen.queue_lag_s >= 0 and seen.last_delivery_at is not None
    fingerprint = WebhookSecret.parse(TEST_SECRET).fingerprint()
    assert [(u.fingerprint, u.verified) for u in seen.diagnosis.secrets] == [(fingerprint, 3)]
    assert seen.diagnosis.sentence.startswith("1 delivery in the last hour was signed with a")
    assert [w["alert"] for w in seen.warnings] == ["dead_letters"]


def test_deliveries_per_minute_fills_quiet_minutes_with_zeros(store: SQLiteEventStore) -> None:
    minutes = deliveries_per_minute(store, now=time.time(), minutes=5)
    assert [n for _, n in minutes] == [0, 0, 0, 0, 0]
    assert minutes == sorted(minutes)
