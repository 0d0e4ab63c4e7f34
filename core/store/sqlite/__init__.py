"""The SQLite event store: one file, one receiver process, any number of workers on its host.

``store`` implements :class:`core.store.EventStore` by delegating each concern to a module:
``connections`` (who holds which connection), ``migrations``, ``batch`` (the receiver's group
commit), ``reads``, ``worker_writes`` and ``selfcheck``; ``mirror`` keeps the handlers' mirror
tables in the same file. All of their SQL runs on plain ``sqlite3`` connections (sqlite-utils
only wraps one for tools: ``SQLiteConnections.db``).
"""

from core.store.sqlite.store import SQLiteEventStore

__all__ = ["SQLiteEventStore"]
