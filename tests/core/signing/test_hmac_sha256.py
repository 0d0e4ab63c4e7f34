"""The generic hmac-sha256 scheme: every template, encoding and prefix, checked against an
HMAC computed here with the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from multidict import CIMultiDict

from core.errors import VerificationError
from core.signing import WebhookSecret, build_signer, build_verifier, resolve
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET

NOW = 1_700_000_000
BODY = b'{"event":"customer.created","metadata":{"delivery_id":"dlv_9"}}'
KEY = TEST_SECRET.encode()  # the text encoding: the secret's bytes as written


def mac(signed: bytes, encoding: str = "hex", key: bytes = KEY) -> str:
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def verify(headers: dict[str, str], body: bytes = BODY, *, now: int = NOW, **settings: str):  # type: ignore[no-untyped-def]
    config = resolve("hmac-sha256", **settings)
    verified = build_verifier(config, [KEY], clock=lambda: float(now)).verify(
        CIMultiDict(headers), body
    )
    assert verified.secret_index == 0  # the one key
    return verified[:2]


def test_a_plain_hex_hmac_of_the_body_verifies_by_default() -> None:
    assert verify({"X-Billoget-Signature": mac(BODY)}) == (None, None)


@pytest.mark.parametrize("prefix", ["sha256=", "v1,", "v1="])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_a_prefixed_signature_in_either_encoding_verifies(prefix: str, encoding: str) -> None:
    value = prefix + mac(BODY, encoding)
    got = verify(
        {"X-Signature": value},
        signature_header="X-Signature",
        encoding=encoding,
        prefix=prefix,
    )
    assert got == (None, None)


def test_a_timestamped_template_reads_the_timestamp_header_and_checks_the_window() -> None:
    signed = f"{NOW}.".encode() + BODY
    headers = {"X-Billoget-Signature": mac(signed), "X-Billoget-Timestamp": str(NOW)}
    assert verify(headers, signed_content="{timestamp}.{body}") == (None, NOW)
    with pytest.raises(VerificationError, match="too old"):
        verify(headers, now=NOW + 301, signed_content="{timestamp}.{body}")


def test_an_id_template_reads_the_id_header_as_the_delivery_id() -> None:
    signed = f"dlv_9.{NOW}.".encode() + BODY
    headers = {"X-Sig": mac(signed), "X-Ts": str(NOW), "X-Id": "dlv_9"}
    got = verify(
        headers,
        signature_header="X-Sig",
        timestamp_header="X-Ts",
        id_header="X-Id",
        signed_content="{id}.{timestamp}.{body}",
    )
    assert got == ("dlv_9", NOW)


def test_several_signatures_one_per_secret_verify_during_rotation() -> None:
    other = mac(BODY, key=OTHER_SECRET.encode())
    assert verify({"X-Billoget-Signature": f"{other} {mac(BODY)}"}) == (None, None)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"prefix": "sha256="},
        {"encoding": "base64"},
        {"signed_content": "{timestamp}.{body}"},
        {"signed_content": "{id}:{timestamp}:{body}", "id_header": "X-Id"},
    ],
    ids=["default", "prefix", "base64", "timestamp", "id-with-colons"],
)
def test_our_signer_and_verifier_agree_for_every_variant(settings: dict[str, str]) -> None:
    config = resolve("hmac-sha256", **settings)
    headers = build_signer(config).headers(
        [WebhookSecret.from_text(TEST_SECRET)], "dlv_9", BODY, timestamp=NOW
    )
    got = build_verifier(config, [KEY], clock=lambda: float(NOW)).verify(CIMultiDict(headers), BODY)
    assert got[0] == ("dlv_9" if "id_header" in settings else None)


@pytest.mark.parametrize(
    ("headers", "settings"),
    [
        ({}, {}),
        ({"X-Billoget-Signature": ""}, {}),
        ({"X-Billoget-Signature": mac(BODY + b" ")}, {}),
        ({"X-Billoget-Signature": "sha256=" + mac(BODY)}, {}),
        ({"X-Billoget-Signature": mac(BODY)}, {"prefix": "sha256="}),
        ({"X-Billoget-Signature": mac(BODY, "base64")}, {}),
        ({"X-Billoget-Signature": mac(BODY)[:-2]}, {}),
        ({"X-Billoget-Signature": mac(BODY).upper() + "zz"}, {}),
        ({"X-Billoget-Signature": mac(BODY, key=OTHER_SECRET.encode())}, {}),
        ({"X-Billoget-Signature": mac(BODY) + " " * 5000}, {}),
        (
            {"X-Billoget-Signature": mac(f"{NOW}.".encode() + BODY)},
            {"signed_content": "{timestamp}.{body}"},
        ),
        (
            {
                "X-Billoget-Signature": mac(f"{NOW}.".encode() + BODY),
                "X-Billoget-Timestamp": f"{NOW}.5",
            },
            {"signed_content": "{timestamp}.{body}"},
        ),
        (
            {
                "X-Billoget-Signature": mac(f"{NOW}.".encode() + BODY),
                "X-Billoget-Timestamp": str(NOW + 1),
            },
            {"signed_content": "{timestamp}.{body}"},
        ),
    ],
    ids=[
        "missing",
        "empty",
        "tampered-body",
        "unexpected-prefix",
        "missing-prefix",
        "wrong-encoding",
        "short",
        "not-hex",
        "other-secret",
        "oversized",
        "missing-timestamp",
        "float-timestamp",
        "other-timestamp",
    ],
)
def test_malformed_or_wrong_hmac_input_is_a_verification_error(
    headers: dict[str, str], settings: dict[str, str]
) -> None:
    with pytest.raises(VerificationError):
        verify(headers, **settings)


def test_upper_case_hex_is_the_same_digest() -> None:
    assert verify({"X-Billoget-Signature": mac(BODY).upper()}) == (None, None)
