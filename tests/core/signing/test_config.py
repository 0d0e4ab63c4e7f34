"""Scheme settings: each scheme's defaults, and one clear line per mistake."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.signing import DEFAULTS, resolve, settings_for


def test_each_scheme_resolves_to_its_defaults_when_nothing_is_set() -> None:
    for name, config in DEFAULTS.items():
        assert resolve(name) == config


@pytest.mark.parametrize(
    ("scheme", "settings", "expected"),
    [
        (
            "standard-webhooks",
            {"signed_content": "{body}"},
            "BILLOGET_SIGNED_CONTENT does not apply",
        ),
        ("standard-webhooks", {"prefix": "sha256="}, "BILLOGET_SIGNATURE_PREFIX does not apply"),
        ("stripe-style", {"timestamp_header": "X-Ts"}, "BILLOGET_TIMESTAMP_HEADER does not apply"),
        ("hmac-sha256", {"signed_content": "{body}.{timestamp}"}, "must end with {body}"),
        ("hmac-sha256", {"signed_content": "{nonce}.{body}"}, "unknown placeholder"),
        ("hmac-sha256", {"signed_content": "{id}.{body}"}, "set BILLOGET_ID_HEADER"),
        ("hmac-sha256", {"signature_header": "bad header"}, "must be an HTTP header name"),
        ("hmac-sha256", {"prefix": "a prefix with spaces"}, "BILLOGET_SIGNATURE_PREFIX"),
        ("standard-webhooks", {"id_header": ""}, "BILLOGET_ID_HEADER must be an HTTP header"),
    ],
)
def test_a_mistake_is_named_in_one_line(
    scheme: str, settings: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(scheme, **settings)  # type: ignore[arg-type]
    assert expected in caught.value.message
    assert len(caught.value.message.splitlines()) == 1


def test_every_mistake_gets_a_line_of_its_own() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve("standard-webhooks", signed_content="{body}", prefix="x", encoding="hex")
    assert len(caught.value.message.splitlines()) == 3


def test_settings_for_names_the_scheme_and_only_what_differs_from_its_defaults() -> None:
    config = resolve("hmac-sha256", signature_header="X-Signature", prefix="sha256=")
    assert settings_for(config) == {
        "BILLOGET_SIGNATURE_SCHEME": "hmac-sha256",
        "BILLOGET_SIGNATURE_HEADER": "X-Signature",
        "BILLOGET_SIGNATURE_PREFIX": "sha256=",
    }
    assert settings_for(DEFAULTS["stripe-style"]) == {"BILLOGET_SIGNATURE_SCHEME": "stripe-style"}
