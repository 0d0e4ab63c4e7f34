"""The receiver on a PostgreSQL store: group commit, duplicates, a pool that heals itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psycopg
import redis

from core.settings import Settings
from core.store import Status
from core.store.postgres import PostgresEventStore
from tests.fixtures.receiver import MakeReceiver, eventually, post_delivery, queued_messages


async def test_deliveries_commit_to_postgresql_once_each_and_are_relayed(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    receiver_redis_url: str,
    receiver_redis: redis.Redis,
    pg_store: PostgresEventStore,
) -> None:
    settings = make_settings(database_url=pg_store.url, redis_url=receiver_redis_url)
    client = await make_receiver(settings=settings)
    ids = [f"dlv_pg_{n}" for n in range(40)]
    answers = await asyncio.gather(*(post_delivery(client, i) for i in ids + ids[:10]))
    assert {status for status, _ in answers} == {200}
    assert sum(1 for _, body in answers if body["duplicate"]) == 10
    assert pg_store.counts()["received"] + pg_store.counts()["queued"] == 40
    await eventually(lambda: len(queued_messages(receiver_redis)) == 40, what="40 messages")
    await eventually(lambda: pg_store.counts()["queued"] == 40, what="every delivery marked queued")


async def test_the_pool_recovers_by_itself_after_the_database_dropped_its_connections(
    make_receiver: MakeReceiver,
    make_settings: Callable[..., Settings],
    receiver_redis_url: str,
    pg_store: PostgresEventStore,
) -> None:
    settings = make_settings(database_url=pg_store.url, redis_url=receiver_redis_url)
    client = await make_receiver(settings=settings)
    assert (await post_delivery(client, "dlv_before"))[0] == 200
    dbname = pg_store.url.rsplit("/", 1)[1]
    with psycopg.connect(pg_store.url, autocommit=True) as admin:
        pids = [
            pid
            for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchall()
        ]
        assert pids
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        def terminated() -> bool:  # pg_terminate_backend only signals the backends
            left = admin.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
            ).fetchone()
            return left is not None and left[0] == 0

        await eventually(terminated, what="the terminated backends to exit")
    status, _ = await post_delivery(client, "dlv_after")
    assert status == 200
    event = pg_store.get("dlv_after")
    assert event is not None and event.status in (Status.RECEIVED, Status.QUEUED)
