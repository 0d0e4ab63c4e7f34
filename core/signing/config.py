"""A signature scheme's configuration: the scheme, its header names, encodings and template.

:func:`resolve` fills what the settings leave unset with the scheme's defaults and names every
mistake on a line of its own (a setting the scheme does not use, a template it cannot verify).
:func:`settings_for` turns a configuration back into the environment settings that select it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from core.errors import ConfigError
from core.signing.secrets import SecretEncoding

SchemeName = Literal["standard-webhooks", "stripe-style", "hmac-sha256"]
SCHEME_NAMES: tuple[SchemeName, ...] = ("standard-webhooks", "stripe-style", "hmac-sha256")
DEFAULT_SCHEME: SchemeName = "standard-webhooks"
SignatureEncoding = Literal["hex", "base64"]
SIGNATURE_ENCODINGS: tuple[SignatureEncoding, ...] = ("hex", "base64")

BODY, TIMESTAMP, ID = "{body}", "{timestamp}", "{id}"
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")  # an HTTP token
_PREFIX = re.compile(r"^[\x21-\x7e]{0,16}$")
_LITERAL = re.compile(r"^[\x20-\x7e]*$")


@dataclass(frozen=True, slots=True)
class SchemeConfig:
    """Every choice a scheme makes, resolved. ``id_header`` empty: no id header (the
    envelope's ``metadata.delivery_id`` is the delivery id); ``timestamp_header`` empty: none."""

    scheme: SchemeName
    signature_header: str
    timestamp_header: str
    id_header: str
    encoding: SignatureEncoding
    prefix: str
    signed_content: str
    key_encoding: SecretEncoding

    @property
    def signs_timestamp(self) -> bool:
        return self.scheme != "hmac-sha256" or TIMESTAMP in self.signed_content

    def describe(self) -> str:
        """``stripe-style (header X-Billoget-Signature)``: what an operator recognises."""
        if self.scheme == "standard-webhooks":
            names = (self.id_header, self.timestamp_header, self.signature_header)
            return f"standard-webhooks (headers {', '.join(names)})"
        parts = [f"header {self.signature_header}"]
        if self.scheme == "hmac-sha256":
            if self.prefix:
                parts.append(f"prefix {self.prefix}")
            parts.append(f"{self.encoding} of {self.signed_content}")
            if TIMESTAMP in self.signed_content:
                parts.append(f"timestamp header {self.timestamp_header}")
        elif self.encoding != "hex":
            parts.append(f"{self.encoding} signatures")
        if self.id_header and ID in self.signed_content:
            parts.append(f"id header {self.id_header}")
        return f"{self.scheme} ({', '.join(parts)})"


DEFAULTS: dict[SchemeName, SchemeConfig] = {
    "standard-webhooks": SchemeConfig(
        scheme="standard-webhooks",
        signature_header="webhook-signature",
        timestamp_header="webhook-timestamp",
        id_header="webhook-id",
        encoding="base64",
        prefix="v1,",
        signed_content="{id}.{timestamp}.{body}",
        key_encoding="base64",
    ),
    "stripe-style": SchemeConfig(
        scheme="stripe-style",
        signature_header="X-Billoget-Signature",
        timestamp_header="",
        id_header="",
        encoding="hex",
        prefix="",
        signed_content="{timestamp}.{body}",
        key_encoding="text",
    ),
    "hmac-sha256": SchemeConfig(
        scheme="hmac-sha256",
        signature_header="X-Billoget-Signature",
        timestamp_header="X-Billoget-Timestamp",
        id_header="",
        encoding="hex",
        prefix="",
        signed_content="{body}",
        key_encoding="text",
    ),
}

# the setting behind each field, and the schemes that let it be changed
SETTING_NAMES: dict[str, str] = {
    "signature_header": "BILLOGET_SIGNATURE_HEADER",
    "timestamp_header": "BILLOGET_TIMESTAMP_HEADER",
    "id_header": "BILLOGET_ID_HEADER",
    "encoding": "BILLOGET_SIGNATURE_ENCODING",
    "prefix": "BILLOGET_SIGNATURE_PREFIX",
    "signed_content": "BILLOGET_SIGNED_CONTENT",
    "key_encoding": "BILLOGET_SECRET_ENCODING",
}
CONFIGURABLE: dict[SchemeName, frozenset[str]] = {
    "standard-webhooks": frozenset(
        {"signature_header", "timestamp_header", "id_header", "key_encoding"}
    ),
    "stripe-style": frozenset({"signature_header", "id_header", "encoding", "key_encoding"}),
    "hmac-sha256": frozenset(SETTING_NAMES),
}


def _template_problems(template: str) -> list[str]:
    name = SETTING_NAMES["signed_content"]
    problems = []
    if not template.endswith(BODY) or template.count(BODY) != 1:
        problems.append(f"{name} must end with {BODY} and hold it once (got {template!r})")
    unknown = {p for p in _PLACEHOLDER.findall(template) if p not in (BODY, TIMESTAMP, ID)}
    if unknown:
        problems.append(
            f"{name}: unknown placeholder(s) {', '.join(sorted(unknown))}; "
            "use {id}, {timestamp} and {body}"
        )
    for placeholder in (TIMESTAMP, ID):
        if template.count(placeholder) > 1:
            problems.append(f"{name} holds {placeholder} more than once")
    literal = _PLACEHOLDER.sub("", template)
    if "{" in literal or "}" in literal or not _LITERAL.match(literal):
        problems.append(f"{name}: only printable ASCII besides the placeholders")
    return problems


def _problems(config: SchemeConfig) -> list[str]:
    problems = []
    for field_name in ("signature_header", "timestamp_header", "id_header"):
        value = getattr(config, field_name)
        required = field_name == "signature_header" or (config.scheme == "standard-webhooks")
        if (value or required) and not _HEADER_NAME.match(value):
            problems.append(
                f"{SETTING_NAMES[field_name]} must be an HTTP header name (got {value!r})"
            )
    if not _PREFIX.match(config.prefix):
        problems.append(
            f"{SETTING_NAMES['prefix']} must be at most 16 printable ASCII characters without "
            "spaces"
        )
    if config.scheme == "hmac-sha256":
        template_problems = _template_problems(config.signed_content)
        problems += template_problems
        if not template_problems:
            if TIMESTAMP in config.signed_content and not config.timestamp_header:
                problems.append(
                    f"{SETTING_NAMES['signed_content']} signs {TIMESTAMP}: set "
                    f"{SETTING_NAMES['timestamp_header']}"
                )
            if ID in config.signed_content and not config.id_header:
                problems.append(
                    f"{SETTING_NAMES['signed_content']} signs {ID}: "
                    f"set {SETTING_NAMES['id_header']}"
                )
    return problems


def resolve(scheme: SchemeName, **overrides: str | None) -> SchemeConfig:
    """The scheme's defaults with the settings that are set; :class:`ConfigError` naming every
    mistake, one line each."""
    unknown = set(overrides) - set(SETTING_NAMES)
    if unknown:
        raise TypeError(f"unknown scheme field(s): {sorted(unknown)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    problems = [
        f"{SETTING_NAMES[k]} does not apply to BILLOGET_SIGNATURE_SCHEME={scheme} "
        f"(it applies to {', '.join(s for s in SCHEME_NAMES if k in CONFIGURABLE[s])}); unset it"
        for k in sorted(given)
        if k not in CONFIGURABLE[scheme]
    ]
    config = replace(
        DEFAULTS[scheme],
        **{k: v.strip() for k, v in given.items() if k in CONFIGURABLE[scheme]},  # type: ignore[arg-type]
    )
    problems += _problems(config)
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def settings_for(config: SchemeConfig) -> dict[str, str]:
    """The environment settings that select ``config``: the scheme, then what differs from its
    defaults."""
    default = DEFAULTS[config.scheme]
    settings: dict[str, str] = {"BILLOGET_SIGNATURE_SCHEME": config.scheme}
    for field_name, setting in SETTING_NAMES.items():
        value = getattr(config, field_name)
        if value != getattr(default, field_name):
            settings[setting] = value
    return settings
