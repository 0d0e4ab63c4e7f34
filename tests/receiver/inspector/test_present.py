"""What the inspector's pages show: bodies without secrets, the per-minute chart."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from receiver.inspector.present import REDACTED, duration_text, minute_chart, pretty_body


@pytest.mark.parametrize(
    ("data", "hidden"),
    [
        ({"apiKey": "abc123"}, "abc123"),
        ({"webhookSecret": "s3cr3t"}, "s3cr3t"),
        ({"nested": [{"access_token": "t0k3n-value"}]}, "t0k3n-value"),
        ({"Authorization": "Bearer xyz"}, "xyz"),
        ({"note": "key bk_live_ABCdef_123 leaked"}, "bk_live_ABCdef_123"),
        ({"note": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ],
)
def test_a_body_is_pretty_printed_with_its_secrets_redacted(data: object, hidden: str) -> None:
    shown = pretty_body(json.dumps({"data": data, "keep": "visible"}).encode())
    assert hidden not in shown and REDACTED in shown and '"keep": "visible"' in shown


def test_a_body_that_is_not_json_is_shown_as_text_with_secret_values_redacted() -> None:
    shown = pretty_body(b"oops bk_test_abc whsec_AAAA")
    assert shown == f"oops {REDACTED} {REDACTED}"


def test_the_chart_has_a_bar_per_minute_of_the_hour_scaled_to_the_peak() -> None:
    now = datetime(2026, 5, 1, 10, 30, 20, tzinfo=UTC)
    chart = minute_chart([("2026-05-01T10:30", 10), ("2026-05-01T09:20", 5)], now=now)
    assert len(chart.bars) == 60 and chart.peak == 10 and chart.total == 10  # 09:20 is too old
    assert chart.bars[-1].minute == "2026-05-01T10:30" and chart.bars[-1].y == 4
    assert chart.bars[0].minute == "2026-05-01T09:31" and chart.bars[0].height == 0
    assert minute_chart([], now=now).peak == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5 s"), (600, "10 min"), (3 * 3600 + 120, "3 h 2 min"), (90000, "1 d 1 h")],
)
def test_durations_read_like_a_person_says_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text
