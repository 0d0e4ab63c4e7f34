"""The workers' Lua scripts: files with a header naming their keys and arguments, packaged."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

from workers.lua import script

ROOT = Path(__file__).resolve().parents[3]
IGNORED = shutil.ignore_patterns("__pycache__")
SCRIPTS = sorted(p.stem for p in Path(str(files("workers.lua"))).glob("*.lua"))


def test_there_are_scripts_to_check() -> None:
    assert SCRIPTS == ["budget_acquire", "budget_block", "lock_release"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_key_and_argument_a_script_uses_is_named_in_its_header(name: str) -> None:
    text = script(name)
    header = "\n".join(line for line in text.splitlines() if line.startswith("--"))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    used = set(re.findall(r"\b(KEYS|ARGV)\[(\d+)\]", body))
    named = set(re.findall(r"^-- (KEYS|ARGV)\[(\d+)\] ", header, flags=re.M))
    assert used and used == named
    assert "Returns" in header


def test_the_wheel_ships_the_scripts(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: setuptools writes build/ and *.egg-info beside it
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    for package in ("core", "receiver", "workers", "emulator", "billoget_hooks"):
        shutil.copytree(ROOT / package, source / package, ignore=IGNORED)
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*argv, "-w", str(tmp_path), str(source)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("billoget_hooks-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n for n in names if n.endswith(".lua")) == [
        f"workers/lua/{name}.lua" for name in SCRIPTS
    ]
