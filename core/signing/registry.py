"""The known schemes: build the verifier or the signer a configuration names."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from core.signing.base import DEFAULT_TOLERANCE_S, Clock, Signer, Verifier
from core.signing.config import DEFAULTS, SchemeConfig, SchemeName
from core.signing.hmac_sha256 import HmacSha256Signer, HmacSha256Verifier
from core.signing.secrets import WebhookSecret, in_encoding
from core.signing.standard_webhooks import StandardWebhooksSigner, StandardWebhooksVerifier
from core.signing.stripe_style import StripeStyleSigner, StripeStyleVerifier

VERIFIERS: dict[str, Callable[..., Verifier]] = {
    "standard-webhooks": StandardWebhooksVerifier,
    "stripe-style": StripeStyleVerifier,
    "hmac-sha256": HmacSha256Verifier,
}
SIGNERS: dict[str, Callable[[SchemeConfig], Signer]] = {
    "standard-webhooks": StandardWebhooksSigner,
    "stripe-style": StripeStyleSigner,
    "hmac-sha256": HmacSha256Signer,
}


def build_verifier(
    config: SchemeConfig,
    keys: Sequence[bytes],
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    clock: Clock = time.time,
) -> Verifier:
    """The verifier of ``config``'s scheme over these HMAC keys."""
    cls = VERIFIERS[config.scheme]
    return cls(tuple(keys), config, tolerance_s, clock)


def build_signer(config: SchemeConfig | SchemeName) -> Signer:
    """The signer of a configuration (or of a scheme's defaults)."""
    if isinstance(config, str):
        config = DEFAULTS[config]
    return SIGNERS[config.scheme](config)


def signing_headers(
    config: SchemeConfig,
    secrets: Sequence[WebhookSecret],
    msg_id: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    decoded: bool = True,
) -> dict[str, str]:
    """Sign as ``config`` says. ``decoded``: the secrets are ``whsec_`` secrets decoded to key
    bytes (the emulator's), turned into the scheme's secret encoding first."""
    if decoded:
        secrets = [in_encoding(s, config.key_encoding) for s in secrets]
    ts = int(time.time()) if timestamp is None else timestamp
    return build_signer(config).headers(secrets, msg_id, body, timestamp=ts)
