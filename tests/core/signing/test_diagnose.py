"""The diagnosis names the scheme, the variant and the secret that refused deliveries verify
with, in one sentence that never shows a secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace

import pytest

from core.signing import DEFAULTS, SchemeConfig, WebhookSecret, build_signer, resolve
from core.signing.diagnose import Refused, diagnose, fingerprint
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET

NOW = 1_700_000_000
STANDARD = DEFAULTS["standard-webhooks"]


def body(n: int) -> bytes:
    return b'{"event":"budget.approved","metadata":{"delivery_id":"dlv_%d"}}' % n


def refused(config: SchemeConfig, secret: WebhookSecret, n: int = 0, **extra: str) -> Refused:
    headers = build_signer(config).headers([secret], f"dlv_{n}", body(n), timestamp=NOW + n)
    headers |= {"Content-Type": "application/json", "User-Agent": "Billoget", **extra}
    return Refused(headers=tuple(headers.items()), body=body(n), reason="no signature matches")


def raw(headers: dict[str, str], n: int = 0) -> Refused:
    return Refused(headers=tuple(headers.items()), body=body(n))


def sentence(
    items: list[Refused], *, secrets: str = TEST_SECRET, current: SchemeConfig = STANDARD
) -> str:
    return diagnose(items, secrets_text=secrets, current=current).sentence()


def test_stripe_style_deliveries_to_a_standard_webhooks_receiver_name_stripe_style() -> None:
    items = [
        refused(DEFAULTS["stripe-style"], WebhookSecret.from_text(TEST_SECRET), n) for n in range(3)
    ]
    assert sentence(items) == (
        "the last 3 refused deliveries verify as stripe-style (header X-Billoget-Signature) "
        "with your first secret: set BILLOGET_SIGNATURE_SCHEME=stripe-style"
    )


def test_a_prefixed_hex_hmac_of_the_body_names_every_setting_it_needs() -> None:
    key = TEST_SECRET.encode()
    items = [
        raw({"X-Signature": "sha256=" + hmac.new(key, body(n), hashlib.sha256).hexdigest()}, n)
        for n in range(2)
    ]
    assert sentence(items) == (
        "the last 2 refused deliveries verify as hmac-sha256 (header X-Signature, prefix "
        "sha256=, hex of {body}) with your first secret: set BILLOGET_SIGNATURE_SCHEME="
        "hmac-sha256 BILLOGET_SIGNATURE_HEADER=X-Signature BILLOGET_SIGNATURE_PREFIX=sha256="
    )


def test_a_base64_hmac_with_the_decoded_key_names_the_secret_encoding() -> None:
    key = WebhookSecret.parse(TEST_SECRET).key
    digest = hmac.new(key, f"{NOW}.".encode() + body(0), hashlib.sha256).digest()
    item = raw(
        {"X-Hook-Signature": base64.b64encode(digest).decode(), "X-Hook-Timestamp": str(NOW)}
    )
    found = diagnose([item], secrets_text=TEST_SECRET, current=STANDARD)
    assert found.settings() == {
        "BILLOGET_SIGNATURE_SCHEME": "hmac-sha256",
        "BILLOGET_SIGNATURE_HEADER": "X-Hook-Signature",
        "BILLOGET_TIMESTAMP_HEADER": "X-Hook-Timestamp",
        "BILLOGET_SIGNATURE_ENCODING": "base64",
        "BILLOGET_SIGNED_CONTENT": "{timestamp}.{body}",
        "BILLOGET_SECRET_ENCODING": "base64",
    }
    assert "(read as its decoded key bytes)" in found.sentence()


def test_standard_webhooks_under_other_header_names_is_found() -> None:
    config = resolve(
        "standard-webhooks",
        id_header="svix-id",
        timestamp_header="svix-timestamp",
        signature_header="svix-signature",
    )
    found = diagnose(
        [refused(config, WebhookSecret.parse(TEST_SECRET))],
        secrets_text=TEST_SECRET,
        current=STANDARD,
    )
    assert found.fit is not None and found.fit.config == config


def test_standard_webhooks_signed_with_the_secret_as_text_names_the_text_encoding() -> None:
    item = refused(STANDARD, WebhookSecret.from_text(TEST_SECRET))
    assert sentence([item]).endswith(
        "set BILLOGET_SIGNATURE_SCHEME=standard-webhooks BILLOGET_SECRET_ENCODING=text"
    )


def test_the_secret_that_fits_is_named_by_its_place() -> None:
    items = [refused(DEFAULTS["stripe-style"], WebhookSecret.from_text(OTHER_SECRET))]
    assert "with your second secret" in sentence(items, secrets=f"{TEST_SECRET} {OTHER_SECRET}")


def test_a_wrong_secret_is_reported_with_its_fingerprint_and_the_shape_seen() -> None:
    items = [
        refused(DEFAULTS["stripe-style"], WebhookSecret.from_text(OTHER_SECRET), n)
        for n in range(2)
    ]
    text = sentence(items)
    assert text.startswith(
        "none of the last 2 refused deliveries verifies with any configured secret under any "
        "known scheme: the secret is probably wrong (fingerprint " + fingerprint(TEST_SECRET)
    )
    assert "they look signed as stripe-style (header X-Billoget-Signature)" in text


def test_deliveries_that_verify_with_the_configured_scheme_were_refused_for_another_reason() -> (
    None
):
    stale = "webhook-timestamp is too old (outside the tolerance)"
    items = [
        replace(refused(STANDARD, WebhookSecret.parse(TEST_SECRET), n), reason=stale)
        for n in range(2)
    ]
    text = sentence(items)
    assert text.endswith(f"the configured scheme: they were refused for another reason ({stale})")


def test_some_fitting_and_some_not_says_how_many() -> None:
    good = [
        refused(DEFAULTS["stripe-style"], WebhookSecret.from_text(TEST_SECRET), n) for n in range(3)
    ]
    bad = [refused(DEFAULTS["stripe-style"], WebhookSecret.from_text(OTHER_SECRET), 9)]
    assert sentence(good + bad).startswith(
        "3 of the last 4 refused deliveries verify as stripe-style"
    )


def test_nothing_refused_is_nothing_to_diagnose() -> None:
    assert "refused no delivery" in sentence([])


def test_a_body_too_large_to_keep_whole_is_not_judged() -> None:
    item = Refused(headers=(("X-Billoget-Signature", "t=1,v1=00"),), body=b"x", body_truncated=True)
    found = diagnose([item], secrets_text=TEST_SECRET, current=STANDARD)
    assert (found.checked, found.truncated) == (0, 1)
    assert "over 64 KB" in found.sentence()


@pytest.mark.parametrize("scheme", ["standard-webhooks", "stripe-style", "hmac-sha256"])
def test_the_sentence_never_shows_a_secret(scheme: str) -> None:
    items = [refused(DEFAULTS[scheme], WebhookSecret.from_text(OTHER_SECRET))]
    for text in (sentence(items), sentence(items, secrets=f"{TEST_SECRET},{OTHER_SECRET}")):
        for secret in (TEST_SECRET, OTHER_SECRET):
            assert secret not in text and secret.removeprefix("whsec_") not in text
            assert secret.removeprefix("whsec_")[:8] not in text
