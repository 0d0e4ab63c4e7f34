"""The layer contract in pyproject.toml is enforced: a forbidden import fails lint-imports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "receiver", "workers", "emulator", "billoget_hooks")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the five packages and pyproject.toml (the contracts), to break at will."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", "pyproject.toml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_copy_keeps_every_contract(project: Path) -> None:
    run = _lint_imports(project)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 5 kept, 0 broken." in run.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("core/_sneaky.py", "import receiver.app\n", "core imports no sibling package"),
        (
            "workers/_sneaky.py",
            "from receiver import relay\n",
            "receiver, workers and emulator never import each other",
        ),
        (
            "emulator/_sneaky.py",
            "from core import settings\n",
            "the emulator imports only core.signing of ours",
        ),
        (
            "receiver/_sneaky.py",
            "import billoget_hooks.cli\n",
            "nothing imports the application shell",
        ),
    ],
)
def test_a_forbidden_import_fails_lint_and_names_the_broken_contract(
    project: Path, module: str, source: str, contract: str
) -> None:
    (project / module).write_text(source, encoding="utf-8")

    run = _lint_imports(project)

    assert run.returncode != 0
    assert f"{contract} BROKEN" in run.stdout
    assert module.removesuffix(".py").replace("/", ".") in run.stdout  # the copy was linted


def test_a_cycle_inside_core_fails_lint(project: Path) -> None:
    (project / "core" / "_ping.py").write_text("from core import _pong\n", encoding="utf-8")
    (project / "core" / "_pong.py").write_text("from core import _ping\n", encoding="utf-8")

    run = _lint_imports(project)

    assert run.returncode != 0
    assert "no cycles between the modules and packages of core BROKEN" in run.stdout
