from __future__ import annotations

import pytest

from tests.fixtures.logscan import find_leaks


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("key=bk_test_abcdefghijklmnopqrstuvwxyz012345", "API key"),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw here", "webhook secret"),
        ("sig v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= bad", "signature"),
    ],
)
def test_the_log_scan_finds_each_kind_of_leak(line: str, what: str) -> None:
    assert find_leaks(["harmless", line]) == [(2, what)]


def test_the_log_scan_finds_a_known_value_without_its_prefix() -> None:
    assert find_leaks(
        ["raw MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], known=["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
    )


def test_the_log_scan_passes_key_prefixes_and_delivery_ids() -> None:
    assert find_leaks(["key bk_test_AbCd delivery dlv_123 status 401"]) == []
