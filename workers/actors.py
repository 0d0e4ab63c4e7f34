"""The one actor: ``process_event(delivery_id, event_type=...)`` on ``core.queue.QUEUE_NAME``.

The receiver enqueues exactly :func:`core.queue.build_message`; declaring the actor binds that
name to a :class:`~workers.runtime.WorkerRuntime` on a broker.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from core.queue import ACTOR_NAME, QUEUE_NAME
from workers.runtime import RuntimeCloser, WorkerRuntime

# Dramatiq's own limit is a backstop above ours (asyncio.timeout in the processor).
TIME_LIMIT_MARGIN_S = 30.0


def declare_actor(broker: dramatiq.Broker, runtime: WorkerRuntime) -> dramatiq.Actor[Any, Any]:
    # a plain function: the store's bookkeeping runs on the worker thread, and only the handlers
    # go to the event loop (WorkerRuntime.process); an event no handler wants never does
    def process_event(delivery_id: str, event_type: str | None = None) -> None:
        runtime.process(delivery_id, event_type=event_type)

    broker.add_middleware(RuntimeCloser(runtime))
    return dramatiq.Actor(
        process_event,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE_NAME,
        priority=0,
        options={
            "max_retries": 0,
            "time_limit": int((runtime.settings.worker_time_limit_s + TIME_LIMIT_MARGIN_S) * 1000),
        },
    )
