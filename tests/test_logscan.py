from __future__ import annotations

import json
import logging

import pytest

from core.logs import json_formatter
from tests.fixtures.logscan import _KeepAll, find_leaks


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


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ('{"message": "secret whsec\\u005fMfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}', "webhook secret"),
        (
            'receiver-0.log: {"level": "INFO", "key": "bk\\u005ftest_abcdefghijklmnopqrstuvwx"}',
            "API key",
        ),
        ('{"sig": "v1,g0hM9SsE+OTPJTGt\\/tmIKtSyZlE3uFJELVlNIOLJ1OE="}', "signature"),
    ],
    ids=["escaped-underscore", "after-a-prefix", "escaped-slash"],
)
def test_the_log_scan_decodes_json_lines_before_looking(line: str, what: str) -> None:
    assert json.loads(line[line.index("{") :])  # a real JSON line
    assert find_leaks([line]) == [(1, what)]


def test_the_log_scan_sees_extra_fields_that_only_json_lines_show() -> None:
    handler = _KeepAll()
    record = logging.LogRecord(
        "receiver.x", logging.INFO, __file__, 1, "delivery refused", (), None
    )
    record.signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    handler.emit(record)
    assert json.loads(json_formatter().format(record))["signature"] == record.signature
    assert find_leaks(handler.lines) == [(2, "signature")]
