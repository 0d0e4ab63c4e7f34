"""The relay sweeper's lease on PostgreSQL: a session advisory lock on a connection of its own.

``pg_try_advisory_lock`` never waits; the lock lives as long as the session. When the holder
dies (``kill -9``, host lost) its TCP connection closes and the server drops the lock, so
another receiver takes it at its next try (the sweep interval, 5 s by default); when the
holder's connection breaks, :meth:`AdvisoryLease.held` says False and reconnects at the next
call. Every call checks the session with a round trip, so a holder that lost its connection
stops sweeping before anyone else can start.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

from core.store.postgres.connections import TRANSIENT

log = logging.getLogger(__name__)

SWEEPER_LOCK_KEY = 0x6268737765657072  # "bhsweepr"


class AdvisoryLease:
    def __init__(self, url: str, *, connect_timeout_s: int, key: int = SWEEPER_LOCK_KEY) -> None:
        self._url = url
        self._connect_timeout_s = connect_timeout_s
        self._key = key
        self._conn: psycopg.Connection[Any] | None = None
        self._holding = False
        self._lock = threading.Lock()

    def held(self) -> bool:
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._holding = False
                    self._conn = psycopg.connect(
                        self._url,
                        autocommit=True,
                        connect_timeout=self._connect_timeout_s,
                        application_name="billoget-hooks sweeper lease",
                    )
                if self._holding:
                    self._conn.execute("SELECT 1")
                else:
                    row = self._conn.execute(
                        "SELECT pg_try_advisory_lock(%s)", (self._key,)
                    ).fetchone()
                    self._holding = bool(row and row[0])
            except TRANSIENT as exc:
                log.debug("sweeper lease: %s", type(exc).__name__)
                self._drop()
            return self._holding

    def release(self) -> None:
        with self._lock:
            if self._conn is not None and self._holding:
                try:  # at once, rather than when the server notices the closed session
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
                except TRANSIENT:
                    log.debug("sweeper lease: unlock failed; closing the session drops it")
            self._drop()

    def _drop(self) -> None:
        self._holding = False
        if self._conn is not None:
            try:
                self._conn.close()  # ends the session: the server drops the lock
            except psycopg.Error:
                log.debug("closing the sweeper lease connection failed")
            self._conn = None
