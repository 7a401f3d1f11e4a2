"""Celery tasks of the reference app: one that works, one that fails on purpose, and the scheduled heartbeat.

`demoapp.heartbeat` runs on beat's schedule (the stack's cron monitor heartbeat, see celery_app). It fails while the
file HEARTBEAT_FAIL_FILE (default /tmp/demo-heartbeat-fail) exists in the worker's container, so a test (or a
person) can make one scheduled run fail: `docker exec <worker> touch /tmp/demo-heartbeat-fail`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from demoapp.celery_app import app

log = logging.getLogger(__name__)


@app.task(name="demoapp.add")
def add(x: int, y: int) -> int:
    log.info("adding %s and %s", x, y)
    return x + y


class DemoTaskError(RuntimeError):
    """Raised on purpose by the `demoapp.fail` task."""


@app.task(name="demoapp.fail")
def fail(message: str) -> None:
    raise DemoTaskError(message)


class HeartbeatFailure(RuntimeError):
    """Raised by `demoapp.heartbeat` while its fail file exists."""


def heartbeat_fail_file() -> Path:
    return Path(os.environ.get("HEARTBEAT_FAIL_FILE") or "/tmp/demo-heartbeat-fail")  # noqa: S108


@app.task(name="demoapp.heartbeat")
def heartbeat() -> str:
    marker = heartbeat_fail_file()
    if marker.exists():
        raise HeartbeatFailure(f"heartbeat made to fail: {marker} exists")
    log.info("heartbeat ok")
    return "ok"
