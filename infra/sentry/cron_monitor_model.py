"""The CronMonitor's typed inputs, and how they meet Sentry's monitor body and response.

Sentry answers a monitor with ``config {schedule_type, schedule, checkin_margin, max_runtime, timezone,
failure_issue_threshold, recovery_threshold, alert_rule_id}``; a null margin, runtime or threshold means
Sentry's default (1 minute, 30 minutes, 1, 1), and crontab nicknames are stored expanded (``@daily`` as
``0 0 * * *``). Both are compared by meaning, so a refresh shows real drift only. The rules of each field
(ranges, the crontab grammar, the time zones) are the settings' (:mod:`infra.crons`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import ValidationInfo, field_validator

from infra.crons import (
    NICKNAME_CRONTABS,
    CheckinMinutes,
    CheckinThreshold,
    MonitorEnvironment,
    MonitorOwner,
    MonitorSlug,
    TimeZone,
    crontab_problem,
)
from infra.fields import Bool, ProjectSlug, text
from infra.sentry.bodies import body_of, live_of
from infra.sentry.compare import text_or_none
from infra.sentry.metric_monitor_model import owner_text
from infra.sentry.shape import SentryModel, field, is_deferred, props_of

INTERVAL_UNITS = ("minute", "hour", "day", "week", "month", "year")


def norm_schedule(value: Any) -> Any:
    """A crontab with single spaces and nicknames expanded, or an interval ``[every, unit]``."""
    if isinstance(value, list | tuple) and len(value) == 2:
        every = value[0]
        return [int(every) if isinstance(every, int | float) and float(every).is_integer() else every, str(value[1])]
    if isinstance(value, str):
        text_ = " ".join(value.split())
        return NICKNAME_CRONTABS.get(text_.lower(), text_)
    return value


def _or(default: Any) -> Any:
    """A value Sentry answers null for when it is its `default` (an int, when a number)."""

    def norm(value: Any) -> Any:
        if value is None:
            return default
        return int(value) if isinstance(default, int) and isinstance(value, int | float | str) else value

    norm.__name__ = f"or_{default}"
    return norm


class CronMonitorInputs(SentryModel):
    """A cron monitor (``sentrystacks:index:CronMonitor``): the schedule a job checks in against, identified by
    its slug (unique in the organization). Every field is managed: one left out is Sentry's default."""

    UNSET = "default"

    project: ProjectSlug = field("project", read="project.slug|project", description="Slug of its project")
    slug: MonitorSlug = field("slug", replace=True, description="The slug check-ins name it by")
    name: Annotated[str, text("a monitor name", max_len=128)] = field("name", description="Display name")
    schedule_type: Literal["crontab", "interval"] = field(
        "scheduleType", "crontab", body="config.schedule_type", compare=_or("crontab"),
        description="crontab or interval")
    schedule: str | list[Any] = field(
        "schedule", body="config.schedule", compare=norm_schedule,
        description="A crontab, or [every, unit] for an interval")
    timezone: TimeZone = field("timezone", "UTC", body="config.timezone", compare=_or("UTC"),
                               description="IANA time zone of the crontab")
    checkin_margin_minutes: CheckinMinutes = field(
        "checkinMargin", 1, body="config.checkin_margin", compare=_or(1),
        description="Minutes after the expected time before a check-in is missed")
    max_runtime_minutes: CheckinMinutes = field(
        "maxRuntime", 30, body="config.max_runtime", compare=_or(30),
        description="Minutes a check-in may stay in progress before it times out")
    failure_issue_threshold: CheckinThreshold = field(
        "failureIssueThreshold", 1, body="config.failure_issue_threshold", compare=_or(1),
        description="Failed or missed check-ins in a row before an issue opens")
    recovery_threshold: CheckinThreshold = field(
        "recoveryThreshold", 1, body="config.recovery_threshold", compare=_or(1),
        description="Successful check-ins in a row before the issue resolves")
    status: Literal["active", "disabled"] = field("status", "active", compare=_or("active"),
                                                  description="disabled: it accepts no check-ins")
    muted: Bool = field("isMuted", False, body="is_muted", read="isMuted", compare=bool,
                        description="true: no issues are created for failures")
    owner: MonitorOwner | None = field("owner", None, compare=owner_text, description="team:<id> or user:<id>")
    environment: MonitorEnvironment | None = field(
        "environment", None, sent=False, compare=text_or_none, description="Sentry environment of the check-ins")
    adopt: Bool = field("adopt", False, sent=False, diff=False, description="Adopt a monitor under that slug")

    @field_validator("schedule", mode="after")
    @classmethod
    def _schedule(cls, value: Any, info: ValidationInfo) -> Any:
        """A crontab Sentry accepts, or an interval [every, unit] (checked even when other fields are not)."""
        if is_deferred(value) or is_deferred(info.data.get("schedule_type")):
            return value
        if info.data.get("schedule_type", "crontab") == "crontab":
            problem = crontab_problem(value) if isinstance(value, str) else "must be a crontab string"
            if problem:
                raise ValueError(f"schedule {value!r}: {problem}")
        else:
            ok = (isinstance(value, list) and len(value) == 2 and not isinstance(value[0], bool)
                  and isinstance(value[0], int | float) and int(value[0]) == value[0] and value[0] >= 1
                  and value[1] in INTERVAL_UNITS)
            if not ok:
                raise ValueError(f"schedule {value!r}: an interval is [every, unit], every >= 1, unit one of "
                                 f"{', '.join(INTERVAL_UNITS)}")
        return value

    def to_body(self) -> dict[str, Any]:
        """The POST/PUT body of ``organizations/{org}/monitors/`` (every field: a PUT replaces the monitor)."""
        body = body_of(self)
        body["config"]["schedule"] = norm_schedule(self.schedule)
        return body


class CronMonitorState(CronMonitorInputs):
    """What a CronMonitor's state holds besides its inputs."""

    organization: str | None = field("organization", None, sent=False, diff=False)
    monitor_id: str | None = field("monitorId", None, sent=False, diff=False)
    detector_id: str | None = field("detectorId", None, sent=False, diff=False,
                                    description="Its check-in failure detector (\"\" where the server has none)")
    adopted: bool | None = field("adopted", None, sent=False, diff=False)
    environment_status: str | None = field("environmentStatus", None, sent=False, diff=False)


def live_values(monitor: Mapping[str, Any]) -> dict[str, Any]:
    """The declared fields as Sentry has them, normalised."""
    return live_of(CronMonitorInputs, monitor, fill=True)


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
    live = live_values(monitor)
    return {
        **props_of(inputs),
        **live,
        "schedule": norm_schedule(live.get("schedule")),
        "organization": organization,
        "monitorId": str(monitor.get("id") or ""),
        # "" (not None) where the server keeps no detector for it: a null output would be unknown in every later
        # preview, and so would the detectorIds of each alert that watches the monitor (a change every preview)
        "detectorId": detector_id or "",
        "adopted": adopted,
        "environmentStatus": environment_status(monitor, inputs.environment),
    }


__all__ = [
    "INTERVAL_UNITS",
    "CronMonitorInputs",
    "environment_status",
    "live_values",
    "norm_schedule",
    "outputs_from_api",
]
