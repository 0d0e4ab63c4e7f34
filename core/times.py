"""Time as the product writes it: fixed-width ISO-8601 UTC text with microseconds and ``Z``.

Every stored timestamp uses this one form, so text comparison is time comparison (the store's
indexes and the sweeper's queries rely on that). This module is the one home of the
conversions: to that text (:func:`format_time`, :func:`utc_text`, :func:`utcnow`,
:func:`seconds_from_now`), from ISO-8601 input (:func:`parse_time`, :func:`normalize_time`) and
back to Unix seconds (:func:`epoch`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> str:
    """Now as fixed-width ISO-8601 UTC text (sorts as it compares)."""
    return format_time(datetime.now(UTC))


def seconds_from_now(seconds: float) -> str:
    """``seconds`` after now (before it when negative) as the store's text."""
    return format_time(datetime.now(UTC) + timedelta(seconds=seconds))


def format_time(moment: datetime) -> str:
    """An aware datetime as the store's text."""
    # isoformat: several times faster than strftime, and it zero-pads years before 1000
    # (glibc's %Y does not, which broke the fixed width)
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def as_utc(moment: datetime) -> datetime:
    """A naive datetime taken as UTC; an aware one unchanged."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_text(moment: datetime) -> str:
    """:func:`format_time` of a datetime that may be naive (taken as UTC)."""
    return format_time(as_utc(moment))


def parse_time(text: str) -> datetime | None:
    """ISO-8601 text (``Z`` or an offset; UTC if neither) as an aware datetime; None if bad."""
    try:
        return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def normalize_time(value: object) -> str | None:
    """An ISO-8601 time (text or datetime) as the store's text; None if absent or bad."""
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, str) and value.strip():
        moment = parse_time(value)
        return None if moment is None else format_time(moment)
    return None


def epoch(stored: str) -> float:
    """The store's text back to Unix seconds."""
    moment = parse_time(stored)
    if moment is None:
        raise ValueError(f"not a stored time: {stored!r}")
    return moment.timestamp()
