"""Time as the product writes it: fixed-width ISO-8601 UTC text with microseconds and ``Z``.

Every stored timestamp uses this one form, so text comparison is time comparison (the store's
indexes and the sweeper's queries rely on that).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> str:
    """Now as fixed-width ISO-8601 UTC text (sorts as it compares)."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    if utc.year >= 1000:  # isoformat is several times faster than strftime, same text
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # %Y does not zero-pad years before 1000
