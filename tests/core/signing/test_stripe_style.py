"""The stripe-style scheme against Stripe's published algorithm, written here from its
description ("Verify signatures manually", Stripe's webhook docs): split the header on ``,``
and each element on ``=``; ``t`` is the timestamp, every ``v1`` a signature, others ignored;
the signed payload is ``"{t}.{body}"``; the key is the endpoint secret as text; compare in
constant time; accept inside the tolerance."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from multidict import CIMultiDict

from core.errors import VerificationError
from core.signing import DEFAULTS, WebhookSecret, build_signer, build_verifier, resolve
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET

NOW = 1_700_000_000
BODY = b'{"event":"budget.approved","data":{"id":7},"metadata":{"delivery_id":"dlv_1"}}'
HEADER = "X-Billoget-Signature"


def stripe_sign(secret: str, body: bytes, timestamp: int) -> str:
    signed_payload = f"{timestamp}.{body.decode()}"
    mac = hmac.new(secret.encode(), signed_payload.encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def stripe_verify(secret: str, body: bytes, header: str, *, now: int, tolerance: int = 300) -> bool:
    pairs = [item.split("=", 1) for item in header.split(",")]
    timestamp = next(value for key, value in pairs if key == "t")
    signatures = [value for key, value in pairs if key == "v1"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.{body.decode()}".encode(), hashlib.sha256
    ).hexdigest()
    matched = any(hmac.compare_digest(expected, s) for s in signatures)
    return matched and abs(now - int(timestamp)) <= tolerance


def verifier(*secrets: str, now: int = NOW, **overrides: str):  # type: ignore[no-untyped-def]
    config = resolve("stripe-style", **overrides)
    keys = [WebhookSecret.from_text(s).key for s in secrets or (TEST_SECRET,)]
    return build_verifier(config, keys, clock=lambda: float(now))


def headers(value: str, name: str = HEADER) -> CIMultiDict[str]:
    return CIMultiDict({name: value})


def test_a_delivery_signed_by_stripes_algorithm_verifies_with_ours() -> None:
    header = stripe_sign(TEST_SECRET, BODY, NOW)
    assert verifier().verify(headers(header), BODY) == (None, NOW, 0)


def test_our_stripe_style_signature_verifies_with_stripes_algorithm() -> None:
    signed = build_signer("stripe-style").headers(
        [WebhookSecret.from_text(TEST_SECRET)], "dlv_1", BODY, timestamp=NOW
    )
    assert stripe_verify(TEST_SECRET, BODY, signed[HEADER], now=NOW)


def test_several_v1_values_verify_when_one_is_ours_and_others_are_ignored() -> None:
    other = stripe_sign(OTHER_SECRET, BODY, NOW).split(",")[1]
    ours = stripe_sign(TEST_SECRET, BODY, NOW).split(",")[1]
    value = f"t={NOW},{other},v0=deadbeef,{ours}"
    assert verifier().verify(headers(value), BODY)[1] == NOW


def test_every_configured_secret_verifies_during_rotation() -> None:
    header = stripe_sign(OTHER_SECRET, BODY, NOW)
    assert verifier(TEST_SECRET, OTHER_SECRET).verify(headers(header), BODY)[1] == NOW


def test_the_header_name_and_the_encoding_are_configurable() -> None:
    import base64

    mac = hmac.new(TEST_SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).digest()
    value = f"t={NOW},v1={base64.b64encode(mac).decode()}"
    v = verifier(signature_header="Billoget-Signature", encoding="base64")
    assert v.verify(headers(value, "Billoget-Signature"), BODY)[1] == NOW


def test_a_configured_id_header_is_the_delivery_id() -> None:
    value = stripe_sign(TEST_SECRET, BODY, NOW)
    got = verifier(id_header="X-Billoget-Delivery").verify(
        CIMultiDict({HEADER: value, "X-Billoget-Delivery": "dlv_1"}), BODY
    )
    assert got == ("dlv_1", NOW, 0)


@pytest.mark.parametrize(
    ("value", "body", "now"),
    [
        ("", BODY, NOW),
        ("garbage", BODY, NOW),
        (f"v1={'a' * 64}", BODY, NOW),
        (f"t={NOW}", BODY, NOW),
        (f"t={NOW},v1=", BODY, NOW),
        (f"t={NOW},v1={'z' * 64}", BODY, NOW),
        (f"t={NOW},v1={'a' * 63}", BODY, NOW),
        (f"t={NOW},t={NOW}," + stripe_sign(TEST_SECRET, BODY, NOW).split(",")[1], BODY, NOW),
        (stripe_sign(TEST_SECRET, BODY, NOW).replace("t=", "t=-"), BODY, NOW),
        (stripe_sign(TEST_SECRET, BODY, NOW).replace("v1=", "V1="), BODY, NOW),
        (stripe_sign(TEST_SECRET, BODY, NOW), BODY + b" ", NOW),
        (stripe_sign(TEST_SECRET, BODY, NOW), BODY, NOW + 301),
        (stripe_sign(TEST_SECRET, BODY, NOW), BODY, NOW - 301),
        (stripe_sign(OTHER_SECRET, BODY, NOW), BODY, NOW),
        (stripe_sign(TEST_SECRET, BODY, NOW) + ",v1=" + "a" * 5000, BODY, NOW),
    ],
    ids=[
        "empty",
        "garbage",
        "no-timestamp",
        "no-signature",
        "empty-signature",
        "not-hex",
        "short-hex",
        "two-timestamps",
        "negative-timestamp",
        "upper-case-scheme",
        "tampered-body",
        "stale",
        "future",
        "other-secret",
        "oversized",
    ],
)
def test_malformed_or_wrong_stripe_style_input_is_a_verification_error(
    value: str, body: bytes, now: int
) -> None:
    with pytest.raises(VerificationError):
        verifier(now=now).verify(headers(value), body)


def test_a_missing_or_duplicated_header_is_a_verification_error() -> None:
    value = stripe_sign(TEST_SECRET, BODY, NOW)
    with pytest.raises(VerificationError, match="missing"):
        verifier().verify(CIMultiDict(), BODY)
    with pytest.raises(VerificationError, match="more than once"):
        verifier().verify(CIMultiDict([(HEADER, value), (HEADER, value)]), BODY)


def test_stripe_style_defaults() -> None:
    config = DEFAULTS["stripe-style"]
    assert (config.signature_header, config.encoding, config.key_encoding) == (
        HEADER,
        "hex",
        "text",
    )
    assert int(time.time()) > NOW
