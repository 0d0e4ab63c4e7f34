"""Which signature scheme would the refused deliveries have passed? Sans I/O.

For each refused delivery, :func:`candidate_configs` proposes every configuration the receiver
could be set to that its headers suggest (each scheme with the header names found, hex and
base64, the prefixes and signed-content templates in use), :func:`key_candidates` every
configured secret as its decoded key bytes and as raw text. Each pair is tried with the real
verifier of that scheme (without the time window: a refused delivery is looked at later), so
"it fits" means "the receiver would accept it with those settings". :func:`diagnose` picks the
pair that fits the most deliveries and says so in one sentence, never showing a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shlex
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from core.errors import ConfigError, VerificationError
from core.signing.base import NO_TOLERANCE_S, TIMESTAMP_RE, Verifier
from core.signing.config import (
    DEFAULTS,
    SIGNATURE_ENCODINGS,
    SchemeConfig,
    SignatureEncoding,
    settings_for,
)
from core.signing.registry import build_verifier
from core.signing.secrets import (
    FINGERPRINT_CHARS,
    SECRET_PREFIX,
    SecretEncoding,
    WebhookSecret,
    split_secrets,
)
from core.signing.stripe_style import decode_signature

_ORDINALS = ("first", "second", "third", "fourth", "fifth")
_NOT_SIGNATURES = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "user-agent",
        "accept",
        "accept-encoding",
        "connection",
        "authorization",
        "cookie",
        "x-forwarded-for",
        "x-real-ip",
        "traceparent",
    }
)
_STRIPE_LIKE = re.compile(r"(^|,)\s*t=\d+.*(^|,)\s*v1=", re.S)
_MAX_PREFIX = 16
_ID_NAME = re.compile(r"(^|[-_])(id|delivery|message|msg)([-_]|$)", re.I)


@dataclass(frozen=True, slots=True)
class Refused:
    """One refused request as the receiver kept it."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    body_truncated: bool = False
    reason: str = ""

    def getall(self, key: str, default: list[str]) -> list[str]:
        key = key.lower()
        found = [v for k, v in self.headers if k.lower() == key]
        return found or default

    def header(self, key: str) -> str | None:
        found = self.getall(key, [])
        return found[0] if found else None


@dataclass(frozen=True, slots=True)
class KeyCandidate:
    """A configured secret read one way: ``form`` is the secret encoding that reads it so."""

    index: int
    form: SecretEncoding
    key: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"KeyCandidate(secret {self.index + 1}, {self.form})"


def fingerprint(secret_text: str) -> str:
    """The fingerprint ``/metrics`` and the inspector show for this configured secret (of its
    decoded key; of its text when it does not decode): safe to print and compare."""
    try:
        return WebhookSecret.parse(secret_text).fingerprint()
    except ConfigError:
        return hashlib.sha256(secret_text.strip().encode()).hexdigest()[:FINGERPRINT_CHARS]


def key_candidates(secrets_text: str) -> list[KeyCandidate]:
    """Every configured secret as its decoded key bytes (if it decodes) and as raw text."""
    found = []
    for index, text in enumerate(split_secrets(secrets_text)):
        encoded = text.removeprefix(SECRET_PREFIX)
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if decoded:
            found.append(KeyCandidate(index, "base64", decoded))
        found.append(KeyCandidate(index, "text", text.encode()))
    return found


def _signature_shapes(value: str) -> list[tuple[str, SignatureEncoding]]:
    """``(prefix, encoding)`` pairs under which a header value holds a digest."""
    shapes: list[tuple[str, SignatureEncoding]] = []
    for token in value.split():
        cuts = [0] + [i + 1 for i, c in enumerate(token[:_MAX_PREFIX]) if c in "=,:"]
        for cut in cuts:
            for encoding in SIGNATURE_ENCODINGS:
                if decode_signature(token[cut:], encoding) is not None:
                    shapes.append((token[:cut], encoding))
    return list(dict.fromkeys(shapes))


def _standard_candidates(refused: Refused, current: SchemeConfig) -> Iterable[SchemeConfig]:
    default = DEFAULTS["standard-webhooks"]
    names = {(default.id_header, default.timestamp_header, default.signature_header)}
    if current.scheme == "standard-webhooks":
        names.add((current.id_header, current.timestamp_header, current.signature_header))
    for name, value in refused.headers:
        lowered = name.lower()
        if lowered.endswith("signature") and "v1," in value:
            stem = name[: -len("signature")]
            names.add((stem + "id", stem + "timestamp", name))
    for id_header, ts_header, sig_header in sorted(names):
        if refused.header(sig_header) is None:
            continue
        config = replace(
            default, id_header=id_header, timestamp_header=ts_header, signature_header=sig_header
        )
        yield config
        yield replace(config, key_encoding="text")


def _stripe_candidates(refused: Refused, current: SchemeConfig) -> Iterable[SchemeConfig]:
    default = DEFAULTS["stripe-style"]
    id_header = current.id_header if current.scheme != "standard-webhooks" else ""
    if id_header and refused.header(id_header) is None:
        id_header = ""
    for name, value in refused.headers:
        if _STRIPE_LIKE.search(value):
            for encoding in ("hex", "base64"):
                config = replace(
                    default, signature_header=name, encoding=encoding, id_header=id_header
                )
                yield config
                yield replace(config, key_encoding="base64")


def _timestamp_headers(refused: Refused) -> list[str]:
    return [
        name
        for name, value in refused.headers
        if TIMESTAMP_RE.match(value.strip()) and len(value.strip()) in range(9, 13)
    ]


def _id_headers(refused: Refused, exclude: set[str]) -> list[str]:
    return [
        name
        for name, value in refused.headers
        if _ID_NAME.search(name) and name.lower() not in exclude and 0 < len(value) <= 256
    ]


