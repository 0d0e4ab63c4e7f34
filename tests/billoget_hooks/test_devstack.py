"""``billoget-hooks dev``: the one command brings the whole system up, checks it and stops it."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from billoget_hooks.devstack.demo import dev_credentials, read_env_file
from billoget_hooks.devstack.stack import make_plan
from billoget_hooks.procs import free_port, port_open
from core.errors import ConfigError

DEV_TIMEOUT_S = 90


def dev_env() -> dict[str, str]:
    """No Redis and no Billoget configured: the embedded Redis and the emulator are used."""
    drop = ("REDIS_URL", "DATABASE_URL", "PORT", "HOST")
    return {k: v for k, v in os.environ.items() if not k.startswith("BILLOGET_") and k not in drop}


def dev_argv(data_dir: Path, receiver_port: int, emulator_port: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "billoget_hooks.cli", "dev",
        "--data-dir", str(data_dir),
        "--port", str(receiver_port),
        "--emulator-port", str(emulator_port),
        "--wait", "15",
        *extra,
    ]  # fmt: skip


UP_MARKER = "Ctrl-C stops everything"


def read_until_up(proc: subprocess.Popen[str]) -> list[str]:
    """The dev command's output lines up to its summary's last line (bounded)."""
    lines: list[str] = []
    deadline = time.monotonic() + DEV_TIMEOUT_S
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if UP_MARKER in line:
            return lines
    raise AssertionError("dev never came up:\n" + "\n".join(lines[-40:]))


@pytest.mark.slow
def test_dev_brings_everything_up_passes_the_selfcheck_and_processes_the_demo(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    receiver_port, emulator_port = free_port(), free_port()

    done = subprocess.run(
        dev_argv(data, receiver_port, emulator_port, "--exit-after-check"),
        env=dev_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEV_TIMEOUT_S,
    )

    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "self-check passed (4 of 4 checks ok)" in out
    demo = re.search(r"==> demo: (\d+) events: (\d+) processed$", out, re.MULTILINE)
    assert demo is not None and demo.group(1) == demo.group(2), out[-4000:]
    listed = subprocess.run(
        [sys.executable, "-m", "billoget_hooks.cli", "events", "list", "--json", "--limit", "1000"],
        env=dev_env() | {"DATABASE_URL": f"sqlite:///{data / 'dev.db'}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    events = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(events) == int(demo.group(1)) + 1  # the demo and the self-check's test event
    assert {e["status"] for e in events} == {"processed"}
    assert sum(e["selfcheck"] for e in events) == 1
    written = read_env_file(data / "dev.env")
    assert written["BILLOGET_API_KEY"].startswith("bk_test_")
    assert written["BILLOGET_API_KEY"] not in out  # only the dev.env file holds it
    assert not port_open(receiver_port)
    assert not port_open(emulator_port)


@pytest.mark.slow
def test_dev_stops_every_process_on_ctrl_c(tmp_path: Path) -> None:
    receiver_port, emulator_port = free_port(), free_port()
    proc = subprocess.Popen(
        dev_argv(tmp_path / "data", receiver_port, emulator_port, "--no-demo"),
        env=dev_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        read_until_up(proc)
        assert port_open(receiver_port)

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 0, rest[-3000:]
    assert "stopping receiver" in rest
    assert not port_open(receiver_port)
    assert not port_open(emulator_port)


def test_dev_refuses_half_of_the_real_billoget_settings(tmp_path: Path) -> None:
    args = argparse.Namespace(data_dir=str(tmp_path), port=0, emulator_port=0)

    with pytest.raises(ConfigError, match="BILLOGET_WEBHOOK_SECRET not"):
        make_plan(args, {"BILLOGET_API_URL": "https://x", "BILLOGET_API_KEY": "bk_test_x"})


def test_dev_uses_the_real_billoget_when_all_three_are_set(tmp_path: Path) -> None:
    args = argparse.Namespace(data_dir=str(tmp_path), port=0, emulator_port=0)
    environ = {"BILLOGET_API_URL": "u", "BILLOGET_API_KEY": "k", "BILLOGET_WEBHOOK_SECRET": "s"}

    plan = make_plan(args, environ | {"REDIS_URL": "redis://127.0.0.1:6379/3"})

    assert plan.emulator_port is None
    assert plan.redis_url == "redis://127.0.0.1:6379/3"


def test_dev_keeps_the_emulator_key_of_the_last_run(tmp_path: Path) -> None:
    first = dev_credentials({})
    env_file = tmp_path / "dev.env"
    env_file.write_text(
        f"export BILLOGET_API_KEY={first.api_key}\n"
        f"export BILLOGET_WEBHOOK_SECRET={first.webhook_secret}\n"
    )

    again = dev_credentials(read_env_file(env_file))

    assert again == first
    assert "redacted" in repr(again)
