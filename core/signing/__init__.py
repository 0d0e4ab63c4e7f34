"""Webhook signatures: several schemes behind one verifier interface, sans I/O.

- ``standard-webhooks`` (the default, :mod:`core.signing.standard_webhooks`),
- ``stripe-style`` (:mod:`core.signing.stripe_style`),
- ``hmac-sha256``, a generic HMAC over a configurable signed content
  (:mod:`core.signing.hmac_sha256`).

:func:`resolve` builds a :class:`SchemeConfig` from the settings, :func:`build_verifier` its
verifier (raw bytes, constant-time compare, several secrets, the tolerance window where the
scheme signs a timestamp; the clock is injectable) and :func:`build_signer` its signer.
:mod:`core.signing.diagnose` finds which scheme a refused delivery would have passed. The
emulator imports this package (and only this one of ours) to sign its deliveries.
"""

from core.signing.base import (
    DEFAULT_TOLERANCE_S,
    MAX_ID_LENGTH,
    MAX_SIGNATURE_HEADER_LENGTH,
    MISSING_HEADERS,
    Headers,
    Signer,
    Verified,
    Verifier,
)
from core.signing.config import (
    DEFAULT_SCHEME,
    DEFAULTS,
    SCHEME_NAMES,
    SIGNATURE_ENCODINGS,
    SchemeConfig,
    SchemeName,
    SignatureEncoding,
    resolve,
    settings_for,
)
from core.signing.registry import build_signer, build_verifier, signing_headers
from core.signing.secrets import (
    SECRET_ENCODINGS,
    SECRET_PREFIX,
    SecretEncoding,
    WebhookSecret,
    in_encoding,
    parse_secret,
    parse_secrets,
    split_secrets,
)
from core.signing.standard_webhooks import (
    SIGNATURE_VERSION,
    compute_signature,
    sign,
    sign_headers,
    verify,
)

__all__ = [
    "DEFAULTS",
    "DEFAULT_SCHEME",
    "DEFAULT_TOLERANCE_S",
    "MAX_ID_LENGTH",
    "MAX_SIGNATURE_HEADER_LENGTH",
    "MISSING_HEADERS",
    "SCHEME_NAMES",
    "SECRET_ENCODINGS",
    "SECRET_PREFIX",
    "SIGNATURE_ENCODINGS",
    "SIGNATURE_VERSION",
    "Headers",
    "SchemeConfig",
    "SchemeName",
    "SecretEncoding",
    "SignatureEncoding",
    "Signer",
    "Verified",
    "Verifier",
    "WebhookSecret",
    "build_signer",
    "build_verifier",
    "compute_signature",
    "in_encoding",
    "parse_secret",
    "parse_secrets",
    "resolve",
    "settings_for",
    "sign",
    "sign_headers",
    "signing_headers",
    "split_secrets",
    "verify",
]
