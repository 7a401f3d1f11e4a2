"""Celery: the user of a request is the user of the tasks it publishes, and beat runs the stack's cron monitors.

Users: connected by ``init()`` whenever Celery is installed (``connect()`` is idempotent): ``before_task_publish``
copies the current user (``sentry_stacks_runtime.set_user``, or the Django middleware's) into the message headers;
in the worker, ``task_prerun`` sets it on the task's scope. The SDK's own Celery integration (enabled by ``init()``
with ``monitor_beat_tasks=True``) carries the trace and sends the beat check-ins.

Cron monitors: :func:`configure_beat` schedules one task per cron monitor the service runs
(``SENTRY_STACKS_CRON_MONITORS``, sentry_stacks_runtime.crons) exactly as the stack declares the Sentry monitor: the
entry is named by the monitor's slug (the integration checks in under the entry's name), a crontab becomes Celery's
``crontab``, an interval a ``timedelta``, and beat's time zone is the monitors'. The integration reports each entry's
schedule to Sentry with its check-ins (which upserts the monitor), so a schedule it would report differently (60
minutes is "1 hour" to it, @hourly is "0 * * * *") is refused with the declaration that matches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import sentry_sdk
from celery import Celery, signals
from celery.schedules import crontab

from sentry_stacks_runtime.config import ConfigError
from sentry_stacks_runtime.crons import CONFIG_KEY, CRON_MONITORS_VAR, PROJECT_NOTE, CronMonitor, cron_monitors
from sentry_stacks_runtime.users import current_user

#: how sentry-sdk names an interval: the largest of these units that divides it (sentry_sdk.crons.utils)
_SDK_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}

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


def _schedule(monitor: CronMonitor) -> Any:
    where = f"{CONFIG_KEY}.{monitor.name}"
    if monitor.crontab is not None:
        declared = str(monitor.config["schedule"]["value"]).strip()
        if declared != monitor.crontab:
            raise ConfigError(f"{where}: Celery beat reports the schedule {declared} to Sentry as {monitor.crontab!r} "
                              f"(five fields), which would change the monitor: declare schedule: "
                              f"\"{monitor.crontab}\"")  # fmt: skip
        minute, hour, day_of_month, month_of_year, day_of_week = monitor.crontab.split()
        return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
                       day_of_week=day_of_week)  # fmt: skip
    assert monitor.interval is not None
    every, unit = monitor.interval
    if unit not in _SECONDS:
        raise ConfigError(f"{where}: an interval of {every} {unit}(s) has no fixed length, so Celery beat cannot run "
                          "it; declare a schedule (a crontab) instead")  # fmt: skip
    seconds = every * _SECONDS[unit]
    reported = next((seconds // size, name) for name, size in _SDK_UNITS if seconds % size == 0)
    if reported != (every, unit):
        raise ConfigError(f"{where}: Celery beat reports an interval of {every} {unit}(s) to Sentry as {reported[0]} "
                          f"{reported[1]}(s) (sentry-sdk names an interval in the largest of day, hour, minute that "
                          f"divides it), which would change the monitor: declare interval {{every: {reported[0]}, "
                          f"unit: {reported[1]}}}")  # fmt: skip
    return timedelta(seconds=seconds)


def beat_schedule(tasks: Mapping[str, str | Mapping[str, Any]],
                  env: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Celery beat entries for the cron monitors this service runs: `tasks` maps each monitor's name (the stack's
    ``cronMonitors.<name>``) to its task's name, or to a beat entry without a schedule (``{"task": ..., "args":
    ...}``). Empty when the service runs no cron monitor (a worker importing the same module); ConfigError when the
    stack and `tasks` disagree."""
    monitors = cron_monitors(env)
    if not monitors:
        return {}
    missing = sorted(set(monitors) - set(tasks))
    if missing:
        raise ConfigError(f"{CRON_MONITORS_VAR}: this service runs the cron monitor(s) {', '.join(missing)} but the "
                          "app schedules no task for them: add them to beat_schedule's tasks, or give the monitor "
                          "another service in the stack")  # fmt: skip
    unknown = sorted(set(tasks) - set(monitors))
    if unknown:
        raise ConfigError(f"{CRON_MONITORS_VAR}: no cron monitor {', '.join(unknown)} is run by this service (it runs "
                          f"{', '.join(monitors)}): declare it in {CONFIG_KEY} with this service ({PROJECT_NOTE})")
    out: dict[str, dict[str, Any]] = {}
    for name, monitor in monitors.items():
        task = tasks[name]
        entry: dict[str, Any] = {"task": task} if isinstance(task, str) else dict(task)
        out[monitor.slug] = {**entry, "schedule": _schedule(monitor)}
    return out


def configure_beat(app: Celery, tasks: Mapping[str, str | Mapping[str, Any]],
                   env: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:  # fmt: skip
    """``app.conf.beat_schedule`` from :func:`beat_schedule` and ``app.conf.timezone`` from the monitors (one zone
    per beat). A beat started without ``SENTRY_STACKS_CRON_MONITORS`` (the stack names another service) stops at
    start with a message saying so, instead of scheduling nothing."""
    environ = os.environ if env is None else env
    schedule = beat_schedule(tasks, environ)
    zones = sorted({m.timezone for m in cron_monitors(environ).values()})
    if len(zones) > 1:
        raise ConfigError(f"{CRON_MONITORS_VAR}: one Celery beat runs in one time zone, these monitors use "
                          f"{', '.join(zones)}: give them one timezone, or run them from separate services")
    if zones:
        app.conf.timezone = zones[0]
    app.conf.beat_schedule = schedule
    if not schedule and tasks:
        signals.beat_init.connect(_no_monitors(sorted(tasks)), weak=False)
    return schedule


def _no_monitors(names: list[str]) -> Any:
    def stop(**_: Any) -> None:
        print(f"sentry_stacks_runtime: this celery beat runs no cron monitor ({CRON_MONITORS_VAR} is not set): in the "
              f"stack, set {CONFIG_KEY}.{names[0]}.service to this service ({PROJECT_NOTE})", flush=True)
        raise SystemExit(2)  # not an Exception: Celery's signal dispatch lets it end beat

    return stop


__all__ = ["USER_HEADER", "beat_schedule", "configure_beat", "connect"]
