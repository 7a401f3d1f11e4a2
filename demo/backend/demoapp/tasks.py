"""Celery tasks of the reference app: one that works and one that fails on purpose."""

from __future__ import annotations

import logging

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
