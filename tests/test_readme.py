"""The README stays true: its configuration table is the one generated from Settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from billoget_hooks.config_doc import config_block, current_block
from core.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_configuration_table_matches_settings() -> None:
    block = current_block(README.read_text(encoding="utf-8"))

    assert block is not None, "README.md lost its config:start/config:end markers"
    assert block == config_block(), "run scripts/gen_config_table to update README.md"


def test_readme_configuration_table_lists_every_setting() -> None:
    block = config_block()

    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in block


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("##", 1)[0]

    assert "scripts/dev" in quick_start
    assert "scripts/test" in quick_start


def test_readme_handler_example_registers_its_handlers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.handlers import HandlerRegistry

    section = README.read_text(encoding="utf-8").split("## Adding a handler", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    (tmp_path / "readme_handlers_example.py").write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = HandlerRegistry()
    registry.load_modules(["readme_handlers_example"])

    assert [h.__name__ for h in registry.resolve("budget.approved")] == ["notify_sales"]
    assert [h.__name__ for h in registry.resolve("customer.updated")] == ["audit"]
    assert registry.resolve("product.created") == []
