"""The PostgreSQL event store: any number of receivers and workers on any number of hosts.

``store`` implements :class:`core.store.EventStore` on a ``psycopg_pool`` pool
(``connections``); ``migrations``, ``batch``, ``reads``, ``worker_writes`` and ``lease`` hold
its SQL by concern; ``mirror`` keeps the handlers' mirror tables in the same database.
"""

from core.store.postgres.mirror import PostgresMirror, PostgresMirrorStore
from core.store.postgres.store import PostgresEventStore

__all__ = ["PostgresEventStore", "PostgresMirror", "PostgresMirrorStore"]
