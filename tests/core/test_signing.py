from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
import standardwebhooks

from core.errors import ConfigError, VerificationError
from core.signing import WebhookSecret, parse_secrets, sign, sign_headers, verify, verify_match
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET

VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
NOW = float(VECTOR_TS)


def _verify(
    signature: str | None,
    *,
    ts: str | None = str(VECTOR_TS),
    msg_id: str | None = VECTOR_ID,
    body: bytes = VECTOR_BODY,
    secrets: list[WebhookSecret] | None = None,
    now: float = NOW,
) -> int:
    return verify(
        secrets or [WebhookSecret.parse(TEST_SECRET)],
        msg_id=msg_id,
        timestamp=ts,
        signature=signature,
        body=body,
        now=lambda: now,
    )


def test_sign_matches_the_public_test_vector() -> None:
    assert sign(TEST_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG


def test_verify_accepts_the_public_test_vector() -> None:
    assert _verify(VECTOR_SIG) == VECTOR_TS


def test_our_signature_verifies_with_the_standardwebhooks_library() -> None:
    body = b'{"event":"budget.created","data":{"id":1}}'
    headers = sign_headers(TEST_SECRET, "dlv_1", body)
    payload = standardwebhooks.Webhook(TEST_SECRET).verify(body, headers)
    assert payload["event"] == "budget.created"


def test_the_standardwebhooks_library_signature_verifies_with_ours() -> None:
    body = '{"event":"customer.updated","data":{"id":"c-9"}}'
    now = datetime.now(UTC)
    signature = standardwebhooks.Webhook(TEST_SECRET).sign("dlv_2", now, body)
    ts = int(now.timestamp())
    assert _verify(signature, ts=str(ts), msg_id="dlv_2", body=body.encode(), now=ts) == ts


def test_any_of_several_secrets_verifies_during_rotation() -> None:
    secrets = parse_secrets(f"{OTHER_SECRET}, {TEST_SECRET}")
    assert _verify(VECTOR_SIG, secrets=secrets) == VECTOR_TS


def test_sign_with_several_secrets_emits_one_signature_each() -> None:
    header = sign([TEST_SECRET, OTHER_SECRET], VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    assert header.split(" ")[0] == VECTOR_SIG
    assert len(header.split(" ")) == 2
    assert _verify(header, secrets=[WebhookSecret.parse(OTHER_SECRET)]) == VECTOR_TS


def test_secret_repr_never_shows_the_key() -> None:
    secret = WebhookSecret.parse(TEST_SECRET)
    assert "MfKQ" not in repr(secret) and "MfKQ" not in str(secret)


def test_secret_round_trips_through_its_text_form() -> None:
    assert WebhookSecret.parse(WebhookSecret.parse(TEST_SECRET).encode()) == WebhookSecret.parse(
        TEST_SECRET
    )


@pytest.mark.parametrize(
    "text",
    ["", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_!!!!", "whsec_c2hvcnQ="],
    ids=["empty", "no-prefix", "prefix-only", "not-base64", "too-short"],
)
def test_bad_secret_is_a_config_error_without_its_value(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        WebhookSecret.parse(text)
    value = text.removeprefix("whsec_")
    if len(value) > 3:
        assert value not in caught.value.message


_GOOD = VECTOR_SIG
_OTHER_SIG = "v1," + base64.b64encode(b"x" * 32).decode()


@pytest.mark.parametrize(
    ("signature", "ts", "msg_id", "body", "now"),
    [
        (None, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        ("", str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        (_GOOD, None, VECTOR_ID, VECTOR_BODY, NOW),
        (_GOOD, str(VECTOR_TS), None, VECTOR_BODY, NOW),
        (_GOOD, str(VECTOR_TS), "", VECTOR_BODY, NOW),
        (_GOOD, str(VECTOR_TS), "id with space", VECTOR_BODY, NOW),
        (_GOOD, str(VECTOR_TS), "x" * 300, VECTOR_BODY, NOW),
        (_GOOD, f"{VECTOR_TS}.5", VECTOR_ID, VECTOR_BODY, NOW),
        (_GOOD, "-1", VECTOR_ID, VECTOR_BODY, NOW),
        (_GOOD, "1e9", VECTOR_ID, VECTOR_BODY, NOW),
        (_GOOD, "abc", VECTOR_ID, VECTOR_BODY, NOW),
        (_GOOD, "9" * 40, VECTOR_ID, VECTOR_BODY, NOW),
        (_GOOD, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW + 301),
        (_GOOD, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW - 301),
        (_GOOD, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY + b" ", NOW),
        (_GOOD, str(VECTOR_TS), VECTOR_ID, b"", NOW),
        (_GOOD, str(VECTOR_TS), VECTOR_ID + "x", VECTOR_BODY, NOW),
        (_OTHER_SIG, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        ("v1", str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        ("v1,", str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        ("v1,!!notbase64!!", str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        ("v2," + _GOOD[3:], str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        ("v1a,g0hM9SsE", str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        ("v1," + "A" * 5000, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
        (",,, ,", str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW),
    ],
    ids=[
        "missing-signature",
        "empty-signature",
        "missing-timestamp",
        "missing-id",
        "empty-id",
        "id-with-space",
        "id-too-long",
        "float-timestamp",
        "negative-timestamp",
        "exponent-timestamp",
        "garbage-timestamp",
        "huge-timestamp",
        "stale",
        "future",
        "tampered-body",
        "empty-body",
        "other-id",
        "wrong-signature",
        "version-only",
        "empty-base64",
        "garbage-base64",
        "unknown-version-only",
        "malformed-token",
        "oversized-header",
        "separators-only",
    ],
)
def test_malformed_or_wrong_input_is_a_verification_error(
    signature: str | None, ts: str | None, msg_id: str | None, body: bytes, now: float
) -> None:
    with pytest.raises(VerificationError):
        _verify(signature, ts=ts, msg_id=msg_id, body=body, now=now)


def test_a_valid_signature_among_garbage_tokens_is_accepted() -> None:
    assert _verify(f"v2,zzz v1,@@ {VECTOR_SIG} junk") == VECTOR_TS


def test_tolerance_is_configurable() -> None:
    s = [WebhookSecret.parse(TEST_SECRET)]
    kwargs = {
        "msg_id": VECTOR_ID,
        "timestamp": str(VECTOR_TS),
        "signature": VECTOR_SIG,
        "body": VECTOR_BODY,
    }
    with pytest.raises(VerificationError):
        verify(s, **kwargs, tolerance_s=10, now=lambda: NOW + 11)  # type: ignore[arg-type]
    assert verify(s, **kwargs, tolerance_s=10, now=lambda: NOW + 10) == VECTOR_TS  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("signature", "ts", "msg_id", "body", "now", "reason"),
    [
        (None, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW, "missing_headers"),
        (_GOOD, None, VECTOR_ID, VECTOR_BODY, NOW, "missing_headers"),
        (_GOOD, str(VECTOR_TS), None, VECTOR_BODY, NOW, "missing_headers"),
        (_GOOD, "abc", VECTOR_ID, VECTOR_BODY, NOW, "missing_headers"),
        (_GOOD, str(VECTOR_TS), "id with space", VECTOR_BODY, NOW, "missing_headers"),
        ("v1," + "A" * 5000, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW, "missing_headers"),
        (_GOOD, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW + 301, "timestamp_too_old"),
        (_GOOD, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW - 301, "timestamp_in_future"),
        (_GOOD, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY + b" ", NOW, "invalid_signature"),
        (_OTHER_SIG, str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW, "invalid_signature"),
        ("v2," + _GOOD[3:], str(VECTOR_TS), VECTOR_ID, VECTOR_BODY, NOW, "invalid_signature"),
    ],
    ids=[
        "missing-signature",
        "missing-timestamp",
        "missing-id",
        "garbage-timestamp",
        "bad-id",
        "oversized-header",
        "stale",
        "future",
        "tampered-body",
        "wrong-signature",
        "only-another-version",
    ],
)
def test_each_verification_error_names_its_reason(
    signature: str | None, ts: str | None, msg_id: str | None, body: bytes, now: float, reason: str
) -> None:
    with pytest.raises(VerificationError) as caught:
        _verify(signature, ts=ts, msg_id=msg_id, body=body, now=now)
    assert caught.value.reason == reason


def test_verify_match_names_the_secret_that_matched() -> None:
    secrets = [WebhookSecret.parse(OTHER_SECRET), WebhookSecret.parse(TEST_SECRET)]
    found = verify_match(
        secrets,
        msg_id=VECTOR_ID,
        timestamp=str(VECTOR_TS),
        signature=f"{_OTHER_SIG} {VECTOR_SIG}",
        body=VECTOR_BODY,
        now=lambda: NOW,
    )
    assert found == (VECTOR_TS, 1)


def test_a_fingerprint_is_short_stable_distinct_and_reveals_nothing() -> None:
    first, second = WebhookSecret.parse(TEST_SECRET), WebhookSecret.parse(OTHER_SECRET)
    assert first.fingerprint() == WebhookSecret.parse(TEST_SECRET).fingerprint()
    assert first.fingerprint() != second.fingerprint()
    assert len(first.fingerprint()) == 8 and int(first.fingerprint(), 16) >= 0
    assert first.fingerprint() not in TEST_SECRET and first.fingerprint() not in first.key.hex()
