"""Retention from the outside: ``billoget-hooks prune`` and the receiver's background prune."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from billoget_hooks.cli import main
from core.settings import Settings
from core.store import NewDelivery, Outcome, Result
from core.store.retention import DAY_S, cutoffs, prune_all
from core.store.sqlite.store import SQLiteEventStore
from core.times import format_time
from tests.fixtures.receiver import MakeReceiver, eventually


def _delivery(n: int) -> NewDelivery:
    return NewDelivery(f"dlv_r{n}", "budget.updated", "2025-01-01T00:00:00Z", 1, b'{"x": 1}')


def test_ids_are_kept_for_the_horizon_even_when_bodies_go_sooner() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    bodies, ids = cutoffs(older_than_s=DAY_S, keep_ids_s=7 * DAY_S, now=now)
    assert bodies == format_time(now - timedelta(days=1))
    assert ids == format_time(now - timedelta(days=7))
    bodies, ids = cutoffs(older_than_s=30 * DAY_S, keep_ids_s=7 * DAY_S, now=now)
    assert bodies == ids == format_time(now - timedelta(days=30))


def test_prune_all_goes_batch_by_batch_until_nothing_is_left(store: SQLiteEventStore) -> None:
    store.commit_batch([_delivery(n) for n in range(12)])
    store.apply_worker_writes([Outcome(f"dlv_r{n}", Result.PROCESSED, "ok") for n in range(10)])
    seen: list[int] = []
    later = datetime.now(UTC) + timedelta(days=40)
    result = prune_all(
        store,
        older_than_s=30 * DAY_S,
        keep_ids_s=7 * DAY_S,
        batch=4,
        now=later,
        each=lambda r: seen.append(r.deleted),
    )
    assert (result.emptied, result.deleted) == (0, 10)
    assert seen == [4, 8, 10]
    assert store.counts()["received"] == 2


def test_the_prune_command_keeps_recent_events_and_says_what_it_did(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    store: SQLiteEventStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{store.path}")
    store.commit_batch([_delivery(1)])
    store.apply_worker_writes([Outcome("dlv_r1", Result.PROCESSED, "ok")])
    assert main(["prune", "--older-than", "30d"]) == 0
    assert "emptied 0 body(ies), deleted 0 event(s)" in capsys.readouterr().out
    assert main(["prune", "--older-than", "soon"]) == 2
    assert "--older-than 'soon' is not a duration" in capsys.readouterr().err
    event = store.get("dlv_r1")
    assert event is not None and event.body == b'{"x": 1}'


async def test_the_receiver_prunes_in_the_background_when_retention_is_set(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    receiver_redis_url: str,
    store: SQLiteEventStore,
) -> None:
    settings = make_settings(
        redis_url=receiver_redis_url,
        retention_days=0.5 / DAY_S,  # half a second
        retention_interval_s=0.1,
    )
    store.commit_batch([_delivery(1), _delivery(2)])
    store.apply_worker_writes([Outcome("dlv_r1", Result.DEAD, "boom")])
    await make_receiver(settings=settings)

    def emptied() -> bool:
        event = store.get("dlv_r1")
        return event is not None and event.body == b""

    await eventually(emptied, what="the dead event's body emptied")
    kept = store.get("dlv_r2")
    assert kept is not None and kept.body == b'{"x": 1}'  # not done: never touched
    assert store.commit_batch([_delivery(1)]) == [False]  # its id still stops a retry
