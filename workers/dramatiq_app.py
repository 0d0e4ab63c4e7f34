"""For Dramatiq's own CLI: ``dramatiq workers.dramatiq_app``.

Dramatiq's CLI imports a module and expects the broker and actors to exist at import, so this
module (and only this one) builds them from the environment's Settings when imported.
"""

from __future__ import annotations

import atexit

import dramatiq

from core.logs import configure_logging
from core.settings import load_settings
from workers.actors import declare_actor
from workers.broker import build_broker
from workers.metrics import enable_multiprocess, mark_stopped
from workers.runtime import WorkerRuntime

settings = load_settings()
configure_logging(settings.log_level, fmt=settings.log_format)
metrics_dir = settings.worker_metrics_path()
if metrics_dir is not None:  # every process Dramatiq forks imports this module: one file each
    enable_multiprocess(metrics_dir)
    atexit.register(mark_stopped, metrics_dir)
broker = build_broker(settings)
dramatiq.set_broker(broker)
runtime = WorkerRuntime(settings, broker=broker)
process_event = declare_actor(broker, runtime)
