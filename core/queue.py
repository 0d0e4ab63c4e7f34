"""Queue names and the message the receiver enqueues, shared by receiver and workers.

The receiver builds a ``dramatiq.Message`` by actor name, so the web process never imports
worker code. The message carries the delivery id (the store holds everything else) and the
event type (for routing metrics and logs).
"""

from __future__ import annotations

import dramatiq

QUEUE_NAME = "billoget-events"
ACTOR_NAME = "process_event"
# Redis hash of configuration problems the workers hit (problem → JSON {"message", "at"}),
# written by workers.problems and shown by the receiver's /readyz.
WORKER_PROBLEMS_KEY = "billoget-hooks:worker:problems"


def build_message(delivery_id: str, event_type: str) -> dramatiq.Message[object]:
    """The Dramatiq message that asks a worker to process one stored delivery."""
    return dramatiq.Message(
        queue_name=QUEUE_NAME,
        actor_name=ACTOR_NAME,
        args=(delivery_id,),
        kwargs={"event_type": event_type},
        options={},
    )
