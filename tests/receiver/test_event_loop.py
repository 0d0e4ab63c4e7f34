"""EVENT_LOOP: which event loop ``serve`` runs on."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest

from core.errors import ConfigError
from receiver.commands import install_event_loop


@pytest.fixture
def restore_policy() -> Iterator[None]:
    policy = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(policy)


def test_asyncio_keeps_the_standard_loop(restore_policy: None) -> None:
    before = type(asyncio.get_event_loop_policy())
    assert install_event_loop("asyncio") == "asyncio"
    assert type(asyncio.get_event_loop_policy()) is before


def test_auto_falls_back_to_asyncio_when_uvloop_is_not_installed(
    restore_policy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # the import fails, as on a plain install
    assert install_event_loop("auto") == "asyncio"


def test_asking_for_uvloop_without_it_is_a_configuration_error(
    restore_policy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)
    with pytest.raises(ConfigError, match="uvloop is not installed"):
        install_event_loop("uvloop")
