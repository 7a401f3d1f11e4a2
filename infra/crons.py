"""Settings of release tracking (``releaseTracking``) and cron monitors (``cronMonitors``), as pydantic models.

A leaf module: it imports nothing from ``infra`` so that the settings model (``infra/settings/``), the
CronMonitor resource's inputs (``infra/sentry/cron_monitor_model.py``), the components and the tests may all import
it. Its constrained types (:data:`CheckinMinutes`, :data:`Crontab`, :data:`TimeZone`, ...) are the one declaration of
each rule: the settings and the resource both use them.

``cronMonitors`` maps a monitor name to its settings::

    cronMonitors:
      heartbeat:
        service: worker              # a service that reports to Sentry: the monitor lives in its project
        schedule: "* * * * *"        # a crontab (5 fields, or @hourly/@daily/...) ...
        # interval: {every: 10, unit: minute}   # ... or an interval, never both
        timezone: UTC                # an IANA zone name (zoneinfo)
        checkinMarginMinutes: 1      # a check-in this late is "missed"
        maxRuntimeMinutes: 5         # an in-progress check-in this old is "timed out" (an error)
        failureIssueThreshold: 1     # failed/missed check-ins in a row before an issue opens
        recoveryThreshold: 1         # ok check-ins in a row before it resolves
        environment: development     # default: the stack's environment

The Sentry monitor slug is ``<name>-<stack>`` unless ``slug`` is set; the reference app's beat schedule entry
carries the same slug, which is how the SDK's Celery integration names its check-ins.

"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib.resources import files
from typing import Annotated, Any, Literal

from cronsim import CronSim, CronSimError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

INTERVAL_UNITS = ("minute", "hour", "day", "week", "month", "year")
MONITOR_SLUG_RE = re.compile(r"^(?![0-9]+$)[a-z0-9_\-]+$")
MONITOR_SLUG_MAX = 50
MONITOR_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MINUTES_MAX = 40320  # 28 days: Sentry's limit for the check-in margin and the max runtime
THRESHOLD_MAX = 720
OWNER_RE = re.compile(r"^(team|user):[0-9]+$")

# Sentry's monitor validator (src/sentry/monitors/validators.py, ConfigValidator.validate): whitespace is
# normalised, a schedule starting with "@" must be one of these nicknames, more than 5 fields are refused, and the
# rest must be a crontab that cronsim (the library Sentry schedules with) can step forward and back from now:
# cronsim refuses a range such as 5-1 and a date that never happens (0 0 31 2 *) with a CronSimError.
NICKNAME_CRONTABS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@hourly": "0 * * * *",
}
_CRON_FIELDS = (
    ("minute", "0-59"), ("hour", "0-23"), ("day-of-month", "1-31"), ("month", "1-12 or jan-dec"),
    ("day-of-week", "0-7 or sun-sat"),
)
_CRON_ITEMS = "*, a number, a range a-b with a <= b, a list a,b or a step */n with n >= 1"


def _never_or_bad(value: str) -> str | None:
    """cronsim's reason for refusing `value` (5 fields), or None when it steps forward and back from now."""
    now = datetime.now(UTC)
    try:
        next(CronSim(value, now))
        next(CronSim(value, now, reverse=True))
    except (CronSimError, StopIteration) as exc:
        return str(exc) or "never matches"
    return None


def crontab_problem(text: str) -> str | None:
    """Why `text` is not a crontab Sentry accepts, or None when it is one (checked as Sentry checks it)."""
    value = " ".join(text.split())
    if value.startswith("@"):
        if value not in NICKNAME_CRONTABS:  # Sentry looks them up as written: @Daily is refused
            return f"unknown nickname {value!r}; allowed: {', '.join(NICKNAME_CRONTABS)} (lowercase)"
        value = NICKNAME_CRONTABS[value]
    fields = value.split()
    if len(fields) != 5:
        return (f"a crontab has 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}; "
                f"or use one of {', '.join(NICKNAME_CRONTABS)}")
    reason = _never_or_bad(value)
    if reason is None:
        return None
    for index, (name, allowed) in enumerate(_CRON_FIELDS):
        if name in reason:
            part = fields[index]
            if name == "day-of-month" and _never_or_bad(" ".join([*fields[:3], "*", fields[4]])) is None:
                return f"day-of-month field {part!r} never matches a date in month field {fields[3]!r}"
            return f"{name} field {part!r} is not valid; allowed: {_CRON_ITEMS}, from {allowed}"
    return f"not a crontab Sentry accepts ({reason}); each field: {_CRON_ITEMS}"


