"""The store's one time form, and every conversion to and from it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.times import (
    epoch,
    format_time,
    normalize_time,
    parse_time,
    seconds_from_now,
    utc_text,
    utcnow,
)

T1 = "2024-01-01T00:00:01.000000Z"


def test_stored_times_are_fixed_width_utc_text_that_sorts_as_it_compares() -> None:
    early = format_time(datetime(999, 1, 1, tzinfo=UTC))
    late = format_time(datetime(2024, 1, 1, 0, 0, 1, tzinfo=timezone(timedelta(hours=1))))
    assert early == "0999-01-01T00:00:00.000000Z"
    assert late == "2023-12-31T23:00:01.000000Z"
    assert len(early) == len(late) == len(utcnow()) and early < late


def test_a_naive_time_is_taken_as_utc() -> None:
    assert utc_text(datetime(2024, 1, 1, 0, 0, 1)) == T1


def test_seconds_from_now_moves_either_way() -> None:
    before, ahead, behind = utcnow(), seconds_from_now(60), seconds_from_now(-60)
    assert behind < before < ahead
    assert 59 < epoch(ahead) - time.time() <= 60


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:01Z", T1),
        ("2024-01-01T01:00:01+01:00", T1),
        ("2024-01-01T00:00:01.000000Z", T1),
        (" 2024-01-01T00:00:01 ", T1),
        (datetime(2024, 1, 1, 0, 0, 1), T1),
        ("yesterday", None),
        ("", None),
        (None, None),
        (17, None),
    ],
)
def test_times_are_normalised_to_fixed_width_utc(value: object, expected: str | None) -> None:
    assert normalize_time(value) == expected


def test_parsing_bad_text_is_none_and_a_stored_time_goes_back_to_unix_seconds() -> None:
    assert parse_time("not a time") is None
    assert epoch(T1) == datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC).timestamp()
    with pytest.raises(ValueError, match="not a stored time"):
        epoch("nope")
