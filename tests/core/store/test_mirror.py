"""The SQLite mirror: its writers take turns on one connection; ids and times normalised.

The conditional writes (newest wins, tombstones final) are in test_conformance.py, on both
stores."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from core.store.sqlite.mirror import SQLiteMirror, normalize_id
from core.store.sqlite.store import SQLiteEventStore

T1, T2, T3 = (
    "2024-01-01T00:00:01.000000Z",
    "2024-01-01T00:00:02.000000Z",
    "2024-01-01T00:00:03.000000Z",
)


@pytest.mark.parametrize("bad", [True, "", "  ", 1.5])
def test_entity_ids_must_be_integers_or_strings(bad: object) -> None:
    with pytest.raises(ValueError):
        normalize_id(bad)  # type: ignore[arg-type]


def test_the_worker_store_threads_take_turns_without_sqlites_busy_wait(tmp_path: Path) -> None:
    # no busy timeout at all: two threads in BEGIN IMMEDIATE at once would fail ("locked")
    store = SQLiteEventStore(tmp_path / "m.db", busy_timeout_ms=0, single_writer=True)
    store.migrate()
    mirror = SQLiteMirror(store)
    errors: list[BaseException] = []

    def upserts(thread: int) -> None:
        try:
            for i in range(50):
                mirror.upsert_entity(
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
    reopened = SQLiteEventStore(tmp_path / "m.db")
    assert len(SQLiteMirror(reopened).list_entities("customer")) == 8 * 50
    reopened.close()


def test_the_worker_store_writes_on_one_connection_and_reads_on_each_threads_own(
    tmp_path: Path,
) -> None:
    store = SQLiteEventStore(tmp_path / "m.db", single_writer=True)
    store.migrate()
    mirror = SQLiteMirror(store)
    used: list[tuple[sqlite3.Connection, sqlite3.Connection]] = []

    def write_then_read(n: int) -> None:
        with store.write() as conn:
            written_on = conn
        mirror.upsert_entity(
            "customer", n, data={"id": n}, updated_at=T1, fetched_at=T3, delivery_id=None
        )
        assert mirror.get_entity("customer", n) is not None
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
