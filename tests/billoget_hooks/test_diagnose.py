"""``billoget-hooks diagnose``: what a real receiver counted, said in words."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from billoget_hooks.cli import main
from core.settings import Settings
from core.signing import WebhookSecret
from core.store.sqlite.store import SQLiteEventStore
from receiver.observability.stats import quantile
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET
from tests.fixtures.receiver import MakeReceiver, ReceiverClient, eventually, post_delivery

UNKNOWN_SECRET = WebhookSecret(b"a secret nobody configured!!").encode()


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., tuple[int, str]]:
    for name in list(os.environ):
        if name.startswith("BILLOGET_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_path}")

    def run(*args: str, secret: str = TEST_SECRET) -> tuple[int, str]:
        monkeypatch.setenv("BILLOGET_WEBHOOK_SECRET", secret)
        code = main(list(args))
        return code, capsys.readouterr().out

    return run


async def receiver(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings], **overrides: Any
) -> ReceiverClient:
    return await make_receiver(settings=make_settings(alert_check_interval_s=0.05, **overrides))


async def recorded(store: SQLiteEventStore, kind: str, key: str, count: int) -> None:
    await eventually(
        lambda: store.delivery_stats("2000-01-01T00:00").get((kind, key)) == count,
        what=f"{kind} {key} = {count} in the store",
    )


async def test_diagnose_names_a_rotated_secret_in_one_sentence(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
    run_cli: Callable[..., tuple[int, str]],
) -> None:
    client = await receiver(make_receiver, make_settings)
    now = int(time.time())
    for n in range(3):
        assert (await post_delivery(client, f"dlv_d_{n}", timestamp=now - 1))[0] == 200
    for n in range(4):
        assert (await post_delivery(client, f"dlv_rot_{n}", secret=UNKNOWN_SECRET))[0] == 401
    await recorded(store, "result", "invalid_signature", 4)
    await recorded(store, "result", "stored", 3)

    code, out = run_cli("diagnose")
    assert code == 0
    fingerprint = WebhookSecret.parse(TEST_SECRET).fingerprint()
    assert "deliveries in the last 24 h: 3 stored, 0 duplicate, 4 refused" in out
    assert f"  {fingerprint}          3  (1st in BILLOGET_WEBHOOK_SECRET)" in out
    assert "  invalid_signature          4 / 4" in out
    assert "clock skew, now - webhook-timestamp (last 24 h, 3 verified): p50 +" in out
    assert "events now: 0 processed, 0 dead, 3 waiting" in out
    assert out.splitlines()[-1].startswith(
        "=> 4 deliveries in the last hour were signed with a secret we do not have: "
        "did the secret rotate in Billoget?"
    )
    assert TEST_SECRET.removeprefix("whsec_") not in out

    _, out = run_cli("diagnose", "--json")
    data = json.loads(out)
    assert data["refusals_hour"] == {"invalid_signature": 4}
    assert data["secrets"] == [{"fingerprint": fingerprint, "position": 1, "verified": 3}]
    assert 0.5 <= data["skew_p50_s"] <= 2.0


async def test_diagnose_says_which_secret_can_go_after_a_rotation(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    store: SQLiteEventStore,
    run_cli: Callable[..., tuple[int, str]],
) -> None:
    both = f"{OTHER_SECRET} {TEST_SECRET}"  # the new one first, the old one kept
    client = await receiver(make_receiver, make_settings, billoget_webhook_secret=both)
    for n in range(2):
        assert (await post_delivery(client, f"dlv_new_{n}", secret=OTHER_SECRET))[0] == 200
    await recorded(store, "result", "stored", 2)

    code, out = run_cli("diagnose", secret=both)
    assert code == 0
    old = WebhookSecret.parse(TEST_SECRET).fingerprint()
    assert f"secret {old} verified nothing in the last 24 h: once Billoget signs only" in out
    assert out.splitlines()[-1] == "=> No delivery was refused in the last 24 h (2 accepted)."


async def test_diagnose_on_a_quiet_store_points_at_the_registration(
    store: SQLiteEventStore, run_cli: Callable[..., tuple[int, str]]
) -> None:
    code, out = run_cli("diagnose")
    assert code == 0
    assert "=> No delivery reached this receiver in the last 24 h" in out
    assert "refusals by reason (last 24 h / last hour):\n  none" in out


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.5, {"0.0": 0, "1.0": 10, "+Inf": 10}, 0.5),
        (0.5, {"0.0": 0, "1.0": 4, "2.0": 8, "+Inf": 8}, 1.0),
        (0.99, {"1.0": 0, "2.0": 100, "+Inf": 100}, 1.99),
        (0.5, {"1.0": 0, "2.0": 0, "+Inf": 5}, 2.0),  # all above the last bound: that bound
        (0.5, {"-2.0": 3, "0.0": 3, "+Inf": 3}, -2.0),  # all in the lowest bucket
        (0.5, {"1.0": 0, "+Inf": 0}, None),
        (0.5, {}, None),
    ],
)
def test_skew_quantiles_interpolate_inside_a_bucket_like_promql(
    q: float, buckets: dict[str, float], expected: float | None
) -> None:
    found = quantile(q, buckets)
    assert found == (None if expected is None else pytest.approx(expected))
