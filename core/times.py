"""Time as the product writes it: fixed-width ISO-8601 UTC text with microseconds and ``Z``.

Every stored timestamp uses this one form, so text comparison is time comparison (the store's
indexes and the sweeper's queries rely on that).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime


def utcnow() -> str:
    """Now as fixed-width ISO-8601 UTC text (sorts as it compares)."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    if utc.year >= 1000:  # isoformat is several times faster than strftime, same text
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # %Y does not zero-pad years before 1000


_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration_s(text: str) -> float | None:
    """``90s``, ``15m``, ``2h``, ``7d`` (also ``1.5h``) in seconds; None if not a duration."""
    match = _DURATION_RE.match(text.strip())
    return float(match.group(1)) * _UNIT_S[match.group(2)] if match else None
