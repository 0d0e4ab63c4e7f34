"""The mirror's conditional writes: newest state wins, tombstones are final."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.store.sqlite.mirror import SQLiteMirrorStore, normalize_id

T1, T2, T3 = (
    "2024-01-01T00:00:01.000000Z",
    "2024-01-01T00:00:02.000000Z",
    "2024-01-01T00:00:03.000000Z",
)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[SQLiteMirrorStore]:
    store = SQLiteMirrorStore(tmp_path / "m.db")
    store.migrate()
    yield store
    store.close()


def _upsert(mirror: SQLiteMirrorStore, updated_at: str | None, name: str) -> bool:
    return mirror.upsert_entity(
        "budget",
        7,
        data={"id": 7, "name": name},
        updated_at=updated_at,
        fetched_at=T3,
        delivery_id="d",
    )


def test_a_newer_state_replaces_an_older_one(mirror: SQLiteMirrorStore) -> None:
    assert _upsert(mirror, T1, "old")
    assert _upsert(mirror, T2, "new")
    row = mirror.get_entity("budget", "7")
    assert row is not None and row.data == {"id": 7, "name": "new"} and row.updated_at == T2


def test_an_older_state_fetched_late_does_not_overwrite_a_newer_one(
    mirror: SQLiteMirrorStore,
) -> None:
    _upsert(mirror, T2, "new")
    assert not _upsert(mirror, T1, "old")
    row = mirror.get_entity("budget", 7)
    assert row is not None and row.data is not None and row.data["name"] == "new"


def test_a_tombstone_is_never_undone_by_a_later_upsert(mirror: SQLiteMirrorStore) -> None:
    _upsert(mirror, T1, "live")
    assert mirror.tombstone_entity("budget", 7, deleted_at=T2, delivery_id="del")
    assert not _upsert(mirror, T3, "resurrected")
    assert not mirror.tombstone_entity("budget", 7, deleted_at=T3, delivery_id="again")
    row = mirror.get_entity("budget", 7)
    assert row is not None and row.deleted and row.deleted_at == T2
    assert row.data == {"id": 7, "name": "live"}


def test_a_delete_seen_before_any_state_still_leaves_a_tombstone(
    mirror: SQLiteMirrorStore,
) -> None:
    assert mirror.tombstone_entity("customer", "c-1", deleted_at=T1, delivery_id=None)
    assert not mirror.upsert_entity(
        "customer", "c-1", data={}, updated_at=T2, fetched_at=T3, delivery_id=None
    )
    assert [r.id for r in mirror.list_entities("customer", include_deleted=False)] == []


@pytest.mark.parametrize("bad", [True, "", "  ", 1.5])
def test_entity_ids_must_be_integers_or_strings(bad: object) -> None:
    with pytest.raises(ValueError):
        normalize_id(bad)  # type: ignore[arg-type]


def test_the_worker_store_threads_take_turns_without_sqlites_busy_wait(tmp_path: Path) -> None:
    # no busy timeout at all: two threads in BEGIN IMMEDIATE at once would fail ("locked")
    store = SQLiteMirrorStore(tmp_path / "m.db", busy_timeout_ms=0)
    store.migrate()
    errors: list[BaseException] = []

    def upserts(thread: int) -> None:
        try:
            for i in range(50):
                store.upsert_entity(
                    "customer",
                    f"{thread}-{i}",
                    data={"id": i},
                    updated_at=T1,
                    fetched_at=T3,
                    delivery_id=None,
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upserts, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    store.close()
    assert errors == []
    reopened = SQLiteMirrorStore(tmp_path / "m.db")
    assert len(reopened.list_entities("customer")) == 8 * 50
    reopened.close()


def test_the_worker_store_writes_on_one_connection_and_reads_on_each_threads_own(
    tmp_path: Path,
) -> None:
    store = SQLiteMirrorStore(tmp_path / "m.db")
    store.migrate()
    used: list[tuple[sqlite3.Connection, sqlite3.Connection]] = []

    def write_then_read(n: int) -> None:
        with store._write() as conn:
            written_on = conn
        store.upsert_entity(
            "customer", n, data={"id": n}, updated_at=T1, fetched_at=T3, delivery_id=None
        )
        assert store.get_entity("customer", n) is not None
        used.append((written_on, store._connect()))

    threads = [threading.Thread(target=write_then_read, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    store.close()
    writes, reads = {id(w) for w, _ in used}, {id(r) for _, r in used}
    assert len(used) == 3 and len(writes) == 1 and len(reads) == 3
    assert not reads & writes
