"""``/healthz`` says the process is alive; ``/readyz`` says whether it can do its job."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from billoget_hooks.procs import free_port
from core.settings import Settings
from receiver.app import create_app
from receiver.keys import READINESS_CHECKS_KEY
from receiver.readiness import CheckResult
from tests.fixtures.receiver import MakeReceiver, ReceiverClient, post_delivery


async def test_healthz_answers_alive(receiver_client: ReceiverClient) -> None:
    async with receiver_client.get("/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"alive": True}


async def test_readyz_is_200_with_each_check_and_the_counts_when_all_is_well(
    receiver_client: ReceiverClient,
) -> None:
    assert (await post_delivery(receiver_client, "dlv_ready_1"))[0] == 200
    async with receiver_client.get("/readyz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["ready"] is True
    assert body["checks"]["store"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert sum(body["counts"].values()) == 1


async def test_readyz_is_503_naming_the_broker_when_redis_is_unreachable(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = await make_receiver(settings=settings)
    async with client.get("/readyz") as resp:
        assert resp.status == 503
        body = await resp.json()
    assert body["ready"] is False
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["store"]["ok"] is True


async def test_a_registered_readiness_check_is_reported_and_can_fail_readiness(
    aiohttp_client: Callable[..., object], make_settings: Callable[..., Settings]
) -> None:
    async def selfcheck(app: web.Application) -> CheckResult:
        return CheckResult(False, "the test delivery never arrived")

    app = create_app(make_settings())
    app[READINESS_CHECKS_KEY]["selfcheck"] = selfcheck
    client: ReceiverClient = await aiohttp_client(app)  # type: ignore[misc]
    async with client.get("/readyz") as resp:
        assert resp.status == 503
        body = await resp.json()
    assert body["checks"]["selfcheck"] == {"ok": False, "detail": "the test delivery never arrived"}
