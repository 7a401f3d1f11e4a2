"""The Celery app (broker and results in Redis); the worker is `celery -A demoapp.celery_app worker`.

Sentry is initialised here too (sentry_stacks_runtime.init), before the worker imports any task, so the Celery
integration sees every task run; the package also carries the request's Sentry user to the task (a message
header). While the worker runs, a thread touches
WORKER_HEARTBEAT_FILE every few seconds; healthcheck.py treats a fresh file as a healthy worker.

Celery beat (bin/beat) schedules one task, `demoapp.heartbeat`, when HEARTBEAT_MONITOR_SLUG names the Sentry
cron monitor it reports to and HEARTBEAT_CRONTAB gives its schedule (the stack's `cronMonitors` entry: same
slug, same crontab). The schedule entry is named by the slug, so the SDK's Celery integration
(`monitor_beat_tasks`) sends the run's check-ins (in progress from beat, ok or error from the worker) under it.
Beat touches the heartbeat file too, for its own healthcheck.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from celery import Celery, signals
from celery.schedules import crontab

import sentry_stacks_runtime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoapp.settings")
sentry_stacks_runtime.init(development_noise_loggers=["demoapp.noise"])

app = Celery("demoapp", include=["demoapp.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")


def beat_schedule(env: Mapping[str, str]) -> dict[str, Any]:
    """The beat schedule: the heartbeat task under the monitor's slug, or nothing when no slug is set."""
    slug = (env.get("HEARTBEAT_MONITOR_SLUG") or "").strip()
    if not slug:
        return {}
    fields = (env.get("HEARTBEAT_CRONTAB") or "* * * * *").split()
    if len(fields) != 5:
        raise ValueError(f"HEARTBEAT_CRONTAB must have 5 fields (minute hour day month weekday), got {fields!r}")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    schedule = crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
                       day_of_week=day_of_week)
    return {slug: {"task": "demoapp.heartbeat", "schedule": schedule}}


app.conf.beat_schedule = beat_schedule(os.environ)
app.conf.timezone = "UTC"

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