@lru_cache(maxsize=1)
def sentry_time_zones() -> frozenset[str]:
    """The zone names Sentry accepts for a monitor: the IANA names of the tz database (the `tzdata` package's
    list, the same on every machine) without "Factory", as Sentry's ``AVAILABLE_TIMEZONES`` has them. Paths into
    a system zoneinfo folder (``posix/Europe/Berlin``, ``right/UTC``, ``localtime``) are not among them."""
    names = files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(names) - {"Factory"}


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a time zone Sentry accepts, or None."""
    zones = sentry_time_zones()
    if name in zones:
        return None
    lower = {z.lower(): z for z in zones}
    guess = lower.get(name.lower()) or lower.get(name.lower().removeprefix("posix/").removeprefix("right/"))
    hint = f"; did you mean {guess!r}?" if guess else ""
    return f"unknown time zone {name!r}: use an IANA zone name such as UTC, Europe/Berlin, America/New_York{hint}"


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True, strict=False
    )


class Interval(_Model):
    """A schedule of one run every ``every`` ``unit`` s."""

    every: int = Field(ge=1, le=10000, description="How many units between runs (1..10000)")
    unit: Literal["minute", "hour", "day", "week", "month", "year"] = Field(description="The interval's unit")


def _crontab(value: str) -> str:
    problem = crontab_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return " ".join(value.split())


def _zone(value: str) -> str:
    problem = timezone_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _monitor_slug(value: str) -> str:
    if len(value) > MONITOR_SLUG_MAX or not MONITOR_SLUG_RE.match(value):
        raise ValueError(f"must be a monitor slug: at most {MONITOR_SLUG_MAX} lowercase letters, digits, '-' and '_', "
                         "not only digits")
    return value


def _owner(value: str) -> str:
    if not OWNER_RE.match(value):
        raise ValueError("must be team:<id> or user:<id>")
    return value


def _environment(value: str) -> str:
    if not value.strip() or "/" in value or value != value.strip():
        raise ValueError("must be a Sentry environment name: 1-64 characters, no '/', no surrounding spaces")
    return value


#: a crontab as Sentry accepts it (whitespace normalised)
Crontab = Annotated[str, AfterValidator(_crontab)]
TimeZone = Annotated[str, AfterValidator(_zone)]
MonitorSlug = Annotated[str, AfterValidator(_monitor_slug)]
MonitorOwner = Annotated[str, AfterValidator(_owner)]
MonitorEnvironment = Annotated[str, Field(max_length=64), AfterValidator(_environment)]
#: minutes of a check-in margin or a maximum runtime
CheckinMinutes = Annotated[int, Field(ge=1, le=MINUTES_MAX)]
#: check-ins in a row (failures before an issue, successes before it resolves)
CheckinThreshold = Annotated[int, Field(ge=1, le=THRESHOLD_MAX)]


class CronMonitorSettings(_Model):
    """One Sentry cron monitor (``cronMonitors.<name>``)."""

    service: str = Field(description="A service that reports to Sentry; the monitor lives in its project")
    schedule: Crontab | None = Field(
        default=None, description="A crontab as Sentry accepts it ('*/5 * * * *', or @hourly, @daily, ...; no range "
        "like 5-1, no date that never happens); either this or interval"
    )
    interval: Interval | None = Field(default=None, description="An interval {every, unit}; either this or schedule")
    timezone: TimeZone = Field(
        default="UTC", description="IANA time zone of the crontab, as Sentry lists them (Europe/Berlin; not posix/...)"
    )
    checkin_margin_minutes: CheckinMinutes = Field(
        default=1, description="Minutes after the expected time before a check-in is missed"
    )
    max_runtime_minutes: CheckinMinutes = Field(
        default=30, description="Minutes a check-in may stay in progress before it times out"
    )
    failure_issue_threshold: CheckinThreshold = Field(
        default=1, description="Failed or missed check-ins in a row before an issue opens"
    )
    recovery_threshold: CheckinThreshold = Field(
        default=1, description="Successful check-ins in a row before the issue resolves"
    )
    environment: MonitorEnvironment | None = Field(
        default=None, description="Sentry environment of the check-ins; default: the stack's"
    )
    slug: MonitorSlug | None = Field(default=None, description="Sentry monitor slug (<= 50); default <name>-<stack>")
    owner: MonitorOwner | None = Field(default=None, description="team:<id> or user:<id>")
    muted: bool = Field(default=False, description="True: no issues are created for failures")
    enabled: bool = Field(default=True, description="False: the monitor is disabled and accepts no check-ins")

    @model_validator(mode="after")
    def _one_schedule(self) -> CronMonitorSettings:
        if (self.schedule is None) == (self.interval is None):
            raise ValueError(
                "set exactly one of schedule (a crontab such as '* * * * *') and interval ({every: 10, unit: minute})"
            )
        return self

    @property
    def schedule_type(self) -> Literal["crontab", "interval"]:
        return "crontab" if self.schedule is not None else "interval"

    def sentry_schedule(self) -> str | list[Any]:
        """The schedule as Sentry's monitor config holds it: a crontab string or ``[every, unit]``."""
        if self.schedule is not None:
            return self.schedule
        assert self.interval is not None
        return [self.interval.every, self.interval.unit]


class ReleaseTracking(_Model):
    """``releaseTracking``: Sentry releases and deploys recorded by ``pulumi up``."""

    enabled: bool = Field(default=True, description="Create the stack's release in every project it reports to")
    deploys: bool = Field(
        default=True, description="Record a deploy of the release to the environment once every container is healthy"
    )
    delete_on_destroy: bool = Field(
        default=False,
        description=(
            "Delete the release on destroy when no other stack can share it (per-environment projects only, "
            "no deploy to another environment)"
        ),
    )
    url: str | None = Field(default=None, max_length=200, description="A URL recorded with the release")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s]+$", value):
            raise ValueError("must be an http(s) URL")
        return value


@dataclass(frozen=True)
class CronMonitorSpec:
    """A validated cron monitor with its name (the config key) and resolved service and slug."""

    name: str
    settings: CronMonitorSettings
    slug: str
    service: str  # the service that owns the Sentry project

    @property
    def environment(self) -> str | None:
        return self.settings.environment


__all__ = [
    "INTERVAL_UNITS",
    "MONITOR_SLUG_MAX",
    "MONITOR_SLUG_RE",
    "NICKNAME_CRONTABS",
    "CheckinMinutes",
    "CheckinThreshold",
    "CronMonitorSettings",
    "CronMonitorSpec",
    "Crontab",
    "Interval",
    "MonitorEnvironment",
    "MonitorOwner",
    "MonitorSlug",
    "ReleaseTracking",
    "TimeZone",
    "crontab_problem",
    "sentry_time_zones",
    "timezone_problem",
]
