"""Keep the garbage collector off what a process builds at start-up (issue 14).

A started receiver holds about 95,000 objects the collector tracks (aiohttp's routes, pydantic's
validators, prometheus_client's families, the settings). Every full collection walked them all:
measured at 1,000 deliveries/s on this 2-core machine, one took 38 ms, a pause every request in
flight waited out. Once start-up is done, :func:`freeze_startup_heap` moves them to the
permanent generation (:func:`gc.freeze`), so the collector walks only what was allocated since,
about 2,000 objects in the same run. Nothing is leaked: frozen objects are the long-lived ones,
and anything created later is collected as before. ``serve`` freezes once its application has
started, ``worker`` once its threads are running.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then freeze every surviving object; returns how many are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
