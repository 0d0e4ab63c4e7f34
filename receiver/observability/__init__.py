"""What the receiver tells an operator (issue 11): ``GET /metrics``, alerts on ``/readyz`` and
in the log, the per-minute counters ``billoget-hooks diagnose`` reads, and the data of the
inspector's overview.

- :mod:`~receiver.observability.families`: the receiver's own metric families, counted on the
  hot path (a few counter increments and one histogram observation per delivery);
- :mod:`~receiver.observability.snapshot`: what is read from the store, cached for a few
  seconds (counts by status, the backlog's age, the latest delivery, the last self-check);
- :mod:`~receiver.observability.collectors`: the store's gauges and the workers' files as
  Prometheus collectors;
- :mod:`~receiver.observability.alerts`: silence, dead letters, a spike of signature failures;
- :mod:`~receiver.observability.stats`: the counters' per-minute deltas, kept in the store;
- :mod:`~receiver.observability.observer`: the background task that ties them together;
- :mod:`~receiver.observability.routes`: ``GET /metrics`` and the wiring into the app;
- :mod:`~receiver.observability.overview` and :mod:`~receiver.observability.diagnosis`: plain
  functions for the inspector's overview and for ``billoget-hooks diagnose``.
"""
