"""Pure conversion for CronMonitor: declared inputs <-> Sentry's monitor body and response.

Sentry answers a monitor with ``config {schedule_type, schedule, checkin_margin, max_runtime, timezone,
failure_issue_threshold, recovery_threshold, alert_rule_id}``; a null margin, runtime or threshold means
Sentry's default (1 minute, 30 minutes, 1, 1), and crontab nicknames are stored expanded (``@daily`` as
``0 0 * * *``). Both are compared by meaning, so a refresh shows real drift only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCHEDULE_TYPES = ("crontab", "interval")
INTERVAL_UNITS = ("minute", "hour", "day", "week", "month", "year")
STATUSES = ("active", "disabled")
DEFAULTS: dict[str, Any] = {"checkinMargin": 1, "maxRuntime": 30, "failureIssueThreshold": 1, "recoveryThreshold": 1}
NICKNAMES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@hourly": "0 * * * *",
}
CONFIG_KEYS = {  # input key -> Sentry config key
    "scheduleType": "schedule_type", "schedule": "schedule", "checkinMargin": "checkin_margin",
    "maxRuntime": "max_runtime", "timezone": "timezone", "failureIssueThreshold": "failure_issue_threshold",
    "recoveryThreshold": "recovery_threshold",
}
MUTABLE = ("project", "name", *CONFIG_KEYS, "status", "isMuted", "owner", "environment")
INPUT_KEYS = ("slug", *MUTABLE, "adopt")
COMPUTED = ("organization", "monitorId", "detectorId", "adopted", "environmentStatus")


def norm_schedule(schedule_type: Any, value: Any) -> Any:
    if schedule_type == "interval" and isinstance(value, (list, tuple)) and len(value) == 2:
        return [int(value[0]), str(value[1])]
    if isinstance(value, str):
        text = " ".join(value.split())
        return NICKNAMES.get(text.lower(), text)
    return value


def normalise(key: str, value: Any, schedule_type: Any = None) -> Any:
    """A value as Sentry means it (defaults filled in, schedules canonical)."""
    if key in DEFAULTS:
        return DEFAULTS[key] if value is None else int(value)
    if key == "schedule":
        return norm_schedule(schedule_type, value)
    if key == "timezone":
        return value or "UTC"
    if key == "status":
        return value or "active"
    if key == "isMuted":
        return bool(value)
    if key in ("owner", "environment"):
        return value or None
    return value


@dataclass(frozen=True)
class CronMonitorInputs:
    project: str
    slug: str
    name: str
    schedule_type: str
    schedule: Any
    timezone: str = "UTC"
    checkin_margin: int = 1
    max_runtime: int = 30
    failure_issue_threshold: int = 1
    recovery_threshold: int = 1
    status: str = "active"
    is_muted: bool = False
    owner: str | None = None
    environment: str | None = None
    adopt: bool = False

    @staticmethod
    def from_props(props: Mapping[str, Any]) -> CronMonitorInputs:
        stype = str(props.get("scheduleType") or "crontab")
        return CronMonitorInputs(
            project=str(props["project"]),
            slug=str(props["slug"]),
            name=str(props.get("name") or props["slug"]),
            schedule_type=stype,
            schedule=norm_schedule(stype, props.get("schedule")),
            timezone=str(props.get("timezone") or "UTC"),
            checkin_margin=normalise("checkinMargin", props.get("checkinMargin")),
            max_runtime=normalise("maxRuntime", props.get("maxRuntime")),
            failure_issue_threshold=normalise("failureIssueThreshold", props.get("failureIssueThreshold")),
            recovery_threshold=normalise("recoveryThreshold", props.get("recoveryThreshold")),
            status=str(props.get("status") or "active"),
            is_muted=bool(props.get("isMuted", False)),
            owner=str(props["owner"]) if props.get("owner") else None,
            environment=str(props["environment"]) if props.get("environment") else None,
            adopt=bool(props.get("adopt", False)),
        )

    def to_props(self) -> dict[str, Any]:
        return {
            "project": self.project, "slug": self.slug, "name": self.name, "scheduleType": self.schedule_type,
            "schedule": self.schedule, "timezone": self.timezone, "checkinMargin": self.checkin_margin,
            "maxRuntime": self.max_runtime, "failureIssueThreshold": self.failure_issue_threshold,
            "recoveryThreshold": self.recovery_threshold, "status": self.status, "isMuted": self.is_muted,
            "owner": self.owner, "environment": self.environment, "adopt": self.adopt,
        }

    def to_body(self) -> dict[str, Any]:
        """The POST/PUT body of ``organizations/{org}/monitors/``."""
        props = self.to_props()
        return {
            "project": self.project, "name": self.name, "slug": self.slug, "status": self.status,
            "owner": self.owner, "is_muted": self.is_muted,
            "config": {sentry: props[key] for key, sentry in CONFIG_KEYS.items()},
        }


def _owner(value: Any) -> str | None:
    if isinstance(value, Mapping) and value.get("type") in ("user", "team") and value.get("id") is not None:
        return f"{value['type']}:{value['id']}"
    return str(value) if isinstance(value, str) and value else None


def live_values(monitor: Mapping[str, Any]) -> dict[str, Any]:
    """The declared fields as Sentry has them, normalised."""
    config = monitor.get("config") if isinstance(monitor.get("config"), Mapping) else {}
    assert isinstance(config, Mapping)
    project = monitor.get("project")
    stype = config.get("schedule_type") or "crontab"
    values: dict[str, Any] = {
        "project": str(project.get("slug")) if isinstance(project, Mapping) else str(project or ""),
        "slug": str(monitor.get("slug") or ""),
        "name": str(monitor.get("name") or ""),
        "status": normalise("status", monitor.get("status")),
        "isMuted": bool(monitor.get("isMuted")),
        "owner": _owner(monitor.get("owner")),
    }
    for key, sentry in CONFIG_KEYS.items():
        values[key] = normalise(key, config.get(sentry), stype)
    values["scheduleType"] = stype
    return values


def environment_status(monitor: Mapping[str, Any], environment: str | None) -> str | None:
    """The status of the monitor's environment (``ok``, ``error``, ``missed_checkin``...), None before any check-in."""
    envs = monitor.get("environments")
    items = envs if isinstance(envs, list) else [envs] if isinstance(envs, Mapping) else []
    for env in items:
        if isinstance(env, Mapping) and (environment is None or env.get("name") == environment):
            return str(env.get("status")) if env.get("status") is not None else None
    return None


