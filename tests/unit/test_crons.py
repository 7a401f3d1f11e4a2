"""cronMonitors and releaseTracking settings (infra/crons.py), alone and through the stack settings loader."""

from __future__ import annotations

from typing import Any

import pytest

from infra.crons import CronMonitorSettings, crontab_problem, timezone_problem
from infra.settings import SettingsError, load_settings
from tests.unit.settings_support import RELEASE, ROOT, settings_for, stack_config

HEARTBEAT = {"service": "worker", "schedule": "* * * * *"}


def problems(**overrides: Any) -> list[str]:
    with pytest.raises(SettingsError) as info:
        settings_for("dev", **overrides)
    return [str(p) for p in info.value.problems]


def test_stack_files_declare_the_heartbeat_monitor() -> None:
    dev = settings_for("dev")
    [heartbeat] = dev.cron_monitors
    assert (heartbeat.name, heartbeat.slug, heartbeat.service) == ("heartbeat", "heartbeat-dev", "backend")
    assert heartbeat.settings.schedule == "* * * * *" and heartbeat.settings.max_runtime_minutes == 2
    # beat runs the job: it alone gets the monitor (SENTRY_STACKS_CRON_MONITORS, tests/unit/test_envs.py)
    assert dev.service("beat").cron_monitors == ("heartbeat",)
    assert [s.name for s in dev.services if s.cron_monitors] == ["beat"]
    assert dev.release_tracking.enabled and dev.release_tracking.deploys
    assert settings_for("prod").cron_monitors[0].slug == "heartbeat-prod"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**HEARTBEAT, "schedule": "61 * * * *"},
         "sentry-stacks:cronMonitors.h.schedule = \"61 * * * *\": minute field '61' is not valid; allowed: *, a "
         "number, a range a-b with a <= b, a list a,b or a step */n with n >= 1, from 0-59"),
        # what Sentry's monitor validator refuses (cronsim, its zone list): issue 22
        ({**HEARTBEAT, "schedule": "5-1 * * * *"},
         "sentry-stacks:cronMonitors.h.schedule = \"5-1 * * * *\": minute field '5-1' is not valid"),
        ({**HEARTBEAT, "schedule": "0 0 31 2 *"},
         "sentry-stacks:cronMonitors.h.schedule = \"0 0 31 2 *\": day-of-month field '31' never matches a date "
         "in month field '2'"),
        ({**HEARTBEAT, "schedule": "@Daily"}, "unknown nickname '@Daily'"),
        ({**HEARTBEAT, "schedule": "0 * * * * *"}, "a crontab has 5 fields (minute hour day-of-month month "
         "day-of-week), got 6"),
        ({**HEARTBEAT, "timezone": "posix/Europe/Berlin"},
         "sentry-stacks:cronMonitors.h.timezone = \"posix/Europe/Berlin\": unknown time zone 'posix/Europe/Berlin'"
         ": use an IANA zone name such as UTC, Europe/Berlin, America/New_York; did you mean 'Europe/Berlin'?"),
        ({**HEARTBEAT, "timezone": "Factory"}, "unknown time zone 'Factory'"),
        ({**HEARTBEAT, "timezone": "localtime"}, "unknown time zone 'localtime'"),
        ({**HEARTBEAT, "schedule": "* * *"},
         "sentry-stacks:cronMonitors.h.schedule = \"* * *\": a crontab has 5 fields"),
        ({"service": "worker"},
         "sentry-stacks:cronMonitors.h = {\"service\": \"worker\"}: set exactly one of schedule"),
        ({**HEARTBEAT, "interval": {"every": 5, "unit": "minute"}}, "sentry-stacks:cronMonitors.h = "),
        ({"service": "worker", "interval": {"every": 5, "unit": "fortnight"}},
         "sentry-stacks:cronMonitors.h.interval.unit = \"fortnight\": must be one of 'minute', 'hour', 'day', "
         "'week', 'month' or 'year'"),
        ({**HEARTBEAT, "timezone": "Europe/Berln"},
         "sentry-stacks:cronMonitors.h.timezone = \"Europe/Berln\": unknown time zone 'Europe/Berln'"),
        ({**HEARTBEAT, "timezone": "europe/berlin"}, "did you mean 'Europe/Berlin'?"),
        ({**HEARTBEAT, "checkinMarginMinutes": 0},
         "sentry-stacks:cronMonitors.h.checkinMarginMinutes = 0: out of range; allowed: 1..40320"),
        ({**HEARTBEAT, "maxRuntimeMinutes": 50000},
         "sentry-stacks:cronMonitors.h.maxRuntimeMinutes = 50000: out of range"),
        ({**HEARTBEAT, "failureIssueThreshold": 721},
         "sentry-stacks:cronMonitors.h.failureIssueThreshold = 721: out of range; allowed: 1..720"),
        ({**HEARTBEAT, "recoveryThreshold": "x"}, "sentry-stacks:cronMonitors.h.recoveryThreshold = \"x\": "),
        ({**HEARTBEAT, "service": "redis"},
         "sentry-stacks:cronMonitors.h.service = \"redis\": must name a service that reports to Sentry "
         "(backend, beat"),
        ({**HEARTBEAT, "slug": "Heart Beat"},
         "sentry-stacks:cronMonitors.h.slug = \"Heart Beat\": must be a monitor slug"),
        ({**HEARTBEAT, "owner": "bob"},
         "sentry-stacks:cronMonitors.h.owner = \"bob\": must be team:<id> or user:<id>"),
        ({**HEARTBEAT, "margin": 3},
         "sentry-stacks:cronMonitors.h.margin = 3: unknown key; allowed: checkinMarginMinutes"),
    ],
)
def test_bad_cron_monitor_values_name_the_key_and_what_is_allowed(body: dict[str, Any], expected: str) -> None:
    found = problems(cronMonitors={"h": body})
    assert any(p.startswith(expected) or expected in p for p in found), found


