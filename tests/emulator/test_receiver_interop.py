"""End to end: a receiver started by ``billoget-hooks serve`` accepts the emulator's deliveries."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from billoget_hooks.procs import free_port
from tests.fixtures.emulator import RunningEmulator, call_api
from tests.fixtures.procs import ProcessFactory


async def test_a_served_receiver_accepts_the_emulators_signed_deliveries(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    processes: ProcessFactory,
    tmp_path: Path,
) -> None:
    redis = await asyncio.to_thread(processes.redis().start)
    port = free_port()
    created = await emulator.admin.create_key(
        webhookUrl=f"http://127.0.0.1:{port}/webhooks/billoget"
    )
    env = {
        "BILLOGET_WEBHOOK_SECRET": created["webhookSecret"],
        "DATABASE_URL": f"sqlite:///{tmp_path / 'events.db'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
    }
    receiver = processes.cli(
        "receiver", "serve", "--host", "127.0.0.1", "--port", str(port), port=port, env=env
    )
    await asyncio.to_thread(receiver.start)
    await emulator.admin.seed()
    await emulator.admin.trigger("budget.approved", 1)
    test_call = {"event": "budget.created", "data": {"id": 1}}
    url = emulator.api_url + "/api/public/webhooks/test"
    assert (
        await call_api(http_session, url, created["key"], "POST", json_body=test_call)
    ).status == 200
    total = len(await emulator.admin.deliveries())
    delivered = await emulator.admin.wait_for_deliveries(total, timeout_s=10)
    assert all(d["attempts"][0]["status_code"] // 100 == 2 for d in delivered), receiver.log_tail()
