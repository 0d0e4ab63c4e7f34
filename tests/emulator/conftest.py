"""The emulator fixtures live in tests/fixtures/emulator.py (shared with other suites)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.emulator import (
    RunningEmulator,
    emulator,
    emulator_factory,
    http_session,
    webhook_sink,
)

__all__ = ["emulator", "emulator_factory", "http_session", "webhook_sink"]


@pytest.fixture
async def key(emulator: RunningEmulator) -> dict[str, Any]:
    """A test-environment key with every scope and no webhook URL."""
    return await emulator.admin.create_key(name="all scopes")