def _hmac_candidates(refused: Refused) -> Iterable[SchemeConfig]:
    default = DEFAULTS["hmac-sha256"]
    timestamps = _timestamp_headers(refused)
    for name, value in refused.headers:
        if name.lower() in _NOT_SIGNATURES:
            continue
        for prefix, encoding in _signature_shapes(value):
            base = replace(default, signature_header=name, prefix=prefix, encoding=encoding)
            templates = [base]
            for ts_header in timestamps:
                with_ts = replace(base, timestamp_header=ts_header)
                templates.append(replace(with_ts, signed_content="{timestamp}.{body}"))
                for id_header in _id_headers(refused, {name.lower(), ts_header.lower()}):
                    templates.append(
                        replace(
                            with_ts, id_header=id_header, signed_content="{id}.{timestamp}.{body}"
                        )
                    )
            for config in templates:
                yield config
                yield replace(config, key_encoding="base64")


def candidate_configs(refused: Refused, current: SchemeConfig) -> list[SchemeConfig]:
    """Every receiver configuration the request's headers suggest, the current one first."""
    found = [
        current,
        *_standard_candidates(refused, current),
        *_stripe_candidates(refused, current),
        *_hmac_candidates(refused),
    ]
    return list(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Fit:
    config: SchemeConfig
    secret_index: int


@dataclass(frozen=True, slots=True)
class Diagnosis:
    checked: int  # refused deliveries whose whole body was kept
    truncated: int
    fit: Fit | None
    fitting: int  # of ``checked``, how many ``fit`` verifies
    current: SchemeConfig
    fingerprints: tuple[str, ...]
    looks_like: SchemeConfig | None = None
    reasons: tuple[str, ...] = ()

    @property
    def is_current(self) -> bool:
        return self.fit is not None and self.fit.config == self.current

    def settings(self) -> dict[str, str]:
        return settings_for(self.fit.config) if self.fit else {}

    def sentence(self) -> str:
        if not self.checked:
            if self.truncated:
                return (
                    f"the {self.truncated} refused deliveries kept have bodies over 64 KB, too "
                    "large to check: send a smaller test webhook (scripts/send_test_webhook)"
                )
            return (
                "the receiver has refused no delivery since it started: nothing to diagnose "
                "(refused deliveries are kept in memory only)"
            )
        which = (
            f"the last {self.checked} refused deliveries"
            if self.fitting == self.checked
            else f"{self.fitting} of the last {self.checked} refused deliveries"
        )
        if self.fit is None:
            secrets = ", ".join(self.fingerprints) or "none configured"
            shape = f"; they look signed as {self.looks_like.describe()}" if self.looks_like else ""
            return (
                f"none of the last {self.checked} refused deliveries verifies with any configured "
                f"secret under any known scheme: the secret is probably wrong (fingerprint "
                f"{secrets}){shape}"
            )
        secret = _ordinal(self.fit.secret_index)
        if self.is_current:
            reason = f" ({self.reasons[0]})" if self.reasons else ""
            return (
                f"{which} verify as {self.fit.config.describe()} with your {secret} secret, "
                f"the configured scheme: they were refused for another reason{reason}"
            )
        form = (
            ""
            if self.fit.config.key_encoding == DEFAULTS[self.fit.config.scheme].key_encoding
            else f" (read as {_FORMS[self.fit.config.key_encoding]})"
        )
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.settings().items())
        return (
            f"{which} verify as {self.fit.config.describe()} with your {secret} secret{form}: "
            f"set {assignments}"
        )


_FORMS = {"text": "raw text", "base64": "its decoded key bytes"}


def _ordinal(index: int) -> str:
    return _ORDINALS[index] if index < len(_ORDINALS) else f"number {index + 1}"


def _fits(verifier: Verifier, refused: Refused) -> bool:
    try:
        verifier.verify(refused, refused.body)
    except VerificationError:
        return False
    return True


def diagnose(refused: Sequence[Refused], *, secrets_text: str, current: SchemeConfig) -> Diagnosis:
    """Try every candidate configuration with every configured secret on every delivery."""
    keys = key_candidates(secrets_text)
    checkable = [r for r in refused if not r.body_truncated]
    verifiers: dict[tuple[SchemeConfig, KeyCandidate], Verifier] = {}
    counts: dict[Fit, int] = {}
    order: list[Fit] = []
    shapes: dict[SchemeConfig, int] = {}
    for item in checkable:
        fits: dict[Fit, None] = {}
        for config in candidate_configs(item, current):
            if config != current:
                shapes[config] = shapes.get(config, 0) + 1
            for key in keys:
                if key.form != config.key_encoding:
                    continue
                pair = (config, key)
                if pair not in verifiers:
                    verifiers[pair] = build_verifier(config, [key.key], tolerance_s=NO_TOLERANCE_S)
                if _fits(verifiers[pair], item):
                    fits[Fit(config, key.index)] = None
        for fit in fits:
            if fit not in counts:
                order.append(fit)
            counts[fit] = counts.get(fit, 0) + 1
    best = max(order, key=lambda f: (counts[f], f.config == current), default=None)
    # the refusals' own messages, the most frequent first
    reasons = tuple(r for r, _ in Counter(r.reason for r in checkable if r.reason).most_common())
    looks_like = None
    if best is None and shapes:
        looks_like = max(shapes, key=lambda c: (shapes[c], c.scheme != "hmac-sha256"))
    return Diagnosis(
        checked=len(checkable),
        truncated=len(refused) - len(checkable),
        fit=best,
        fitting=counts[best] if best else 0,
        current=current,
        fingerprints=tuple(fingerprint(t) for t in split_secrets(secrets_text)),
        looks_like=looks_like,
        reasons=reasons,
    )
