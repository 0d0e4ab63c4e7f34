"""Settings: one clear line for a bad value, secrets that never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings, load_settings
from tests.fixtures.infra import TEST_SECRET


def _settings(**values: object) -> Settings:
    return load_settings(_env_file=None, **values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"billoget_webhook_secret": "nope"}, "BILLOGET_WEBHOOK_SECRET: "),
        ({"port": "eighty"}, "PORT: "),
        ({"allowed_sender_ips": "10.0.0.0/33"}, "ALLOWED_SENDER_IPS"),
        ({"log_level": "LOUD"}, "LOG_LEVEL: "),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(**values)
    assert caught.value.message.startswith(message)
    assert "\n" not in caught.value.message


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = _settings(
        billoget_webhook_secret=TEST_SECRET, billoget_api_key="bk_test_" + "k" * 32
    )
    assert TEST_SECRET not in repr(settings) and "k" * 32 not in repr(settings)
    assert [s.encode() for s in settings.webhook_secrets()] == [TEST_SECRET]


def test_no_secret_is_a_config_error_saying_where_to_get_one() -> None:
    with pytest.raises(ConfigError, match="BILLOGET_WEBHOOK_SECRET is not set"):
        _settings().webhook_secrets()


def test_a_sqlite_url_names_a_relative_or_an_absolute_file() -> None:
    assert _settings(database_url="sqlite:///data/x.db").sqlite_path() == Path("data/x.db")
    assert _settings(database_url="sqlite:////srv/x.db").sqlite_path() == Path("/srv/x.db")
