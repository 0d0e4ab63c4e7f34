"""``open_store``: the backend from ``DATABASE_URL``; one line and exit 2 when it cannot be."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from billoget_hooks.cli import main
from core.errors import ConfigError
from core.settings import Settings
from core.store import open_store, open_worker_stores
from core.store.postgres import PostgresEventStore, PostgresMirror
from core.store.sqlite.store import SQLiteEventStore
from tests.fixtures.procs import free_port


def test_a_sqlite_url_opens_the_sqlite_store(make_settings: Callable[..., Settings]) -> None:
    store = open_store(make_settings())
    try:
        assert isinstance(store, SQLiteEventStore)
    finally:
        store.close()


def test_a_postgresql_url_opens_the_postgresql_store_and_its_mirror(
    make_settings: Callable[..., Settings], postgres_url: str
) -> None:
    for url in (postgres_url, postgres_url.replace("postgresql://", "postgres://", 1)):
        store, mirror = open_worker_stores(make_settings(database_url=url))
        try:
            assert isinstance(store, PostgresEventStore) and isinstance(mirror, PostgresMirror)
            assert store.pending_migrations() == []
        finally:
            store.close()


@pytest.mark.parametrize("url", ["mysql://db/x", "events.db", "redis://127.0.0.1:6379/0"])
def test_an_unknown_scheme_is_a_configuration_error_naming_it(
    make_settings: Callable[..., Settings], url: str
) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL: unsupported scheme"):
        open_store(make_settings(database_url=url))


def test_an_unreachable_database_stops_after_the_bounded_wait_with_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    port = free_port()  # nothing listens there
    monkeypatch.setenv("DATABASE_URL", f"postgresql://bh:s3cret-pw@127.0.0.1:{port}/bh")
    monkeypatch.setenv("DATABASE_STARTUP_WAIT_S", "1")
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    assert main(["migrate"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"127.0.0.1:{port}/bh" in lines[0] and "s3cret-pw" not in lines[0]
    assert "configuration error" in lines[0]


def test_migrate_dry_run_prints_the_pending_sql_and_applies_nothing(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_database: Callable[[], str],
) -> None:
    monkeypatch.chdir(tmp_path)
    url = make_database()
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "-- migration 1 (events)" in printed and "CREATE TABLE events" in printed
    assert "7 pending migration(s)" in printed
    assert main(["migrate"]) == 0
    assert "applied 7 migration(s)" in capsys.readouterr().out
    assert main(["migrate", "--dry-run"]) == 0
    assert "0 pending migration(s)" in capsys.readouterr().out


def test_processes_starting_at_once_migrate_one_at_a_time(
    make_database: Callable[[], str],
) -> None:
    import threading

    url = make_database()
    stores = [PostgresEventStore(url) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def migrate(store: PostgresEventStore) -> None:
        barrier.wait()
        try:
            store.migrate()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert errors == []
        assert stores[0].pending_migrations() == []
        assert stores[0].read("SELECT COUNT(*) FROM schema_migrations") == [(7,)]
    finally:
        for s in stores:
            s.close()
