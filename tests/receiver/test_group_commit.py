"""Where the group commit's ``COMMIT`` runs: on the event loop for a lone delivery on a quick
disk, on the store-writer thread for a busy batch or a slow disk; the 2xx waits for it either
way (receiver/batcher.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.errors import StoreUnavailableError
from core.store import NewDelivery
from core.store.sqlite.batch import SQLiteStagedBatch
from core.store.sqlite.store import SQLiteEventStore
from receiver.batcher import GroupCommitter

# the committers here allow inline commits while the average is under 50 ms, so that the real
# fsyncs of a busy test machine stay well inside it; the slow disk's 250 ms are far outside
INLINE_MAX_COMMIT_S = 0.05
SLOW_COMMIT_S = 0.25


def _delivery(n: int) -> NewDelivery:
    return NewDelivery(f"dlv_group_{n:04d}", "budget.updated", "2025-03-14T09:26:53Z", 1, b"{}")


class _Disk:
    """Stands in for the disk under the real store: each ``COMMIT`` first waits ``delay_s``
    (a slow fsync) or fails (a broken disk), and says which thread it ran on."""

    def __init__(self) -> None:
        self.delay_s = 0.0
        self.broken = False
        self.threads: list[int] = []


class _StagedOnDisk:
    def __init__(self, staged: SQLiteStagedBatch, disk: _Disk) -> None:
        self._staged, self._disk = staged, disk
        self.stored = staged.stored

    def commit(self) -> None:
        self._disk.threads.append(threading.get_ident())
        if self._disk.broken:
            self._staged.rollback()
            raise StoreUnavailableError("event store write failed: disk I/O error")
        time.sleep(self._disk.delay_s)
        self._staged.commit()

    def rollback(self) -> None:
        self._staged.rollback()


class _StoreOnDisk(SQLiteEventStore):
    def __init__(self, *args: object, disk: _Disk, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.disk = disk

    def stage_batch(
        self, deliveries: Sequence[NewDelivery], *, queued_ids: Sequence[str] = ()
    ) -> _StagedOnDisk | None:
        staged = super().stage_batch(deliveries, queued_ids=queued_ids)
        return None if staged is None else _StagedOnDisk(staged, self.disk)


@pytest.fixture
def disk_store(db_path: Path) -> Iterator[_StoreOnDisk]:
    s = _StoreOnDisk(db_path, disk=_Disk())
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def writer() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer") as executor:
        yield executor


def _committer(store: SQLiteEventStore, writer: ThreadPoolExecutor) -> GroupCommitter:
    return GroupCommitter(
        store,
        executor=writer,
        on_committed=lambda new: None,
        inline_max_commit_s=INLINE_MAX_COMMIT_S,
    )


async def test_a_lone_delivery_is_committed_on_the_event_loop_and_stored_before_the_answer(
    disk_store: _StoreOnDisk, writer: ThreadPoolExecutor
) -> None:
    committer = _committer(disk_store, writer)
    for n in range(3):
        assert await committer.submit(_delivery(n)) is True
        assert disk_store.get(_delivery(n).delivery_id) is not None  # durable before the True
    assert await committer.submit(_delivery(0)) is False  # a duplicate
    assert (committer.commits_inline, committer.commits_on_writer) == (4, 0)
    assert set(disk_store.disk.threads) == {threading.get_ident()}


async def test_a_batch_of_many_deliveries_is_committed_on_the_writer_thread(
    disk_store: _StoreOnDisk, writer: ThreadPoolExecutor
) -> None:
    committer = _committer(disk_store, writer)
    results = await asyncio.gather(*(committer.submit(_delivery(n)) for n in range(10)))
    assert results == [True] * 10
    assert (committer.commits_inline, committer.commits_on_writer) == (0, 1)
    assert threading.get_ident() not in disk_store.disk.threads
    assert disk_store.counts()["received"] == 10


async def test_a_slow_disk_stalls_the_loop_for_one_commit_then_commits_go_to_the_writer(
    disk_store: _StoreOnDisk, writer: ThreadPoolExecutor
) -> None:
    committer = _committer(disk_store, writer)
    disk_store.disk.delay_s = SLOW_COMMIT_S
    for n in range(4):
        assert await committer.submit(_delivery(n)) is True
    # the first commit shows the disk is slow (an average of 0.25 x 250 ms > 50 ms) ...
    assert (committer.commits_inline, committer.commits_on_writer) == (1, 3)
    loop_thread = threading.get_ident()
    assert disk_store.disk.threads[0] == loop_thread
    assert loop_thread not in disk_store.disk.threads[1:]
    # ... and once it is quick again, commits come back to the loop
    disk_store.disk.delay_s = 0.0
    for n in range(4, 30):
        assert await committer.submit(_delivery(n)) is True
        if disk_store.disk.threads[-1] == loop_thread:
            break
    else:
        pytest.fail("commits stayed on the writer thread after the disk was quick again")
    assert disk_store.counts()["received"] == n + 1


async def test_a_failed_inline_commit_refuses_the_delivery_and_stores_nothing(
    disk_store: _StoreOnDisk, writer: ThreadPoolExecutor
) -> None:
    committer = _committer(disk_store, writer)
    disk_store.disk.broken = True
    with pytest.raises(StoreUnavailableError):
        await committer.submit(_delivery(1))
    assert committer.commits_inline == 1
    assert disk_store.get(_delivery(1).delivery_id) is None
    disk_store.disk.broken = False
    assert await committer.submit(_delivery(1)) is True  # the sender's retry is stored
    assert disk_store.get(_delivery(1).delivery_id) is not None


async def test_inline_commits_can_be_turned_off(
    store: SQLiteEventStore, writer: ThreadPoolExecutor
) -> None:
    committer = GroupCommitter(
        store, executor=writer, on_committed=lambda new: None, inline_max_commit_s=0.0
    )
    for n in range(3):
        assert await committer.submit(_delivery(n)) is True
    assert (committer.commits_inline, committer.commits_on_writer) == (0, 3)
