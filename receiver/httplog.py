"""The aiohttp server's own log, tamed: a malformed request is the client's fault, not ours.

aiohttp logs every request its HTTP parser refuses (a NUL in a header, a bad Content-Length,
an over-long line, a body that does not decode) as ERROR with a traceback, and the message can
quote the offending bytes. Anyone could flood the log that way, or get a header value (say a
signature) written into it. This logger turns those records into one INFO line naming only the
kind of fault; anything else aiohttp logs passes unchanged.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

CLIENT_FAULTS = (HttpProcessingError, RequestPayloadError)
SERVER_LOGGER_NAME = "receiver.http"


class ClientFaultFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, CLIENT_FAULTS):
            status = getattr(exc, "code", 400)
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.msg, record.args = (
                "malformed request refused (%s, %s)",
                (
                    type(exc).__name__,
                    status,
                ),
            )
            record.exc_info, record.exc_text = None, None
        return True


def server_logger() -> logging.Logger:
    """The logger to give aiohttp's request handler (``handler_args={"logger": ...}``)."""
    logger = logging.getLogger(SERVER_LOGGER_NAME)
    if not any(isinstance(f, ClientFaultFilter) for f in logger.filters):
        logger.addFilter(ClientFaultFilter())
    return logger
