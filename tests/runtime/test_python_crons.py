"""sentry-stacks-runtime's cron monitors: what the toolkit renders into the service that runs a monitor
(SENTRY_STACKS_CRON_MONITORS) becomes Celery beat entries that the real sentry-sdk Celery integration reports to
Sentry exactly as the stack declares the monitor; anything it would report differently is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sentry_sdk.integrations.celery.beat import _get_monitor_config

from infra.envs import service_env
from infra.sampling import derive_rates
from sentry_stacks_runtime import ConfigError, cron_monitor, cron_monitors
from sentry_stacks_runtime.celery import beat_schedule, configure_beat
from tests.unit.settings_support import DSNS, settings_for


def rendered(stack: str = "dev", **crons: Any) -> dict[str, str]:
    """The beat service's environment as the toolkit renders it."""
    s = settings_for(stack, **({"cronMonitors": crons} if crons else {}))
    return service_env(s, s.service("beat"), DSNS, derive_rates(s.sampling))


def monitor(**schedule: Any) -> dict[str, str]:
    return rendered(job={"service": "beat", "timezone": "Europe/Berlin", **schedule})


def test_the_rendered_monitor_is_what_the_stack_declares() -> None:
    env = rendered()
    heartbeat = cron_monitor("heartbeat", env)
    assert (heartbeat.slug, heartbeat.crontab, heartbeat.interval, heartbeat.timezone) == (
        "heartbeat-dev", "* * * * *", None, "UTC")
    assert heartbeat.config["max_runtime"] == 2 and heartbeat.config["checkin_margin"] == 1
    assert list(cron_monitors(env)) == ["heartbeat"] and cron_monitors({}) == {}
    with pytest.raises(ConfigError, match=r"does not run the cron monitor 'nightly'.*cronMonitors\.nightly\.service"
                       ) as missing:  # fmt: skip
        cron_monitor("nightly", env)
    # the runtime does not know the project's name: the key is not given another project's prefix
    message = str(missing.value)
    assert "set <project>:cronMonitors.nightly.service to this service (<project>: your Pulumi project's name)" in \
        message and "sentry-stacks:" not in message, message
    with pytest.raises(ConfigError, match="SENTRY_STACKS_CRON_MONITORS must be a JSON object"):
        cron_monitors({"SENTRY_STACKS_CRON_MONITORS": "[1]"})


@pytest.mark.parametrize(("schedule", "expected"), [
    ({"schedule": "*/5 2 * * 1-5"}, {"type": "crontab", "value": "*/5 2 * * 1-5"}),
    ({"interval": {"every": 10, "unit": "minute"}}, {"type": "interval", "value": 10, "unit": "minute"}),
    ({"interval": {"every": 2, "unit": "day"}}, {"type": "interval", "value": 2, "unit": "day"}),
])  # fmt: skip
def test_celery_beat_reports_exactly_the_declared_schedule(schedule: dict[str, Any], expected: dict[str, Any]) -> None:
    """The real sentry-sdk reads the beat entry back as the monitor config it sends with every check-in (which
    upserts the monitor in Sentry): it must be the stack's."""
    env = monitor(**schedule)
    app = Celery("t", set_as_current=False)
    entries = configure_beat(app, {"job": "shop.job"}, env)
    assert list(entries) == ["job-dev"] and entries["job-dev"]["task"] == "shop.job"
    assert app.conf.timezone == "Europe/Berlin"
    entry = app.conf.beat_schedule["job-dev"]
    sched = entry["schedule"]
    if not hasattr(sched, "remaining_estimate"):  # a timedelta: beat wraps it in a schedule
        from celery.schedules import schedule as every

        sched = every(run_every=sched, app=app)
    else:
        sched.app = app
    reported = _get_monitor_config(sched, app, "job-dev")
    declared = json.loads(env["SENTRY_STACKS_CRON_MONITORS"])["job"]["config"]
    assert reported == {"schedule": expected, "timezone": "Europe/Berlin"}
    assert reported["schedule"] == declared["schedule"] and reported["timezone"] == declared["timezone"]


@pytest.mark.parametrize(("schedule", "message"), [
    ({"interval": {"every": 60, "unit": "minute"}}, r"as 1 hour\(s\).*declare interval \{every: 1, unit: hour\}"),
    ({"interval": {"every": 1, "unit": "week"}}, r"as 7 day\(s\).*declare interval \{every: 7, unit: day\}"),
    ({"interval": {"every": 1, "unit": "month"}}, "no fixed length"),
    ({"schedule": "@hourly"}, r"as '0 \* \* \* \*'.*declare schedule: \"0 \* \* \* \*\""),
])  # fmt: skip
def test_a_schedule_celery_would_report_differently_is_refused(schedule: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^<project>:cronMonitors\.job: .*" + message):
        beat_schedule({"job": "shop.job"}, monitor(**schedule))


def test_the_stack_and_the_app_must_agree() -> None:
    env = rendered()
    with pytest.raises(ConfigError, match="runs the cron monitor\\(s\\) heartbeat but the app schedules no task"):
        beat_schedule({}, env)
    with pytest.raises(ConfigError, match=r"no cron monitor nightly is run by this service .*: declare it in "
                                           r"<project>:cronMonitors with this service"):  # fmt: skip
        beat_schedule({"heartbeat": "t.h", "nightly": "t.n"}, env)
    assert beat_schedule({"heartbeat": "t.h"}, {}) == {}  # the worker: the variable is not rendered there
    zones = rendered(a={"service": "beat", "schedule": "0 * * * *", "timezone": "UTC"},
                     b={"service": "beat", "schedule": "0 * * * *", "timezone": "Asia/Tokyo"})
    with pytest.raises(ConfigError, match="one Celery beat runs in one time zone, these monitors use Asia/Tokyo, UTC"):
        configure_beat(Celery("t", set_as_current=False), {"a": "t.a", "b": "t.b"}, zones)


BEAT_APP = """
from celery import Celery
from sentry_stacks_runtime.celery import configure_beat
app = Celery("beatapp", broker="memory://")
configure_beat(app, {"heartbeat": "beatapp.heartbeat"})
"""


@pytest.mark.parametrize("runs", [False, True])
def test_a_real_beat_runs_the_monitor_or_stops_at_start_without_one(tmp_path: Path, runs: bool) -> None:
    """`celery beat` itself: given the rendered monitor it schedules it under the slug; started without one (the stack
    names another service) it stops at once with exit code 2 and says what to set, instead of scheduling nothing."""
    (tmp_path / "beatapp.py").write_text(BEAT_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    if runs:
        env["SENTRY_STACKS_CRON_MONITORS"] = rendered()["SENTRY_STACKS_CRON_MONITORS"]
    cmd = [sys.executable, "-m", "celery", "-A", "beatapp", "beat", "--loglevel", "DEBUG",
           "--schedule", str(tmp_path / "schedule"), "--max-interval", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=8 if runs else 60)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    if runs:
        assert "heartbeat-dev" in out and "beatapp.heartbeat" in out, out[-2000:]
        assert "runs no cron monitor" not in out
    else:
        assert proc.returncode == 2, out[-2000:]
        assert "this celery beat runs no cron monitor" in out and "<project>:cronMonitors.heartbeat.service" in out
