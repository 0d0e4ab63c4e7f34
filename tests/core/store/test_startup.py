"""Start-up against a busy store: wait it out with a bound, never crash on the first lock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import StoreUnavailableError
from core.store import migrate_when_ready
from core.store.sqlite.store import SQLiteEventStore


@pytest.fixture
def locked_db(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN EXCLUSIVE")
    yield path, holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def test_migration_waits_for_a_lock_that_is_released(
    locked_db: tuple[Path, sqlite3.Connection],
) -> None:
    path, holder = locked_db
    store = SQLiteEventStore(path, busy_timeout_ms=20)
    threading.Timer(0.5, holder.execute, args=("COMMIT",)).start()
    try:
        migrate_when_ready(store, timeout_s=10)
        assert store.counts()["received"] == 0
    finally:
        store.close()


def test_migration_gives_up_after_its_timeout_with_the_store_error(
    locked_db: tuple[Path, sqlite3.Connection],
) -> None:
    store = SQLiteEventStore(locked_db[0], busy_timeout_ms=20)
    try:
        with pytest.raises(StoreUnavailableError):
            migrate_when_ready(store, timeout_s=0.5)
    finally:
        store.close()
