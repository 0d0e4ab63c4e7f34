"""Logging for every process: one format, one level, set up once in an entry point.

``LOG_FORMAT=text`` (the default, for a terminal) writes ``time LEVEL logger: message``;
``LOG_FORMAT=json`` writes one JSON object per line (python-json-logger) with ``time`` (ISO-8601
UTC), ``level``, ``logger`` and ``message``, plus whatever the call passed as ``extra``: lines
about a delivery carry ``delivery_id`` and, where known, ``event``. Use :func:`delivery_extra`
for those, so both formats name the same fields.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
JSON_RENAMES = {"levelname": "level", "name": "logger"}
QUIET_LOGGERS = ("aiohttp.access",)
LogFormat = Literal["text", "json"]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to whatever ``sys.stderr`` is at the time (it may be swapped, e.g. by pytest)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def json_formatter() -> logging.Formatter:
    """The JSON line formatter of ``LOG_FORMAT=json``."""
    return JsonFormatter(JSON_FIELDS, rename_fields=JSON_RENAMES, timestamp="time")


def delivery_extra(delivery_id: str, event: str | None = None) -> dict[str, str]:
    """``extra=`` for a log line about one delivery."""
    if event is None:
        return {"delivery_id": delivery_id}
    return {"delivery_id": delivery_id, "event": event}


def configure_logging(level: str = "INFO", *, fmt: LogFormat = "text") -> None:
    """Log to stderr at ``level`` in ``fmt``; quiet the chatty libraries. Calling it again
    changes the level and the format: other handlers on the root logger are left alone."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter(LOG_FORMAT))
    # warnings.warn(...) from libraries become log records, so a JSON log stays all JSON
    logging.captureWarnings(fmt == "json")
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
