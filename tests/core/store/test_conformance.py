"""One contract, proved on both stores: every test here runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import pytest

from core.store import (
    EventStore,
    MirrorStore,
    NewDelivery,
    Outcome,
    Result,
    StartAttempt,
    Status,
)
from core.store.inspect import EventFilter, InspectsEvents
from core.store.postgres import PostgresEventStore, PostgresMirror, PostgresMirrorStore
from core.store.reconcile import Coverage, ReconcileCursor, ReconcileStore, Repair
from core.store.sqlite.mirror import SQLiteMirror, SQLiteMirrorStore
from core.store.sqlite.store import SQLiteEventStore

S = TypeVar("S", bound=EventStore)

PAST, FUTURE = "2000-01-01T00:00:00.000000Z", "2999-01-01T00:00:00.000000Z"
T1, T2, T3 = (
    "2024-01-01T00:00:01.000000Z",
    "2024-01-01T00:00:02.000000Z",
    "2024-01-01T00:00:03.000000Z",
)


@dataclass
class Backend:
    store: EventStore
    mirror: MirrorStore
    another: Callable[[], EventStore]  # a second store on the same data (another process)
    reconciler: Callable[[], ReconcileStore]  # the store and its mirror as one, on the same data


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened: list[EventStore] = []

    def keep(store: S) -> S:
        opened.append(store)
        return store

    if request.param == "sqlite":
        path = tmp_path / "events.db"
        sqlite = SQLiteEventStore(path, single_writer=True)
        sqlite.migrate()
        yield Backend(
            sqlite,
            SQLiteMirror(sqlite),
            lambda: keep(SQLiteEventStore(path)),
            lambda: keep(SQLiteMirrorStore(path)),
        )
        sqlite.close()
    else:
        pg: PostgresEventStore = request.getfixturevalue("pg_store")
        yield Backend(
            pg,
            PostgresMirror(pg),
            lambda: keep(PostgresEventStore(pg.url)),
            lambda: keep(PostgresMirrorStore(pg.url, max_size=2)),
        )
    for store in opened:
        store.close()


def delivery(n: int | str, event_type: str = "budget.updated") -> NewDelivery:
    delivery_id = f"dlv_{n}"
    return NewDelivery(
        delivery_id=delivery_id,
        event_type=event_type,
        event_timestamp="2025-03-14T09:26:53.000000Z",
        webhook_timestamp=1_700_000_000,
        body=b'{"metadata": {"delivery_id": "%s"}, "bytes": "\\u00e9\x00"}' % delivery_id.encode(),
    )


def status_of(store: EventStore, n: int | str) -> Status:
    event = store.get(f"dlv_{n}")
    assert event is not None
    return event.status


# -- the receiver's group commit ----------------------------------------------------------------


def test_a_batch_stores_every_field_and_reports_repeats_inside_it_as_duplicates(
    backend: Backend,
) -> None:
    store = backend.store
    assert store.commit_batch([delivery(1)]) == [True]
    assert store.commit_batch([delivery(2), delivery(1), delivery(3), delivery(2)]) == [
        True,
        False,
        True,
        False,
    ]
    event = store.get("dlv_2")
    assert event is not None
    d = delivery(2)
    assert (event.event_type, event.status, event.body, event.attempts) == (
        d.event_type,
        Status.RECEIVED,
        d.body,
        0,
    )
    assert (event.event_timestamp, event.webhook_timestamp) == (d.event_timestamp, 1_700_000_000)
    assert store.counts() == {
        "received": 3,
        "queued": 0,
        "processed": 0,
        "failed": 0,
        "dead": 0,
    }


def test_one_id_committed_by_two_receivers_at_the_same_moment_is_stored_once_and_one_wins(
    backend: Backend,
) -> None:
    others = [backend.another() for _ in range(2)]
    for round_ in range(10):
        barrier = threading.Barrier(2)
        results: list[bool] = []

        def commit(
            store: EventStore, n: int, barrier: threading.Barrier, results: list[bool]
        ) -> None:
            barrier.wait()
            own = delivery(f"own_{id(store)}_{n}")
            results.append(store.commit_batch([delivery(f"race_{n}"), own])[0])

        threads = [
            threading.Thread(target=commit, args=(s, round_, barrier, results)) for s in others
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == [False, True], f"round {round_}"
    assert backend.store.counts()["received"] == 10 + 20


def test_a_batch_marks_relayed_ids_queued_in_its_transaction_but_never_a_done_one(
    backend: Backend,
) -> None:
    store = backend.store
    store.commit_batch([delivery(n) for n in range(5)])
    store.apply_worker_writes([Outcome("dlv_3", Result.PROCESSED, "done")])
    assert store.commit_batch([delivery(9)], queued_ids=[f"dlv_{n}" for n in range(5)]) == [True]
    assert [status_of(store, n) for n in range(5)] == [Status.QUEUED] * 3 + [
        Status.PROCESSED,
        Status.QUEUED,
    ]
    event = store.get("dlv_0")
    assert event is not None and event.queued_at is not None


def test_a_selfcheck_delivery_is_stored_processed_and_found_by_its_nonce(backend: Backend) -> None:
    store = backend.store
    store.commit_batch([replace(delivery(1), selfcheck_nonce="sc_1")])
    found = store.find_selfcheck("sc_1")
    assert found is not None and found.status is Status.PROCESSED
    assert found.outcome is not None and found.outcome.startswith("selfcheck")
    assert store.find_selfcheck("sc_2") is None
    assert store.due_for_relay(received_grace_s=-60, stale_after_s=-60, limit=10) == []


# -- every status transition ----------------------------------------------------------------------


def test_an_event_goes_received_queued_failed_queued_processed_counting_attempts(
    backend: Backend,
) -> None:
    store = backend.store
    store.commit_batch([delivery(1)])
    store.mark_queued(["dlv_1"])
    assert status_of(store, 1) is Status.QUEUED
    [started] = store.apply_worker_writes([StartAttempt("dlv_1")])
    assert started is not None and started.attempts == 0 and started.body == delivery(1).body
    store.apply_worker_writes([Outcome("dlv_1", Result.FAILED, "boom", FUTURE)])
    event = store.get("dlv_1")
    assert event is not None
    assert (event.status, event.attempts, event.last_error, event.next_attempt_at) == (
        Status.FAILED,
        1,
        "boom",
        FUTURE,
    )
    store.mark_queued(["dlv_1"])
    [again] = store.apply_worker_writes([StartAttempt("dlv_1")])
    assert again is not None and again.attempts == 1
    store.apply_worker_writes([Outcome("dlv_1", Result.PROCESSED, "mirrored")])
    event = store.get("dlv_1")
    assert event is not None
    assert (event.status, event.attempts, event.outcome) == (Status.PROCESSED, 2, "mirrored")
    assert event.processed_at is not None and event.next_attempt_at is None


def test_a_deferred_attempt_goes_back_to_queued_without_counting(backend: Backend) -> None:
    store = backend.store
    store.commit_batch([delivery(1)])
    store.apply_worker_writes(
        [StartAttempt("dlv_1"), Outcome("dlv_1", Result.DEFERRED, "waiting for the budget", FUTURE)]
    )
    event = store.get("dlv_1")
    assert event is not None
    assert (event.status, event.attempts, event.next_attempt_at) == (Status.QUEUED, 0, FUTURE)


def test_dead_is_final_and_failed_or_deferred_never_undo_a_done_event(backend: Backend) -> None:
    store = backend.store
    store.commit_batch([delivery(1), delivery(2)])
    store.apply_worker_writes(
        [
            StartAttempt("dlv_1"),
            Outcome("dlv_1", Result.DEAD, "PermanentError: no such budget"),
            Outcome("dlv_2", Result.PROCESSED, "ok"),
            Outcome("dlv_1", Result.FAILED, "late", FUTURE),
            Outcome("dlv_2", Result.DEFERRED, "late", FUTURE),
        ]
    )
    dead, done = store.get("dlv_1"), store.get("dlv_2")
    assert dead is not None and done is not None
    assert (dead.status, dead.outcome, dead.last_error) == (
        Status.DEAD,
        "dead",
        "PermanentError: no such budget",
    )
    assert done.status is Status.PROCESSED
    assert store.apply_worker_writes([StartAttempt("dlv_1"), StartAttempt("nope")]) == [None, None]
    store.mark_queued(["dlv_1", "dlv_2"])
    assert (status_of(store, 1), status_of(store, 2)) == (Status.DEAD, Status.PROCESSED)


def test_requeue_sends_a_done_event_back_as_received_with_no_attempts(backend: Backend) -> None:
    store = backend.store
    store.commit_batch([delivery(1)])
    store.apply_worker_writes([StartAttempt("dlv_1"), Outcome("dlv_1", Result.DEAD, "boom")])
    assert store.requeue(["dlv_1", "dlv_unknown"]) == 1
    event = store.get("dlv_1")
    assert event is not None
    assert (event.status, event.attempts, event.outcome) == (Status.RECEIVED, 0, None)


def test_list_events_filters_by_status_type_and_time_newest_first(backend: Backend) -> None:
    store = backend.store
    store.commit_batch([delivery(1), delivery(2, "customer.created")])
    store.commit_batch([delivery(3)])
    store.apply_worker_writes([Outcome("dlv_1", Result.PROCESSED, "ok")])
    assert [e.delivery_id for e in store.list_events()] == ["dlv_3", "dlv_1", "dlv_2"]
    assert [e.delivery_id for e in store.list_events(status=Status.RECEIVED)] == ["dlv_3", "dlv_2"]
    assert [e.delivery_id for e in store.list_events(event_type="customer.created")] == ["dlv_2"]
    assert store.list_events(since=FUTURE) == []
    assert len(store.list_events(since=PAST, limit=2)) == 2


# -- the sweeper's queries ------------------------------------------------------------------------


def test_the_sweeper_finds_received_rows_past_the_grace_only(backend: Backend) -> None:
    store = backend.store
    store.commit_batch([delivery(1), delivery(2)])
    assert store.due_for_relay(received_grace_s=3600, stale_after_s=3600, limit=10) == []
    due = store.due_for_relay(received_grace_s=-60, stale_after_s=3600, limit=10)
    assert sorted(i.delivery_id for i in due) == ["dlv_1", "dlv_2"]
    assert {i.event_type for i in due} == {"budget.updated"}
    assert len(store.due_for_relay(received_grace_s=-60, stale_after_s=3600, limit=1)) == 1


def test_the_sweeper_finds_stale_queued_and_overdue_failed_rows_but_not_waiting_ones(
    backend: Backend,
) -> None:
    store = backend.store
    store.commit_batch([delivery(n) for n in range(5)])
    store.mark_queued(["dlv_0", "dlv_1", "dlv_2"])
    store.apply_worker_writes(
        [
            Outcome("dlv_1", Result.DEFERRED, "budget", FUTURE),  # queued, waiting: not due
            Outcome("dlv_2", Result.FAILED, "boom", PAST),  # retry overdue by more than the period
            Outcome("dlv_3", Result.FAILED, "boom", FUTURE),  # retry pending
            Outcome("dlv_4", Result.PROCESSED, "ok"),
        ]
    )
    due = store.due_for_relay(received_grace_s=3600, stale_after_s=3600, limit=10)
    assert [i.delivery_id for i in due] == ["dlv_2"]
    due = store.due_for_relay(received_grace_s=3600, stale_after_s=-60, limit=10)
    assert sorted(i.delivery_id for i in due) == ["dlv_0", "dlv_2"]


# -- the mirror's conditional writes ----------------------------------------------------------


def _upsert(mirror: MirrorStore, updated_at: str | None, name: str, fetched_at: str = T3) -> bool:
    return mirror.upsert_entity(
        "customer",
        42,
        data={"id": 42, "name": name},
        updated_at=updated_at,
        fetched_at=fetched_at,
        delivery_id=f"dlv_{name}",
    )


def test_the_mirror_keeps_the_newest_updated_at_whatever_the_order(backend: Backend) -> None:
    mirror = backend.mirror
    assert _upsert(mirror, T2, "second")
    assert not _upsert(mirror, T1, "first")
    assert _upsert(mirror, T3, "third")
    row = mirror.get_entity("customer", "42")
    assert row is not None
    assert (row.id, row.data, row.updated_at, row.last_delivery_id) == (
        "42",
        {"id": 42, "name": "third"},
        T3,
        "dlv_third",
    )
    assert mirror.get_entity("budget", 42) is None


def test_the_mirror_without_updated_at_falls_back_to_the_fetch_time(backend: Backend) -> None:
    mirror = backend.mirror
    assert _upsert(mirror, None, "later", fetched_at=T2)
    assert not _upsert(mirror, None, "earlier", fetched_at=T1)
    row = mirror.get_entity("customer", 42)
    assert row is not None and row.data == {"id": 42, "name": "later"}


def test_a_tombstone_is_never_undone_by_a_late_update(backend: Backend) -> None:
    mirror = backend.mirror
    assert _upsert(mirror, T1, "alive")
    assert mirror.tombstone_entity("customer", 42, deleted_at=T2, delivery_id="dlv_del")
    assert not mirror.tombstone_entity("customer", 42, deleted_at=T3, delivery_id="dlv_del2")
    assert not _upsert(mirror, T3, "late update")
    row = mirror.get_entity("customer", 42)
    assert row is not None
    assert (row.deleted, row.deleted_at, row.data) == (True, T2, {"id": 42, "name": "alive"})
    assert [r.id for r in mirror.list_entities("customer", include_deleted=False)] == []
    assert [r.id for r in mirror.list_entities("customer")] == ["42"]


def test_a_delete_that_arrives_first_still_wins(backend: Backend) -> None:
    mirror = backend.mirror
    assert mirror.tombstone_entity("product", 7, deleted_at=T2, delivery_id=None)
    assert not mirror.upsert_entity(
        "product", 7, data={"id": 7}, updated_at=T1, fetched_at=T3, delivery_id=None
    )
    row = mirror.get_entity("product", 7)
    assert row is not None and row.deleted and row.data is None


# -- retention -------------------------------------------------------------------------------------


def test_retention_empties_old_bodies_keeps_their_ids_and_never_touches_undone_events(
    backend: Backend,
) -> None:
    store = backend.store
    store.commit_batch([delivery(n) for n in range(4)])
    store.apply_worker_writes(
        [Outcome("dlv_0", Result.PROCESSED, "ok"), Outcome("dlv_1", Result.DEAD, "boom")]
    )
    store.apply_worker_writes([Outcome("dlv_2", Result.FAILED, "boom", FUTURE)])
    assert store.prune(bodies_before=FUTURE, ids_before=PAST, limit=100) == (2, 0)
    assert store.prune(bodies_before=FUTURE, ids_before=PAST, limit=100) == (0, 0)
    emptied = store.get("dlv_0")
    assert emptied is not None and emptied.body == b"" and emptied.status is Status.PROCESSED
    for n in (2, 3):
        kept = store.get(f"dlv_{n}")
        assert kept is not None and kept.body == delivery(n).body
    # a late retry of a pruned delivery is still a duplicate
    assert store.commit_batch([delivery(0), delivery(1)]) == [False, False]


def test_retention_deletes_done_events_past_the_id_horizon_in_small_batches(
    backend: Backend,
) -> None:
    store = backend.store
    store.commit_batch([delivery(n) for n in range(5)])
    store.apply_worker_writes([Outcome(f"dlv_{n}", Result.PROCESSED, "ok") for n in range(4)])
    assert store.prune(bodies_before=FUTURE, ids_before=FUTURE, limit=3) == (0, 3)
    assert store.prune(bodies_before=FUTURE, ids_before=FUTURE, limit=3) == (0, 1)
    assert store.counts() == {"received": 1, "queued": 0, "processed": 0, "failed": 0, "dead": 0}
    assert store.commit_batch([delivery(0)]) == [True]  # past the horizon: a new delivery


# -- the relay sweeper's lease, the self-check's records, migrations --------------------------


def test_one_sweeper_lease_holder_at_a_time_and_the_next_takes_over_on_release(
    backend: Backend,
) -> None:
    first, second = backend.store.sweeper_lease(), backend.another().sweeper_lease()
    try:
        assert first.held()
        assert first.held()
        assert not second.held()
        first.release()
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()


def test_the_selfcheck_throttle_allows_one_call_per_interval_across_processes(
    backend: Backend,
) -> None:
    store, other = backend.store, backend.another()
    assert store.claim_selfcheck_slot(min_interval_s=6, now=1000.0) == 0.0
    assert other.claim_selfcheck_slot(min_interval_s=6, now=1002.0) == pytest.approx(4.0)
    assert other.claim_selfcheck_slot(min_interval_s=6, now=1006.5) == 0.0


def test_selfcheck_reports_are_kept_and_the_latest_is_read_back(backend: Backend) -> None:
    store = backend.store
    assert store.last_selfcheck() is None
    store.save_selfcheck('{"ok": false}', False)
    store.save_selfcheck('{"ok": true}', True)
    last = store.last_selfcheck()
    assert last is not None and last[1:] == (True, '{"ok": true}')
    store.check_writable()


def test_migrating_again_finds_nothing_pending(backend: Backend) -> None:
    assert backend.store.pending_migrations() == []
    backend.store.migrate()
    assert backend.store.pending_migrations() == []


# -- observability (issue 11) -------------------------------------------------------------------


def test_the_backlog_age_and_the_latest_delivery_are_read_from_the_events(
    backend: Backend,
) -> None:
    store = backend.store
    assert store.oldest_unprocessed_at() is None and store.last_received_at() is None
    store.commit_batch([delivery(1), delivery(2)])
    store.apply_worker_writes([Outcome("dlv_1", Result.PROCESSED, "ok")])
    oldest, latest = store.oldest_unprocessed_at(), store.last_received_at()
    assert oldest is not None and latest is not None and oldest <= latest
    [(minute, count)] = store.received_per_minute(since=PAST)
    assert latest.startswith(minute) and count == 2
    store.apply_worker_writes([Outcome("dlv_2", Result.DEAD, "boom")])
    assert store.oldest_unprocessed_at() is None


def test_delivery_stats_from_several_receivers_add_up_per_minute(backend: Backend) -> None:
    store, other = backend.store, backend.another()
    store.add_delivery_stats("2026-12-01T10:00:13.5Z", {("result", "stored"): 3})
    other.add_delivery_stats("2026-12-01T10:00", {("result", "stored"): 2, ("skew", "1"): 1})
    store.add_delivery_stats("2026-12-01T10:01", {("result", "invalid_signature"): 1})
    assert store.delivery_stats("2026-12-01T10:00") == {
        ("result", "stored"): 5,
        ("skew", "1"): 1,
        ("result", "invalid_signature"): 1,
    }
    assert store.prune_delivery_stats("2026-12-01T10:01") == 2
    assert other.delivery_stats(PAST) == {("result", "invalid_signature"): 1}


# -- the inspector's reads (core.store.inspect) ----------------------------------------------


def _with_entity(n: int, entity_id: int | str) -> NewDelivery:
    body = b'{"event": "budget.updated", "data": {"id": %s}}' % (
        str(entity_id).encode() if isinstance(entity_id, int) else b'"%s"' % entity_id.encode()
    )
    return replace(delivery(n), body=body)


def test_inspector_pages_go_newest_first_by_keyset_and_filter_by_entity(backend: Backend) -> None:
    store = backend.store
    assert isinstance(store, InspectsEvents)
    for n in range(5):
        store.commit_batch([_with_entity(n, 77 if n % 2 else f"c-{n}")])
    store.commit_batch([replace(delivery(9), body=b"not json")])
    first = store.page_events(EventFilter(), limit=4)
    assert [e.delivery_id for e in first] == ["dlv_9", "dlv_4", "dlv_3", "dlv_2"]
    rest = store.page_events(EventFilter(), before=first[-1].cursor, limit=4)
    assert [e.delivery_id for e in rest] == ["dlv_1", "dlv_0"]
    assert first[0].entity_id is None and first[1].entity_id == "c-4"
    by_entity = store.page_events(EventFilter(entity_id="77"))
    assert [e.delivery_id for e in by_entity] == ["dlv_3", "dlv_1"]
    assert store.count_events(EventFilter(entity_id="c-2")) == 1
    assert store.count_events(EventFilter(status=Status.RECEIVED, since=PAST)) == 6
    assert store.last_received() == first[0].received_at
    assert store.oldest_unfinished() == rest[-1].received_at


def test_an_events_history_lists_every_outcome_and_replay_but_not_a_late_failure(
    backend: Backend,
) -> None:
    store = backend.store
    assert isinstance(store, InspectsEvents)
    store.commit_batch([delivery(1)])
    store.apply_worker_writes(
        [StartAttempt("dlv_1"), Outcome("dlv_1", Result.FAILED, "boom", PAST)]
    )
    store.apply_worker_writes([StartAttempt("dlv_1"), Outcome("dlv_1", Result.DEAD, "404")])
    store.apply_worker_writes([Outcome("dlv_1", Result.FAILED, "late", FUTURE)])  # no effect
    store.requeue(["dlv_1"])
    history = [(a.attempt, a.result, a.detail) for a in store.attempts("dlv_1")]
    assert history == [(1, "failed", "boom"), (2, "dead", "404"), (0, "replayed", None)]
    store.apply_worker_writes([StartAttempt("dlv_1"), Outcome("dlv_1", Result.PROCESSED, "ok")])
    assert store.prune(bodies_before=FUTURE, ids_before=FUTURE, limit=10) == (0, 1)
    assert store.attempts("dlv_1") == []  # the history goes with its event


def test_the_resend_after_redis_lost_its_data_pages_through_every_unfinished_row(
    backend: Backend,
) -> None:
    store = backend.store
    store.commit_batch([delivery(n) for n in range(5)])
    store.mark_queued(["dlv_1"])
    store.apply_worker_writes(
        [Outcome("dlv_2", Result.FAILED, "boom", FUTURE), Outcome("dlv_3", Result.DEAD, "x")]
    )
    first = store.unfinished(before=FUTURE, limit=2)
    rest = store.unfinished(
        before=FUTURE, after=(first[-1].updated_at, first[-1].delivery_id), limit=10
    )
    seen = [u.delivery_id for u in first + rest]
    assert sorted(seen) == ["dlv_0", "dlv_1", "dlv_2", "dlv_4"] and len(set(seen)) == 4
    assert {u.delivery_id: u.status for u in first + rest}["dlv_2"] is Status.FAILED
    assert store.unfinished(before=PAST, limit=10) == []


# -- reconciliation's records (core.store.reconcile) ---------------------------------------------


def _mirrored(store: ReconcileStore, family: str, entity_id: int, fetched_at: str = T1) -> None:
    store.upsert_entity(
        family,
        entity_id,
        data={"id": entity_id},
        updated_at=None,
        fetched_at=fetched_at,
        delivery_id=None,
    )


def test_a_saved_reconcile_cursor_is_resumed_by_another_process_and_a_later_save_replaces_it(
    backend: Backend,
) -> None:
    store = backend.reconciler()
    assert store.reconcile_cursor("customer") is None
    store.save_reconcile_cursor(ReconcileCursor("customer", T1, 3, None))
    assert backend.reconciler().reconcile_cursor("customer") == ReconcileCursor(
        "customer", T1, 3, None
    )
    store.save_reconcile_cursor(ReconcileCursor("customer", None, 1, T2))
    assert backend.reconciler().reconcile_cursor("customer") == ReconcileCursor(
        "customer", None, 1, T2
    )
    assert store.reconcile_cursor("budget") is None  # each family has its own


def test_repairs_are_counted_by_kind_and_one_delivery_id_is_recorded_once(
    backend: Backend,
) -> None:
    store = backend.reconciler()
    assert store.reconcile_repair_counts() == {"missing": 0, "stale": 0, "gone": 0}
    store.record_repairs(
        [
            Repair("rec_1", "customer", "1", "missing"),
            Repair("rec_2", "customer", "2", "missing"),
            Repair("rec_3", "budget", "7", "gone"),
        ]
    )
    store.record_repairs([Repair("rec_1", "customer", "1", "missing")])  # again: no effect
    store.record_repairs([])
    assert store.reconcile_repair_counts() == {"missing": 2, "stale": 0, "gone": 1}


def test_coverage_counts_live_entities_and_those_confirmed_since_the_moment_asked(
    backend: Backend,
) -> None:
    store = backend.reconciler()
    for n in (1, 2, 3, 4):
        _mirrored(store, "customer", n)
    _mirrored(store, "product", 1)
    store.tombstone_entity("customer", 4, deleted_at=T2, delivery_id=None)
    store.confirm_entities("customer", [1, "4"], at=T3)  # a tombstone never counts
    store.confirm_entities("customer", [2], at=T1)  # confirmed before the moment asked
    store.confirm_entities("product", [], at=T3)
    assert store.mirror_coverage(confirmed_since=T2) == {
        "budget": Coverage(confirmed=0, total=0),
        "customer": Coverage(confirmed=1, total=3),
        "product": Coverage(confirmed=0, total=1),
    }
    assert store.mirror_coverage(confirmed_since=PAST)["customer"] == Coverage(2, 3)


def test_unconfirmed_live_ids_are_those_neither_confirmed_nor_fetched_since_the_pass_began(
    backend: Backend,
) -> None:
    store = backend.reconciler()
    for n in (1, 2, 9, 10, 11):
        _mirrored(store, "customer", n)
    _mirrored(store, "customer", 3, fetched_at=T3)  # written during the pass
    store.confirm_entities("customer", [2], at=T3)  # seen in the API during the pass
    store.confirm_entities("customer", [9], at=T1)  # seen in an earlier pass only
    store.tombstone_entity("customer", 11, deleted_at=T1, delivery_id=None)
    assert store.unconfirmed_live_ids("customer", before=T2) == ["1", "10", "9"]  # byte order
    assert store.unconfirmed_live_ids("budget", before=T2) == []
