"""The Celery app (broker and results in Redis); the worker is `celery -A demoapp.celery_app worker`.

Sentry is initialised here too (sentry_stacks_runtime.init), before the worker imports any task, so the Celery
integration sees every task run; the package also carries the request's Sentry user to the task (a message
header). While the worker runs, a thread touches
WORKER_HEARTBEAT_FILE every few seconds; healthcheck.py treats a fresh file as a healthy worker.

Celery beat (bin/beat) runs the stack's cron monitor `heartbeat` (cronMonitors.heartbeat, whose service is beat):
the toolkit renders its slug and schedule into beat's environment, and sentry_stacks_runtime.celery.configure_beat
schedules `demoapp.heartbeat` exactly so, under the slug, so the SDK's Celery integration (`monitor_beat_tasks`)
sends the run's check-ins (in progress from beat, ok or error from the worker) under it. In the worker (no cron
monitor rendered) the schedule is empty. Beat touches the heartbeat file too, for its own healthcheck.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from celery import Celery, signals

import sentry_stacks_runtime
from sentry_stacks_runtime.celery import configure_beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoapp.settings")
sentry_stacks_runtime.init(development_noise_loggers=["demoapp.noise"])

app = Celery("demoapp", include=["demoapp.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")


configure_beat(app, {"heartbeat": "demoapp.heartbeat"})

HEARTBEAT_FILE = Path(os.environ.get("WORKER_HEARTBEAT_FILE") or Path(tempfile.gettempdir()) / "demo-worker-alive")
HEARTBEAT_SECONDS = 5.0
_stop = threading.Event()


def _beat() -> None:
    while not _stop.is_set():
        HEARTBEAT_FILE.touch()
        _stop.wait(HEARTBEAT_SECONDS)


@signals.beat_init.connect
@signals.worker_ready.connect
def _start_heartbeat(**_: Any) -> None:
    threading.Thread(target=_beat, name="demo-heartbeat", daemon=True).start()


@signals.worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    _stop.set()
    HEARTBEAT_FILE.unlink(missing_ok=True)
