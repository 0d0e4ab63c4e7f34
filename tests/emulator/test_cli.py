"""The ``emulator`` sub-command and ``python -m emulator``."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import aiohttp
import pytest

from billoget_hooks.procs import free_port
from core.signing import WebhookSecret
from emulator import commands
from emulator.keys import ApiKey, KeyStatus, Scope
from tests.fixtures.emulator import call_api


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billoget-hooks")
    commands.register(parser.add_subparsers(dest="command"))
    return parser


def test_emulator_sub_command_defaults() -> None:
    args = _parser().parse_args(["emulator"])
    assert (args.host, args.port, args.seed, args.time_factor) == ("127.0.0.1", 8090, False, 1.0)
    assert (args.environment, args.webhook_url, args.pagination) == ("test", None, "docs")
    assert args.func is commands.run


def test_emulator_sub_command_options() -> None:
    argv = [
        "emulator",
        "--port",
        "9999",
        "--seed",
        "--time-factor",
        "0.01",
        "--webhook-url",
        "http://x/h",
    ]
    args = _parser().parse_args(argv)
    assert (args.port, args.seed, args.time_factor, args.webhook_url) == (
        9999,
        True,
        0.01,
        "http://x/h",
    )


async def _read_banner(stdout: asyncio.StreamReader) -> dict[str, str]:
    values: dict[str, str] = {}
    while True:
        line = (await asyncio.wait_for(stdout.readline(), 10)).decode().strip()
        if not line or line.startswith("Billoget emulator listening"):
            return values
        name, sep, value = line.partition("=")
        if sep and name.startswith("BILLOGET_"):
            values[name] = value


@pytest.mark.parametrize("pagination", ["docs", "sdk"])
async def test_python_m_emulator_seed_prints_working_credentials(
    http_session: aiohttp.ClientSession, pagination: str
) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        "--seed",
        "--port",
        str(port),
        "--pagination",
        pagination,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        env = await _read_banner(proc.stdout)
        assert env["BILLOGET_API_URL"] == f"http://127.0.0.1:{port}/v1"
        assert env["BILLOGET_WEBHOOK_SECRET"].startswith("whsec_")
        for _ in range(100):  # the banner is printed just before the port is bound
            try:
                reply = await call_api(
                    http_session,
                    env["BILLOGET_API_URL"] + "/api/public/budgets",
                    env["BILLOGET_API_KEY"],
                )
                break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        assert reply.status == 200
        if pagination == "docs":
            assert reply.body["pagination"]["total"] == 3
        else:
            assert reply.body["data"]["meta"]["totalItems"] == 3
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) in (0, -signal.SIGINT, 130)


def test_banner_lists_the_env_lines() -> None:
    key = ApiKey(
        id=1,
        key="bk_test_" + "a" * 32,
        environment="test",
        name="demo",
        scopes=set(Scope),
        status=KeyStatus.ACTIVE,
        allowed_ips=[],
        rate_limit_per_hour=1000,
        webhook_url="http://127.0.0.1:8080/webhooks/billoget",
        secret=WebhookSecret(b"k" * 24),
        created_at=0.0,
    )
    text = commands.banner(key, "http://127.0.0.1:8090")
    assert "BILLOGET_API_URL=http://127.0.0.1:8090/v1" in text
    assert f"BILLOGET_API_KEY={key.key}" in text
    assert f"BILLOGET_WEBHOOK_SECRET={key.secret.encode()}" in text
