"""The store cannot commit (locked by another writer, or the disk refuses the write): the
receiver answers 503 with Retry-After and a Billoget-style JSON error, never 500, stores
nothing half-way, and accepts the same delivery once the store can commit again."""

from __future__ import annotations

import resource
import sqlite3
import time

import pytest

from billoget_hooks.procs import wait_until
from tests.fixtures.stack import MakeStack, Stack, report_fault

BUSY_TIMEOUT_S = 5.0  # core.store.sqlite.connections.DEFAULT_BUSY_TIMEOUT_MS


def assert_503(status: int | None, answer: object) -> None:
    assert status == 503, (status, answer)
    assert isinstance(answer, dict) and answer["error"] and answer["message"]


def resend_until_2xx(stack: Stack, delivery_id: str, *, timeout_s: float) -> int:
    """The sender's retries; the status that ended them."""
    deadline = time.monotonic() + timeout_s
    while True:
        status, _ = stack.post_signed(delivery_id)
        if status == 200 or time.monotonic() > deadline:
            return status or 0
        time.sleep(0.2)


@pytest.mark.slow
def test_a_locked_store_is_a_503_and_the_retried_delivery_is_stored_once(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(emulator=False)
    ids = ["dlv_locked_1", "dlv_locked_2"]
    holder = sqlite3.connect(stack.db_path, isolation_level=None, timeout=1)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        for delivery_id in ids:
            status, answer = stack.post_signed(delivery_id, timeout_s=BUSY_TIMEOUT_S + 10)
            assert_503(status, answer)
        assert time.monotonic() - started < 2 * (BUSY_TIMEOUT_S + 2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    statuses = [resend_until_2xx(stack, i, timeout_s=10) for i in ids]
    stack.wait_done(ids, timeout_s=20, what="the retried deliveries processed")
    stored, processed, _ = stack.counts(ids)
    report_fault(
        "store-locked", sent=len(ids), ok=statuses.count(200), stored=stored, processed=processed
    )
    assert processed == len(ids)
    assert statuses == [200, 200] and stored == len(ids)


@pytest.mark.slow
def test_a_locked_store_makes_billoget_retry_until_the_event_is_stored_and_processed(
    make_stack: MakeStack,
) -> None:
    stack = make_stack()
    holder = sqlite3.connect(stack.db_path, isolation_level=None, timeout=1)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        ids = stack.trigger("customer.created")
        wait_until(
            lambda: any(a["status_code"] == 503 for d in stack.deliveries() for a in d["attempts"]),
            timeout_s=BUSY_TIMEOUT_S + 10,
            what="the emulator's delivery answered 503",
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    stack.wait_done(ids, timeout_s=30, what="the delivery retried by the emulator")
    attempts = stack.deliveries()[0]["attempts"]
    stored, processed, _ = stack.report_counts("store-locked-emulator", ids)
    assert [a["status_code"] for a in attempts][-1] == 200
    assert 503 in [a["status_code"] for a in attempts]
    assert stored == processed == 1


@pytest.mark.slow
def test_a_disk_write_failure_is_a_503_and_the_store_recovers_when_the_disk_does(
    make_stack: MakeStack,
) -> None:
    """A real write failure that works as root: RLIMIT_FSIZE (file size limit) lowered on the
    running receiver with prlimit(2). Every write past the limit fails with EFBIG (Python
    ignores SIGXFSZ), like a full disk; chmod would not stop root. Raising it back is the disk
    recovering."""
    stack = make_stack(emulator=False)
    assert stack.receiver.popen is not None
    pid = stack.receiver.popen.pid
    status, _ = stack.post_signed("dlv_disk_warmup")
    assert status == 200
    original = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    ids = [f"dlv_disk_{i}" for i in range(3)]
    try:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, original[1]))
        for delivery_id in ids:
            status, answer = stack.post_signed(delivery_id, timeout_s=15)
            assert_503(status, answer)
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, original)
    assert stack.counts(ids)[0] == 0
    statuses = [resend_until_2xx(stack, i, timeout_s=15) for i in ids]
    stack.wait_done(ids, timeout_s=20, what="the retried deliveries processed")
    stored, processed, _ = stack.counts(ids)
    report_fault(
        "store-disk-write-fails",
        sent=len(ids),
        ok=statuses.count(200),
        stored=stored,
        processed=processed,
    )
    assert processed == len(ids)
    assert statuses == [200] * len(ids) and stored == len(ids)
    assert stack.receiver.alive
