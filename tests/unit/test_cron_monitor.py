"""CronMonitor provider: preview checks, and read/diff of monitor responses in the shape Sentry publishes."""

from __future__ import annotations

import copy
from typing import Any

from infra.sentry.cron_monitor import CronMonitorProvider
from infra.sentry.cron_monitor_model import CronMonitorInputs, outputs_from_api
from infra.sentry.shape import changes, inputs_of_state, parse


def changed_fields(outs: dict[str, Any], declared: dict[str, Any]) -> list[str]:
    return changes(CronMonitorInputs, outs, declared)[0]

DECLARED: dict[str, Any] = {
    "project": "backend", "slug": "heartbeat-dev", "name": "[app/dev] heartbeat", "scheduleType": "crontab",
    "schedule": "* * * * *", "timezone": "UTC", "checkinMargin": 1, "maxRuntime": 5, "failureIssueThreshold": 1,
    "recoveryThreshold": 1, "status": "active", "isMuted": False, "environment": "development", "adopt": False,
}
# a monitor as Sentry's API answers it (the schema's required fields; nulls where Sentry means its default)
SENTRY_MONITOR: dict[str, Any] = {
    "id": "c5b9e2a4-1b7e-4f1d-9a5e-1f2a3b4c5d6e", "name": "[app/dev] heartbeat", "slug": "heartbeat-dev",
    "status": "active", "isMuted": False, "isUpserting": False, "dateCreated": "2026-01-31T12:00:00Z",
    "config": {"schedule_type": "crontab", "schedule": "* * * * *", "checkin_margin": None, "max_runtime": 5,
               "timezone": "UTC", "failure_issue_threshold": None, "recovery_threshold": 1, "alert_rule_id": None},
    "project": {"id": "11", "slug": "backend", "name": "backend", "platform": "python"},
    "environments": [{"name": "development", "status": "ok", "isMuted": False, "dateCreated": "2026-01-31T12:01:00Z",
                      "lastCheckIn": "2026-01-31T12:01:00Z", "nextCheckIn": "2026-01-31T12:02:00Z",
                      "nextCheckInLatest": "2026-01-31T12:03:00Z", "activeIncident": None}],
    "owner": None,
}


def failures(props: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in CronMonitorProvider().check({}, props).failures}


def test_check_accepts_the_declaration() -> None:
    assert failures(DECLARED) == {}
    assert failures({**DECLARED, "scheduleType": "interval", "schedule": [10, "minute"]}) == {}


def test_check_names_each_bad_value_and_what_is_allowed() -> None:
    bad = failures({**DECLARED, "schedule": "*/0 25 * * *", "timezone": "Europe/Berln", "checkinMargin": 0,
                    "maxRuntime": 40321, "failureIssueThreshold": 721, "status": "paused", "owner": "bob",
                    "slug": "Heartbeat"})
    assert "minute field '*/0' is not valid" in bad["schedule"]
    assert "unknown time zone 'Europe/Berln'" in bad["timezone"]
    assert "out of range; allowed: 1..40320" in bad["checkinMargin"] and "1..40320" in bad["maxRuntime"]
    assert "1..720" in bad["failureIssueThreshold"]
    assert "must be one of 'active' or 'disabled'" in bad["status"]
    assert "team:<id> or user:<id>" in bad["owner"] and "lowercase letters" in bad["slug"]
    interval = failures({**DECLARED, "scheduleType": "interval", "schedule": [0, "fortnight"]})
    assert "unit one of minute, hour, day, week, month, year" in interval["schedule"]
    assert "must be one of 'crontab' or 'interval'" in failures({**DECLARED, "scheduleType": "cron"})["scheduleType"]


def test_no_detector_is_a_known_empty_id() -> None:
    """A null detectorId output is unknown in every later preview (so was each watching alert's detectorIds)."""
    inputs = parse(CronMonitorInputs, DECLARED)
    outs = outputs_from_api(SENTRY_MONITOR, inputs, organization="acme", adopted=False, detector_id=None)
    assert outs["detectorId"] == ""
    assert CronMonitorProvider().diff("acme/heartbeat-dev", outs, DECLARED).changes is False
    # a state written before: one update rewrites it
    assert CronMonitorProvider().diff("acme/heartbeat-dev", {**outs, "detectorId": None}, DECLARED).changes


def test_check_refuses_what_sentry_refuses() -> None:
    """Issue 22: these passed preview and `up` then failed with Sentry's 400 after creating half the stack."""
    assert "minute field '5-1' is not valid" in failures({**DECLARED, "schedule": "5-1 * * * *"})["schedule"]
    assert "never matches a date" in failures({**DECLARED, "schedule": "0 0 31 2 *"})["schedule"]
    assert "did you mean 'Europe/Berlin'" in failures({**DECLARED, "timezone": "posix/Europe/Berlin"})["timezone"]


def test_read_of_sentry_response_shows_no_drift_for_what_sentry_means() -> None:
    inputs = parse(CronMonitorInputs, DECLARED)
    outs = outputs_from_api(SENTRY_MONITOR, inputs, organization="acme", adopted=False, detector_id="42")
    assert outs["checkinMargin"] == 1 and outs["failureIssueThreshold"] == 1  # null: Sentry's default
    assert outs["environmentStatus"] == "ok" and outs["monitorId"] == SENTRY_MONITOR["id"]
    assert changed_fields(outs, DECLARED) == []
    assert CronMonitorProvider().diff("acme/heartbeat-dev", outs, DECLARED).changes is False
    assert inputs_of_state(CronMonitorInputs, outs)["schedule"] == "* * * * *"


def test_read_shows_a_schedule_changed_by_hand_and_a_new_slug_replaces() -> None:
    inputs = parse(CronMonitorInputs, DECLARED)
    edited = copy.deepcopy(SENTRY_MONITOR)
    edited["config"].update({"schedule": "*/5 * * * *", "checkin_margin": 10})
    edited["owner"] = {"type": "team", "id": "7", "name": "ops"}
    outs = outputs_from_api(edited, inputs, organization="acme", adopted=False, detector_id=None)
    assert sorted(changed_fields(outs, DECLARED)) == ["checkinMargin", "owner", "schedule"]
    assert outs["owner"] == "team:7"
    diff = CronMonitorProvider().diff("acme/heartbeat-dev", outs, {**DECLARED, "slug": "heartbeat-2"})
    assert diff.changes and diff.replaces == ["slug"]


def test_nicknames_and_intervals_compare_by_meaning() -> None:
    daily = parse(CronMonitorInputs, {**DECLARED, "schedule": "@daily"})
    assert daily.to_body()["config"]["schedule"] == "0 0 * * *"
    live = copy.deepcopy(SENTRY_MONITOR)
    live["config"].update({"schedule_type": "interval", "schedule": [2, "hour"]})
    declared = {**DECLARED, "scheduleType": "interval", "schedule": [2, "hour"]}
    outs = outputs_from_api(live, parse(CronMonitorInputs, declared), organization="o", adopted=False,
                            detector_id=None)
    assert changed_fields(outs, declared) == []
    body = parse(CronMonitorInputs, declared).to_body()
    assert body["config"] == {"schedule_type": "interval", "schedule": [2, "hour"], "checkin_margin": 1,
                              "max_runtime": 5, "timezone": "UTC", "failure_issue_threshold": 1,
                              "recovery_threshold": 1}
    assert body["slug"] == "heartbeat-dev" and body["project"] == "backend" and body["is_muted"] is False
