"""The cron monitors this service runs, as the stack declares them (``SENTRY_STACKS_CRON_MONITORS``).

The toolkit renders into the service named by ``cronMonitors.<name>.service`` a JSON object of monitor name ->
``{"slug", "config"}``, ``config`` being sentry-sdk's ``monitor_config`` exactly as the stack declares the Sentry
monitor (schedule, timezone, margins, thresholds). So the job runs on the schedule Sentry expects, under the slug
Sentry knows, and a check-in that carries the config (which upserts the monitor) never changes it::

    from sentry_stacks_runtime import cron_monitor
    heartbeat = cron_monitor("heartbeat")
    heartbeat.slug, heartbeat.crontab, heartbeat.config          # for sentry_sdk.crons.monitor(...) or a scheduler

Celery beat: ``sentry_stacks_runtime.celery.beat_schedule`` builds the beat entries from it. Standard library only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sentry_stacks_runtime.config import ConfigError, parse_json_object

CRON_MONITORS_VAR = "SENTRY_STACKS_CRON_MONITORS"
#: Sentry's crontab macros, as five fields (what Celery's crontab and the SDK's check-in config say)
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}  # fmt: skip
UNITS = ("minute", "hour", "day", "week", "month", "year")
#: the stack's config key of the cron monitors, for messages: the project's name (Pulumi.yaml's ``name``) prefixes it,
#: and the runtime is not told which it is
CONFIG_KEY = "<project>:cronMonitors"
PROJECT_NOTE = "<project>: your Pulumi project's name"


@dataclass(frozen=True)
class CronMonitor:
    """One cron monitor the service runs."""

    name: str
    slug: str
    #: sentry-sdk's monitor_config (``schedule {type, value, unit}``, ``timezone``, ``checkin_margin``, ...)
    config: dict[str, Any]

    @property
    def crontab(self) -> str | None:
        """The crontab (five fields, a macro spelled out), or None for an interval schedule."""
        schedule = self.config["schedule"]
        if schedule["type"] != "crontab":
            return None
        value = str(schedule["value"]).strip()
        return MACROS.get(value.lower(), value)

    @property
    def interval(self) -> tuple[int, str] | None:
        """(every, unit) of an interval schedule, or None for a crontab."""
        schedule = self.config["schedule"]
        return (int(schedule["value"]), str(schedule["unit"])) if schedule["type"] == "interval" else None

    @property
    def timezone(self) -> str:
        return str(self.config.get("timezone") or "UTC")


def _monitor(name: str, body: Any) -> CronMonitor:
    where = f"{CRON_MONITORS_VAR}: {name}"
    if not isinstance(body, dict) or not isinstance(body.get("slug"), str) or not isinstance(body.get("config"), dict):
        raise ConfigError(f'{where} must be {{"slug": "...", "config": {{...}}}}')
    schedule = body["config"].get("schedule")
    if not isinstance(schedule, dict) or schedule.get("type") not in ("crontab", "interval"):
        raise ConfigError(f'{where}: config.schedule must be {{"type": "crontab" or "interval", "value": ...}}')
    if schedule["type"] == "crontab":
        value = str(schedule.get("value") or "").strip()
        if value.lower() not in MACROS and len(value.split()) != 5:
            raise ConfigError(f"{where}: the crontab must have 5 fields or be a macro (@hourly...), got {value!r}")
    elif not (isinstance(schedule.get("value"), int) and schedule["value"] >= 1 and schedule.get("unit") in UNITS):
        raise ConfigError(f"{where}: an interval needs a whole number value >= 1 and a unit of {', '.join(UNITS)}")
    return CronMonitor(name=name, slug=body["slug"], config=dict(body["config"]))


def cron_monitors(env: Mapping[str, str] | None = None) -> dict[str, CronMonitor]:
    """Every cron monitor this service runs (empty when the variable is unset); a bad value raises ConfigError."""
    data = parse_json_object(os.environ if env is None else env, CRON_MONITORS_VAR)
    return {str(name): _monitor(str(name), body) for name, body in sorted((data or {}).items())}


def cron_monitor(name: str, env: Mapping[str, str] | None = None) -> CronMonitor:
    """The cron monitor `name` (the stack's ``cronMonitors.<name>``); ConfigError when this service does not run it."""
    found = cron_monitors(env)
    if name not in found:
        runs = ", ".join(found) or "none"
        raise ConfigError(f"this service does not run the cron monitor {name!r} ({CRON_MONITORS_VAR}: {runs}): in "
                          f"the stack, set {CONFIG_KEY}.{name}.service to this service ({PROJECT_NOTE})")  # fmt: skip
    return found[name]


__all__ = ["CONFIG_KEY", "CRON_MONITORS_VAR", "MACROS", "CronMonitor", "cron_monitor", "cron_monitors"]