def outputs_from_api(
    monitor: Mapping[str, Any], inputs: CronMonitorInputs, *, organization: str, adopted: bool,
    detector_id: str | None,
) -> dict[str, Any]:
    """State of a cron monitor: every declared field as Sentry has it, plus what Sentry computed."""
    return {
        **inputs.to_props(),
        **live_values(monitor),
        "environment": inputs.environment,
        "organization": organization,
        "monitorId": str(monitor.get("id") or ""),
        # "" (not None) where the server keeps no detector for it: a null output would be unknown in every later
        # preview, and so would the detectorIds of each alert that watches the monitor (a change every preview)
        "detectorId": detector_id or "",
        "adopted": adopted,
        "environmentStatus": environment_status(monitor, inputs.environment),
    }


def inputs_from_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: outs.get(k) for k in INPUT_KEYS}


def changed_fields(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    old_type, new_type = olds.get("scheduleType") or "crontab", news.get("scheduleType") or "crontab"
    return [
        key for key in ("slug", *MUTABLE)
        if normalise(key, news.get(key), new_type) != normalise(key, olds.get(key), old_type)
    ]


__all__ = [
    "COMPUTED",
    "CONFIG_KEYS",
    "DEFAULTS",
    "INPUT_KEYS",
    "INTERVAL_UNITS",
    "NICKNAMES",
    "SCHEDULE_TYPES",
    "STATUSES",
    "CronMonitorInputs",
    "changed_fields",
    "environment_status",
    "inputs_from_outputs",
    "live_values",
    "normalise",
    "outputs_from_api",
]
