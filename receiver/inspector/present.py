"""Turning store records into what a page shows: bodies without secrets, a chart, durations."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.store.inspect import Cursor

REDACTED = "[redacted]"
# keys whose values are never shown, whatever they hold
_SECRET_KEY_RE = re.compile(
    r"secret|token|password|passwd|api[_-]?key|apikey|authorization|signature|credential",
    re.IGNORECASE,
)
# values that are secrets of ours wherever they appear: webhook secrets and API keys
_SECRET_VALUE_RE = re.compile(r"whsec_[A-Za-z0-9+/=]+|bk_(?:live|test)_[A-Za-z0-9_\-]+")


def redact(value: Any) -> Any:
    """A copy of decoded JSON with secret-looking keys' values and secret values replaced."""
    if isinstance(value, dict):
        return {
            k: REDACTED if _SECRET_KEY_RE.search(str(k)) else redact(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _SECRET_VALUE_RE.sub(REDACTED, value)
    return value


def pretty_body(body: bytes) -> str:
    """The body pretty-printed with secrets redacted (a body that is not JSON: as text, with
    secret values redacted)."""
    text = body.decode("utf-8", errors="replace")
    try:
        decoded = json.loads(text)
    except ValueError:
        return _SECRET_VALUE_RE.sub(REDACTED, text)
    return json.dumps(redact(decoded), indent=2, ensure_ascii=False, sort_keys=False)


def pretty_json(value: Any) -> str:
    return json.dumps(redact(value), indent=2, ensure_ascii=False)


def encode_cursor(cursor: Cursor) -> str:
    return f"{cursor[0]}|{cursor[1]}"


def decode_cursor(text: str | None) -> Cursor | None:
    if not text or "|" not in text:
        return None
    received_at, _, delivery_id = text.partition("|")
    return (received_at, delivery_id)


def parse_time(stored: str) -> datetime:
    return datetime.fromisoformat(stored.replace("Z", "+00:00"))


def seconds_since(stored: str | None, *, now: datetime) -> float | None:
    return None if stored is None else max(0.0, (now - parse_time(stored)).total_seconds())


def duration_text(seconds: float | None) -> str:
    """``42 s``, ``5 min``, ``3 h 10 min``, ``2 d 4 h``."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


# -- the overview's chart: deliveries per minute, drawn on the server as SVG -----------------

CHART_WIDTH, CHART_HEIGHT, CHART_MINUTES = 1080, 120, 60


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    minute: str
    count: int


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    peak: int
    total: int
    first_minute: str
    last_minute: str
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


def minute_chart(per_minute: list[tuple[str, int]], *, now: datetime) -> Chart:
    """One bar per minute of the last hour (empty minutes included), scaled to the peak."""
    start = int(now.astimezone(UTC).timestamp()) // 60 - CHART_MINUTES + 1
    minutes = [
        datetime.fromtimestamp((start + i) * 60, UTC).strftime("%Y-%m-%dT%H:%M")
        for i in range(CHART_MINUTES)
    ]
    counts = dict(per_minute)
    peak = max([counts.get(m, 0) for m in minutes] + [0])
    slot = CHART_WIDTH / CHART_MINUTES
    bars = []
    for i, minute in enumerate(minutes):
        count = counts.get(minute, 0)
        height = 0.0 if peak == 0 else (CHART_HEIGHT - 4) * count / peak
        if count and height < 1:
            height = 1.0
        bars.append(
            Bar(
                x=round(i * slot + 1, 1),
                y=round(CHART_HEIGHT - height, 1),
                width=round(slot - 2, 1),
                height=round(height, 1),
                minute=minute,
                count=count,
            )
        )
    total = sum(counts.get(m, 0) for m in minutes)
    return Chart(bars, peak, total, minutes[0][11:], minutes[-1][11:])
