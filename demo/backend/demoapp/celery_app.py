"""The Celery app (broker and results in Redis); the worker is `celery -A demoapp.celery_app worker`.

Sentry is initialised here too, before the worker imports any task, so the Celery integration sees
every task run. A task published during a request carries the request's Sentry user in a message
header; the worker sets it on the task's scope. While the worker runs, a thread touches
WORKER_HEARTBEAT_FILE every few seconds; healthcheck.py treats a fresh file as a healthy worker.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import sentry_sdk
from celery import Celery, signals

from demoapp.sentry_config import USER_TASK_HEADER, current_user, init_sentry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoapp.settings")
init_sentry(os.environ)

app = Celery("demoapp", include=["demoapp.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")

HEARTBEAT_FILE = Path(os.environ.get("WORKER_HEARTBEAT_FILE") or Path(tempfile.gettempdir()) / "demo-worker-alive")
HEARTBEAT_SECONDS = 5.0
_stop = threading.Event()


def _beat() -> None:
    while not _stop.is_set():
        HEARTBEAT_FILE.touch()
        _stop.wait(HEARTBEAT_SECONDS)


@signals.worker_ready.connect
def _start_heartbeat(**_: Any) -> None:
    threading.Thread(target=_beat, name="demo-heartbeat", daemon=True).start()


@signals.worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    _stop.set()
    HEARTBEAT_FILE.unlink(missing_ok=True)


@signals.before_task_publish.connect
def _send_user(headers: dict[str, Any] | None = None, **_: Any) -> None:
    user = current_user.get()
    if user is not None and headers is not None:
        headers[USER_TASK_HEADER] = user


@signals.task_prerun.connect
def _receive_user(task: Any = None, **_: Any) -> None:
    user = getattr(getattr(task, "request", None), USER_TASK_HEADER, None)
    if isinstance(user, dict):
        sentry_sdk.set_user(user)
