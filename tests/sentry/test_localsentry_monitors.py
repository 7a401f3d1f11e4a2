"""Cron monitors and check-ins: the real sentry-sdk's `monitor()` (upsert through `monitor_config`), the monitors
API (create, get by slug or id, partial update, delete, per-environment delete, project routes), check-in
lists, and Sentry's clock: missed and timed-out check-ins with the environment turning `error` and back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
import requests

from tests.support.localsentry import ROOT, LocalSentry, unique

pytestmark = pytest.mark.sentry

APP = r"""
import sys
import sentry_sdk
sentry_sdk.init()
config = {"schedule": {"type": "interval", "value": 10, "unit": "minute"}, "checkin_margin": 1, "max_runtime": 5,
          "timezone": "Europe/Vienna"}
with sentry_sdk.monitor(monitor_slug=sys.argv[1], monitor_config=config):
    pass
try:
    with sentry_sdk.monitor(monitor_slug=sys.argv[1]):
        raise RuntimeError("job failed")
except RuntimeError:
    pass
sentry_sdk.flush(timeout=10)
"""


def _org(ls: LocalSentry, path: str = "") -> str:
    return f"/api/0/organizations/{ls.org}/monitors/{path}"


def _checkin(ls: LocalSentry, project: dict[str, Any], payload: dict[str, Any]) -> None:
    key = ls.keys(str(project["slug"]))[0]
    body = "\n".join([json.dumps({}), json.dumps({"type": "check_in"}), json.dumps(payload)]).encode()
    resp = requests.post(f"{ls.url}/api/{project['id']}/envelope/", params={"sentry_key": key["public"]},
                         data=body, timeout=10)  # fmt: skip
    assert resp.status_code == 200, resp.text


def _clock(ls: LocalSentry, seconds: float) -> None:
    assert ls.api("PUT", "/_localsentry/clock", json={"offset": seconds}).status_code == 200


def test_sdk_monitor_upserts_and_reports(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project(platform="python")
    slug = unique("nightly")
    env = dict(os.environ, SENTRY_DSN=ls.dsn(project["slug"]), SENTRY_ENVIRONMENT="staging")
    subprocess.run([sys.executable, "-c", APP, slug], env=env, cwd=ROOT, check=True, timeout=60, capture_output=True)
    monitor = ls.api("GET", _org(ls, f"{slug}/")).json()
    assert monitor["config"] == {"schedule_type": "interval", "schedule": [10, "minute"], "checkin_margin": 1,
                                 "max_runtime": 5, "timezone": "Europe/Vienna", "failure_issue_threshold": None,
                                 "recovery_threshold": None, "alert_rule_id": None}  # fmt: skip
    assert monitor["project"]["slug"] == project["slug"]
    [environment] = monitor["environments"]
    assert (environment["name"], environment["status"]) == ("staging", "error")
    assert environment["activeIncident"]["startingTimestamp"]
    checkins = ls.api("GET", _org(ls, f"{slug}/checkins/")).json()
    assert [c["status"] for c in checkins] == ["error", "ok"]  # newest first; each in_progress was closed
    assert all(c["environment"] == "staging" and isinstance(c["duration"], int) for c in checkins)
    assert ls.api("GET", _org(ls, f"{monitor['id']}/")).json()["slug"] == slug
    by_project = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/monitors/{slug}/checkins/").json()
    assert [c["id"] for c in by_project] == [c["id"] for c in checkins]


def test_crud_and_errors(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    body = {"project": project["slug"], "name": "Nightly Report",
            "config": {"schedule_type": "crontab", "schedule": "0 3 * * *", "checkin_margin": 5}}  # fmt: skip
    created = ls.api("POST", _org(ls), json=body)
    assert created.status_code == 201, created.text
    monitor = created.json()
    assert (monitor["slug"], monitor["status"], monitor["isMuted"], monitor["environments"]) == (
        "nightly-report",
        "active",
        False,
        [],
    )
    assert monitor["config"]["timezone"] == "UTC" and monitor["config"]["max_runtime"] is None
    again = ls.api("POST", _org(ls), json={**body, "slug": "nightly-report"})
    assert (again.status_code, again.json()) == (400, {"slug": ['The slug "nightly-report" is already in use.']})
    assert ls.api("POST", _org(ls), json=body).json()["slug"] == "nightly-report-2"
    bad = ls.api("POST", _org(ls), json={**body, "config": {"schedule": "every day"}})
    assert (bad.status_code, bad.json()) == (400, {"config": {"schedule": ["Schedule was not parseable"]}})
    bad = ls.api("POST", _org(ls), json={**body, "config": {"schedule_type": "interval", "schedule": [1, "fortnight"]}})
    assert bad.json() == {"config": {"schedule": ["Invalid interval"]}}
    bad = ls.api("POST", _org(ls), json={**body, "config": {"schedule": "* * * * *", "timezone": "Mars/Olympus"}})
    assert bad.json() == {"config": {"timezone": ['"Mars/Olympus" is not a valid choice.']}}
    missing = ls.api("POST", _org(ls), json={"name": "x"})
    assert set(missing.json()) == {"project", "config"}
    updated = ls.api("PUT", _org(ls, "nightly-report/"), json={"name": "Renamed", "status": "disabled",
                                                             "config": {"checkin_margin": 10}}).json()  # fmt: skip
    assert (updated["name"], updated["status"], updated["config"]["checkin_margin"]) == ("Renamed", "disabled", 10)
    assert updated["config"]["schedule"] == "0 3 * * *"  # a partial config keeps the rest
    team = ls.api("GET", f"/api/0/teams/{ls.org}/{ls.team}/").json()
    owned = ls.api("PUT", _org(ls, "nightly-report/"), json={"owner": f"team:{team['id']}"}).json()
    assert owned["owner"] == {"type": "team", "id": team["id"], "name": team["name"]}
    listed = ls.api("GET", _org(ls), params={"project": project["id"]}).json()
    assert sorted(m["slug"] for m in listed) == ["nightly-report", "nightly-report-2"]
    assert ls.api("DELETE", _org(ls, "nightly-report/")).status_code == 202
    assert ls.api("GET", _org(ls, "nightly-report/")).status_code == 404
    other = ls.create_project()
    assert ls.api("GET", f"/api/0/projects/{ls.org}/{other['slug']}/monitors/nightly-report-2/").status_code == 404
    reader = ls.create_token(["org:read"])
    assert ls.api("PUT", _org(ls, "nightly-report-2/"), json={"name": "y"}, token=reader).status_code == 403


def test_missed_and_timed_out_checkins_as_sentrys_clock_marks_them(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    slug = unique("sync")
    config = {"schedule": {"type": "interval", "value": 10, "unit": "minute"}, "checkin_margin": 1,
              "max_runtime": 2}  # fmt: skip
    _checkin(ls, project, {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": "ok", "duration": 1.5,
                           "environment": "prod", "monitor_config": config})  # fmt: skip
    first = ls.api("GET", _org(ls, f"{slug}/")).json()["environments"][0]
    assert first["status"] == "ok" and first["activeIncident"] is None
    _clock(ls, 12 * 60)  # past the next expected time (10 min) plus the margin (1 min): one missed check-in
    checkins = ls.api("GET", _org(ls, f"{slug}/checkins/")).json()
    assert [c["status"] for c in checkins] == ["missed", "ok"]
    assert checkins[0]["expectedTime"] == first["nextCheckIn"] and checkins[1]["duration"] == 1500
    env = ls.api("GET", _org(ls, f"{slug}/")).json()["environments"][0]
    assert env["status"] == "error" and env["activeIncident"] is not None
    running = uuid.uuid4().hex
    _checkin(ls, project, {"check_in_id": running, "monitor_slug": slug, "status": "in_progress",
                           "environment": "prod"})  # fmt: skip
    _clock(ls, 15 * 60)  # 3 minutes later; max_runtime is 2 minutes
    checkins = ls.api("GET", _org(ls, f"{slug}/checkins/")).json()
    assert checkins[0]["id"] == running and checkins[0]["status"] == "timeout"
    _checkin(ls, project, {"check_in_id": running, "monitor_slug": slug, "status": "ok", "environment": "prod"})
    assert ls.api("GET", _org(ls, f"{slug}/checkins/")).json()[0]["status"] == "timeout"  # finished stays finished
    _checkin(ls, project, {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": "ok",
                           "environment": "prod"})  # fmt: skip
    env = ls.api("GET", _org(ls, f"{slug}/")).json()["environments"][0]
    assert env["status"] == "ok" and env["activeIncident"] is None  # recovery_threshold 1


def test_checkins_for_unknown_or_disabled_monitors_are_dropped(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    _checkin(ls, project, {"check_in_id": uuid.uuid4().hex, "monitor_slug": "nobody", "status": "ok"})
    assert ls.api("GET", _org(ls, "nobody/")).status_code == 404
    created = ls.api("POST", _org(ls), json={"project": project["slug"], "name": "off", "status": "disabled",
                                             "config": {"schedule": "@hourly"}}).json()  # fmt: skip
    _checkin(ls, project, {"check_in_id": uuid.uuid4().hex, "monitor_slug": created["slug"], "status": "ok"})
    assert ls.api("GET", _org(ls, f"{created['slug']}/checkins/")).json() == []
    ls.api("PUT", _org(ls, f"{created['slug']}/"), json={"status": "active"})
    _checkin(ls, project, {"check_in_id": uuid.uuid4().hex, "monitor_slug": created["slug"], "status": "ok"})
    [checkin] = ls.api("GET", _org(ls, f"{created['slug']}/checkins/")).json()
    assert checkin["environment"] == "production"  # Sentry's default for a check-in without one
    assert ls.api("DELETE", _org(ls, f"{created['slug']}/"), params={"environment": "production"}).status_code == 202
    assert ls.api("GET", _org(ls, f"{created['slug']}/")).json()["environments"] == []