def test_monitor_names_slugs_and_release_tracking_problems() -> None:
    found = problems(cronMonitors={"Bad_Name": HEARTBEAT, "a": {**HEARTBEAT, "slug": "same"},
                                   "b": {**HEARTBEAT, "slug": "same"}},
                     releaseTracking={"deploys": "maybe", "urll": "x"})
    assert any(p.startswith("sentry-stacks:cronMonitors.Bad_Name = ") and "bad monitor name" in p for p in found)
    assert any("cronMonitors.b.slug = \"same\": monitor 'a' has the same slug" in p for p in found), found
    assert any(p.startswith("sentry-stacks:releaseTracking.deploys = \"maybe\": must be a boolean: true or false")
               for p in found), found
    assert any("releaseTracking.urll = \"x\": unknown key; did you mean 'url'? allowed: deleteOnDestroy, deploys,"
               " enabled, url" in p
               for p in found), found
    assert any("cronMonitors = [1]: must be an object" in p for p in problems(cronMonitors=[1]))


def test_alerts_may_watch_cron_monitors() -> None:
    s = settings_for("dev", alerts={"late": {"services": ["worker"], "monitors": ["heartbeat"],
                                             "actions": [{"type": "email"}]}})
    assert s.alerts["late"].monitors == ["heartbeat"]
    assert any("no such monitor; monitors: error-spike, heartbeat" in p
               for p in problems(alerts={"x": {"services": ["backend"], "monitors": ["nope"],
                                               "actions": [{"type": "email"}]}}))


def test_schedules_and_zones() -> None:
    assert crontab_problem("*/15 9-17 * jan-jun mon-fri") is None and crontab_problem("@daily") is None
    for accepted in ("0 0 29 2 *", "0 0 * * 7", "0 0 L * *", "0 0 * * 1#2", "0 0 31 4,6,7 *", "  0  0 * * *  "):
        assert crontab_problem(accepted) is None, accepted  # cronsim (so Sentry) takes these
    assert "minute field '*/0' is not valid" in (crontab_problem("*/0 * * * *") or "")
    assert "day-of-week field 'funday' is not valid" in (crontab_problem("* * * * funday") or "")
    assert "never matches a date in month field '4,6'" in (crontab_problem("0 0 31 4,6 *") or "")
    assert timezone_problem("America/New_York") is None and timezone_problem("Mars/Olympus")
    interval = CronMonitorSettings.model_validate({"service": "w", "interval": {"every": 2, "unit": "hour"}})
    assert interval.schedule_type == "interval" and interval.sentry_schedule() == [2, "hour"]
    with pytest.raises(SettingsError) as info:  # <name>-<stack> longer than a monitor slug may be
        load_settings(stack_config("dev"), stack="a" * 60, git_release=lambda: RELEASE, root=ROOT, environ={})
    assert any("(<name>-<stack>) is not a valid slug of at most 50 characters: set slug" in str(p)
               for p in info.value.problems), info.value.problems


def test_a_cron_monitor_named_like_a_metric_monitor_is_said_plainly() -> None:
    """Issue 22: the value was printed as a Python repr (CronMonitorSettings(service=...))."""
    found = problems(cronMonitors={"error-spike": HEARTBEAT})
    assert found == ['sentry-stacks:cronMonitors.error-spike = {"schedule": "* * * * *", "service": "worker"}: '
                     "sentry-stacks:monitors.error-spike (a metric monitor) has the same name: a name is unique "
                     "across monitors and cronMonitors; rename one"], found
