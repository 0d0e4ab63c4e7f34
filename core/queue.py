"""Queue names, the message the receiver enqueues, and every Redis key the product uses.

The receiver builds a ``dramatiq.Message`` by actor name, so the web process never imports
worker code. The message carries the delivery id (the store holds everything else) and the
event type (for routing metrics and logs).

Every Redis key (one database, ``REDIS_URL``). Redis is transport: losing any of them loses no
event, because the store is the record and the receiver's sweeper re-enqueues what is not done.

Dramatiq's Redis broker (namespace ``dramatiq``, queue ``billoget-events``; the receiver's
fast path in ``receiver.broker`` writes the first two byte for byte as ``RedisBroker`` does):

- ``dramatiq:billoget-events``: list of message ids waiting; until a worker takes them.
- ``dramatiq:billoget-events.msgs``: hash message id → encoded message; until acked.
- ``dramatiq:billoget-events.DQ`` / ``.DQ.msgs``: the same pair for delayed messages
  (retries and deferrals); a worker takes them at once and holds them (in its ack set) until
  their time, then moves them to the queue.
- ``dramatiq:billoget-events.XQ`` / ``.XQ.msgs``: sorted set + hash of messages Dramatiq
  rejected (``max_retries=0``: only when the actor itself raises, which it does not for a
  handler's error); dropped after 7 days (Dramatiq's ``dead_message_ttl``). Our own dead events
  are rows in the store, not here.
- ``dramatiq:__acks__.<worker id>.billoget-events`` (and ``.DQ``): set of the message ids a
  worker process holds; emptied on ack, requeued by Dramatiq's maintenance when the worker's
  heartbeat stops.
- ``dramatiq:__heartbeats__``: sorted set worker id → last heartbeat (ms); a worker silent
  for 15 s (``workers.broker``; Dramatiq's default is 60 s) is taken for dead and its acks
  requeued.

Ours (prefix ``billoget-hooks:``):

- :data:`REDIS_EPOCH_KEY` ``billoget-hooks:redis-epoch``: string, a random token written with
  ``SET NX`` by the first receiver to find it missing; no TTL. Its disappearance tells the
  receivers that Redis lost its data, and they send every unfinished event again
  (``receiver.redis_epoch``).
- :data:`WORKER_PROBLEMS_KEY` ``billoget-hooks:worker:problems``: hash problem name → JSON
  ``{"message", "at"}`` of configuration problems (rejected key, missing scope), written by
  ``workers.problems``, read by ``/readyz``; no TTL, a field is deleted when the problem is
  resolved (a call succeeds).
- :data:`WORKER_PROBLEM_PREFIX` ``billoget-hooks:worker:problem:<name>``: string, the problem's
  detail, remembered so workers skip doomed calls; TTL ``WORKER_PROBLEM_TTL_S``.
- :data:`API_BUDGET_PREFIX` ``billoget-hooks:api-budget:<scope>:…`` (``scope`` is the key's
  safe prefix, never the key), the shared rate budget of ``workers.ratebudget``:
  ``:calls`` sorted set call id → Redis time of the call, TTL the window (3600 s);
  ``:next`` string, the earliest next call while pacing, TTL the gap + 1 s;
  ``:blocked-until`` string, Redis time before which no call is made (a 429's
  ``Retry-After``, a spent budget), TTL the block + 1 s;
  ``:server`` hash of the latest ``X-RateLimit-Limit|Remaining|Reset|Window``, TTL until the
  reset + 1 s;
  ``:background-calls`` sorted set call id → Redis time of reconciliation's calls (its
  ``RECONCILE_BUDGET_SHARE``), TTL the window;
  ``:live-starved`` string, set while live events wait for the budget (background work stands
  aside), TTL that wait.
- ``billoget-hooks:reconcile:lease``: string, the token of the one worker reconciling now
  (``workers.reconcile.lease``); TTL 10 s, renewed while held, deleted by its holder.
- :data:`FETCH_LOCK_PREFIX` ``billoget-hooks:fetch-lock:<family>:<id>``: string, the holder's
  token; one worker fetches an entity at a time (``workers.coalesce``); TTL
  ``WORKER_FETCH_LOCK_S``, deleted by its holder when done.

The workers' Lua scripts (``workers/lua/*.lua``) name the keys they touch in their headers.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii

import dramatiq

QUEUE_NAME = "billoget-events"
ACTOR_NAME = "process_event"
# Our Redis keys (the module docstring says each one's type and lifetime).
REDIS_EPOCH_KEY = "billoget-hooks:redis-epoch"
WORKER_PROBLEMS_KEY = "billoget-hooks:worker:problems"
WORKER_PROBLEM_PREFIX = "billoget-hooks:worker:problem:"
API_BUDGET_PREFIX = "billoget-hooks:api-budget"
FETCH_LOCK_PREFIX = "billoget-hooks:fetch-lock:"


def build_message(delivery_id: str, event_type: str) -> dramatiq.Message[object]:
    """The Dramatiq message that asks a worker to process one stored delivery."""
    return dramatiq.Message(
        queue_name=QUEUE_NAME,
        actor_name=ACTOR_NAME,
        args=(delivery_id,),
        kwargs={"event_type": event_type},
        options={},
    )


_ENCODED_TEMPLATE = (
    '{"queue_name":%s,"actor_name":%s,"args":[%s],"kwargs":{"event_type":%s},'
    '"options":{"redis_message_id":%s},"message_id":%s,"message_timestamp":%d}'
)
_QUEUE_JSON = encode_basestring_ascii(QUEUE_NAME)
_ACTOR_JSON = encode_basestring_ascii(ACTOR_NAME)


def encode_message(
    delivery_id: str,
    event_type: str,
    *,
    message_id: str,
    message_timestamp: int,
    redis_message_id: str,
) -> bytes:
    """The bytes ``RedisBroker.enqueue`` writes for :func:`build_message` (fast path).

    Byte for byte what Dramatiq's JSON encoder makes of that message with these ids and
    ``options={"redis_message_id": ...}``, without building the message object (the relay
    encodes thousands per second).
    """
    return (
        _ENCODED_TEMPLATE
        % (
            _QUEUE_JSON,
            _ACTOR_JSON,
            encode_basestring_ascii(delivery_id),
            encode_basestring_ascii(event_type),
            encode_basestring_ascii(redis_message_id),
            encode_basestring_ascii(message_id),
            message_timestamp,
        )
    ).encode("ascii")
