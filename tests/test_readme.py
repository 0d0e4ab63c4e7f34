"""The README stays true: its configuration table is the one generated from Settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from billoget_hooks.config_doc import config_block, current_block
from core.settings import Settings
from core.store import Outcome, Result, StartAttempt

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


def _mirror_section() -> str:
    return (
        README.read_text(encoding="utf-8").split("## The mirror tables", 1)[1].split("\n## ", 1)[0]
    )


@pytest.fixture
def mirrored_db(tmp_path: Path) -> Path:
    """A store file with one customer, one approved budget and one product mirrored."""
    from core.store import NewDelivery
    from core.store.sqlite.mirror import SQLiteMirrorStore

    path = tmp_path / "billoget-hooks.db"
    store = SQLiteMirrorStore(path)
    store.migrate()
    at = "2025-03-14T10:02:11.104000Z"
    store.commit_batch([NewDelivery("dlv_1", "product.updated", at, 1, b"{}")])
    store.apply_worker_writes([StartAttempt("dlv_1")])
    store.apply_worker_writes([Outcome("dlv_1", Result.PROCESSED, "mirrored")])
    rows = {
        "customer": {
            "id": 42,
            "firstName": "Ana",
            "lastName": "Garcia",
            "email": "ana@example.com",
        },
        "budget": {"id": 7, "state": 1, "total": 1960.2, "currency": "USD"},
        "product": {"id": 3, "productCode": "CAM-4K", "price": 899.9},
    }
    for family, data in rows.items():
        store.upsert_entity(
            family, data["id"], data=data, updated_at=at, fetched_at=at, delivery_id="dlv_1"
        )
    store.close()
    return path


def test_readme_mirror_queries_run_on_a_real_store(mirrored_db: Path) -> None:
    import sqlite3

    sql = _mirror_section().split("```sql", 1)[1].split("```", 1)[0]
    statements = [s for s in sql.split(";") if s.strip()]
    with sqlite3.connect(mirrored_db) as conn:
        results = [conn.execute(s).fetchall() for s in statements]

    customers, budgets, products = results
    assert customers == [("42", "Ana Garcia", "ana@example.com")]
    assert budgets == [("7", 1960.2, "USD")]
    [(product_id, event_type, processed_at)] = products
    assert (product_id, event_type) == ("3", "product.updated")
    assert processed_at.endswith("Z")


def test_readme_sqlite_utils_commands_run_on_a_real_store(mirrored_db: Path) -> None:
    import shlex
    import subprocess
    import sys

    sh = _mirror_section().split("```sh", 1)[1].split("```", 1)[0]
    cli = Path(sys.executable).with_name("sqlite-utils")
    outputs = []
    for line in filter(None, (x.strip() for x in sh.splitlines())):
        argv = shlex.split(line.replace("data/billoget-hooks.db", str(mirrored_db)))
        assert argv[0] == "sqlite-utils"
        done = subprocess.run([str(cli), *argv[1:]], capture_output=True, text=True, check=True)
        outputs.append(done.stdout)

    assert '"customers"' in outputs[0] and '"count": 1' in outputs[0]
    assert '"firstName": "Ana"' in outputs[1] or "Ana" in outputs[1]
    assert '"email": "ana@example.com"' in outputs[2]
