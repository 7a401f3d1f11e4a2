"""Celery: the user of the request that published a task is the user of the task in the worker.

Connected by ``init()`` whenever Celery is installed (``connect()`` is idempotent): ``before_task_publish`` copies
the current user (``sentry_stacks_runtime.set_user``, or the Django middleware's) into the message headers; in the
worker, ``task_prerun`` sets it on the task's scope. The SDK's own Celery integration (enabled by ``init()`` with
``monitor_beat_tasks=True``) carries the trace and sends the beat check-ins.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from celery import signals

from sentry_stacks_runtime.users import current_user

USER_HEADER = "sentry_stacks_user"
_connected = False


def _send_user(headers: Any = None, **_: Any) -> None:
    user = current_user.get()
    if user is not None and isinstance(headers, dict):
        headers[USER_HEADER] = user


def _receive_user(task: Any = None, **_: Any) -> None:
    user = getattr(getattr(task, "request", None), USER_HEADER, None)
    if not (isinstance(user, dict) and user.get("id")):
        user = None
    if user is not None:
        sentry_sdk.set_user(user)  # the integration gives each task its own scope
    current_user.set(user)  # tasks this task publishes carry it on; never the previous task's (thread pools)


def connect() -> None:
    """Connect the two signal handlers (once per process)."""
    global _connected
    if _connected:
        return
    signals.before_task_publish.connect(_send_user, weak=False)
    signals.task_prerun.connect(_receive_user, weak=False)
    _connected = True


__all__ = ["USER_HEADER", "connect"]
