"""The events pages' filter form: query string in, :class:`EventFilter` and form values out.

A bad value never fails the page: it is dropped from the filter and said next to the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from core.errors import ConfigError
from core.replay import parse_since
from core.store import Status
from core.store.inspect import Cursor, EventFilter
from receiver.inspector.present import decode_cursor

MAX_TEXT = 200  # longer filter values are refused (no id or event type is that long)
STATUSES = [s.value for s in Status]


@dataclass(slots=True)
class FilterForm:
    where: EventFilter
    values: dict[str, str]  # what the form shows (and links keep)
    lookup: str | None = None  # "delivery id or entity id"
    before: Cursor | None = None
    errors: list[str] = field(default_factory=list)

    def query(self, **extra: str) -> str:
        """The filter as a query string (for links), with ``extra`` fields."""
        return urlencode({k: v for k, v in {**self.values, **extra}.items() if v})


def parse_filters(query: Mapping[str, str], *, fixed_status: Status | None = None) -> FilterForm:
    values = {k: query.get(k, "").strip()[:MAX_TEXT] for k in ("status", "event", "since", "q")}
    errors: list[str] = []
    status = fixed_status
    if fixed_status is None and values["status"]:
        if values["status"] in STATUSES:
            status = Status(values["status"])
        else:
            errors.append(f"status must be one of {', '.join(STATUSES)}")
            values["status"] = ""
    since = None
    if values["since"]:
        try:
            since = parse_since(values["since"])
        except ConfigError:
            errors.append("since: an ISO-8601 time (2026-05-01T10:00) or a duration (90m, 2h, 7d)")
            values["since"] = ""
    if fixed_status is not None:
        values.pop("status")
    where = EventFilter(
        status=status,
        event_type=values["event"] or None,
        since=since,
        entity_id=values["q"] or None,
    )
    return FilterForm(
        where=where,
        values=values,
        lookup=values.get("q") or None,
        before=decode_cursor(query.get("before")),
        errors=errors,
    )
