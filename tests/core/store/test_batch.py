"""The receiver's group commit: ``commit_batch`` inserts, reports duplicates, marks queued."""

from __future__ import annotations

from core.store import NewDelivery, Outcome, Result, Status
from core.store.sqlite.store import SQLiteEventStore


def _delivery(n: int) -> NewDelivery:
    delivery_id = f"dlv_batch_{n:04d}"
    return NewDelivery(
        delivery_id=delivery_id,
        event_type="budget.updated",
        event_timestamp="2025-03-14T09:26:53.000000Z",
        webhook_timestamp=1_700_000_000,
        body=b'{"metadata": {"delivery_id": "%s"}}' % delivery_id.encode(),
    )


def test_commit_batch_stores_every_field_of_a_batch_larger_than_one_chunk(
    store: SQLiteEventStore,
) -> None:
    batch = [_delivery(n) for n in range(347)]
    assert store.commit_batch(batch) == [True] * 347
    for d in (batch[0], batch[255], batch[346]):
        event = store.get(d.delivery_id)
        assert event is not None
        assert (event.event_type, event.status, event.body) == (
            d.event_type,
            Status.RECEIVED,
            d.body,
        )
        assert (event.event_timestamp, event.webhook_timestamp) == (
            d.event_timestamp,
            d.webhook_timestamp,
        )


def test_commit_batch_marks_the_given_ids_queued_in_the_same_transaction(
    store: SQLiteEventStore,
) -> None:
    store.commit_batch([_delivery(n) for n in range(20)])
    store.apply_worker_writes([Outcome("dlv_batch_0003", Result.PROCESSED, "done")])
    relayed = [f"dlv_batch_{n:04d}" for n in range(10)]
    assert store.commit_batch([_delivery(20)], queued_ids=relayed) == [True]
    counts = store.counts()
    assert (counts["queued"], counts["processed"], counts["received"]) == (9, 1, 11)
    event = store.get("dlv_batch_0000")
    assert event is not None and event.queued_at is not None


def test_commit_batch_with_only_marks_and_no_deliveries_marks_them(
    store: SQLiteEventStore,
) -> None:
    store.commit_batch([_delivery(1), _delivery(2)])
    assert store.commit_batch([], queued_ids=["dlv_batch_0001", "dlv_unknown"]) == []
    assert store.counts()["queued"] == 1


def test_stage_batch_then_commit_stores_like_commit_batch(store: SQLiteEventStore) -> None:
    store.commit_batch([_delivery(1), _delivery(2)])
    staged = store.stage_batch(
        [_delivery(2), _delivery(3), _delivery(3)], queued_ids=["dlv_batch_0001"]
    )
    assert staged is not None
    assert staged.stored == [False, True, False]
    staged.commit()
    assert store.get("dlv_batch_0003") is not None
    assert store.counts()[Status.QUEUED] == 1


def test_a_rolled_back_staged_batch_stores_nothing(store: SQLiteEventStore) -> None:
    staged = store.stage_batch([_delivery(1)])
    assert staged is not None
    staged.rollback()
    assert store.get("dlv_batch_0001") is None
    assert store.commit_batch([_delivery(1)]) == [True]


def test_stage_batch_does_not_wait_for_a_lock_another_writer_holds(
    store: SQLiteEventStore,
) -> None:
    other = SQLiteEventStore(store.path)
    try:
        with other.write():
            assert store.stage_batch([_delivery(1)]) is None
        staged = store.stage_batch([_delivery(1)])
        assert staged is not None
        staged.commit()
        assert store.get("dlv_batch_0001") is not None
    finally:
        other.close()
