"""Relay's HTTP check-in endpoint and the detector of each cron monitor, against a real localsentry process.

- Every key's DSN set has a `crons` URL (`…/api/{project}/cron/___MONITOR_SLUG___/{key}/`); a `GET` or `POST` there
  with `?status=in_progress|ok|error` (or a JSON check-in body with `monitor_config`) answers 202, as Relay does,
  and the check-in is read back through the monitors API: a check-in without `check_in_id` closes the latest
  in-progress one, a JSON body upserts the monitor, a disabled key or another project's id is refused.
- Creating a cron monitor (API, SDK upsert, HTTP upsert) creates its `monitor_check_in_failure` detector, whose data
  source is the monitor; a workflow's `detectorIds` can name it; the detector follows the monitor's status and is
  deleted with it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry
CRON_DETECTOR = "monitor_check_in_failure"


def _crons_url(ls: LocalSentry, project: dict[str, Any], slug: str, key: dict[str, Any] | None = None) -> str:
    key = key or ls.keys(str(project["slug"]))[0]
    url = str(key["dsn"]["crons"])
    assert url == f"{ls.url}/api/{project['id']}/cron/___MONITOR_SLUG___/{key['public']}/"
    return url.replace("___MONITOR_SLUG___", slug)


def _monitor(ls: LocalSentry, slug: str) -> dict[str, Any]:
    return dict(ls.get_json(f"/api/0/organizations/{ls.org}/monitors/{slug}/"))


def _checkins(ls: LocalSentry, slug: str) -> list[dict[str, Any]]:
    return list(ls.get_json(f"/api/0/organizations/{ls.org}/monitors/{slug}/checkins/"))


def _cron_detectors(ls: LocalSentry, project: dict[str, Any]) -> list[dict[str, Any]]:
    return list(ls.get_json(f"/api/0/organizations/{ls.org}/detectors/", project=project["id"],
                            query=f"type:{CRON_DETECTOR}"))  # fmt: skip


def _create_monitor(ls: LocalSentry, project: dict[str, Any], slug: str, **config: Any) -> dict[str, Any]:
    body = {"project": project["slug"], "name": f"Job {slug}", "slug": slug,
            "config": {"schedule_type": "crontab", "schedule": "0 * * * *", "checkin_margin": 5, **config}}  # fmt: skip
    resp = ls.api("POST", f"/api/0/organizations/{ls.org}/monitors/", json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def test_http_check_ins_on_the_dsn_crons_url(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project(platform="python")
    slug = unique("backup")
    _create_monitor(ls, project, slug)
    url = _crons_url(ls, project, slug)
    started = requests.get(url, params={"status": "in_progress", "environment": "staging"}, timeout=10)
    assert (started.status_code, started.content) == (202, b"")
    [running] = _checkins(ls, slug)
    assert (running["status"], running["environment"]) == ("in_progress", "staging")
    done = requests.post(url + "?status=ok&environment=staging", timeout=10)  # no id: closes the latest running one
    assert done.status_code == 202
    [closed] = _checkins(ls, slug)
    assert (closed["id"], closed["status"]) == (running["id"], "ok") and closed["duration"] is not None
    failed_id = str(uuid.uuid4())
    assert requests.get(url, params={"status": "error", "check_in_id": failed_id, "duration": "1.5"},
                        timeout=10).status_code == 202  # fmt: skip
    latest = _checkins(ls, slug)[0]
    assert (latest["id"], latest["status"], latest["duration"], latest["environment"]) == (
        failed_id.replace("-", ""), "error", 1500, "production")
    envs = {e["name"]: e["status"] for e in _monitor(ls, slug)["environments"]}
    assert envs == {"staging": "ok", "production": "error"}
    without_slash = url.rstrip("/") + "?status=ok"
    assert requests.get(without_slash, timeout=10).status_code == 202
    header_auth = f"{ls.url}/api/{project['id']}/cron/{slug}/"
    key = ls.keys(project["slug"])[0]["public"]
    assert requests.get(header_auth, params={"status": "ok", "sentry_key": key}, timeout=10).status_code == 202
    assert len(_checkins(ls, slug)) == 4


def test_http_check_in_with_a_json_body_upserts_the_monitor(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project(platform="node")
    slug = unique("sync")
    body = {"status": "ok", "environment": "production", "duration": 3,
            "monitor_config": {"schedule": {"type": "interval", "value": 2, "unit": "hour"}, "checkin_margin": 10,
                               "max_runtime": 20, "timezone": "Europe/Berlin"}}  # fmt: skip
    resp = requests.post(_crons_url(ls, project, slug), data=json.dumps(body),
                         headers={"Content-Type": "application/json"}, timeout=10)  # fmt: skip
    assert resp.status_code == 202, resp.text
    monitor = _monitor(ls, slug)
    assert monitor["config"]["schedule"] == [2, "hour"] and monitor["config"]["timezone"] == "Europe/Berlin"
    assert [(c["status"], c["duration"]) for c in _checkins(ls, slug)] == [("ok", 3000)]
    [detector] = [d for d in _cron_detectors(ls, project) if d["dataSources"][0]["queryObj"]["slug"] == slug]
    assert detector["enabled"] is True


def test_http_check_ins_are_refused_like_relay_refuses_them(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    other = ls.create_project()
    slug = unique("job")
    _create_monitor(ls, project, slug)
    url = _crons_url(ls, project, slug)
    bad_status = requests.get(url, params={"status": "done"}, timeout=10)
    assert bad_status.status_code == 400 and "status" in bad_status.json()["detail"]
    assert requests.get(url, timeout=10).status_code == 400  # no status at all
    assert requests.get(url, params={"status": "ok", "check_in_id": "nope"}, timeout=10).status_code == 400
    wrong_project = url.replace(f"/api/{project['id']}/", f"/api/{other['id']}/")
    assert requests.get(wrong_project, params={"status": "ok"}, timeout=10).status_code == 403
    key = ls.keys(project["slug"])[0]
    ls.api("PUT", f"/api/0/projects/{ls.org}/{project['slug']}/keys/{key['id']}/", json={"isActive": False})
    assert requests.get(url, params={"status": "ok"}, timeout=10).status_code == 403
    unknown = requests.get(f"{ls.url}/api/{project['id']}/cron/{slug}/{'0' * 32}/", params={"status": "ok"},
                           timeout=10)  # fmt: skip
    assert unknown.status_code == 403
    assert _checkins(ls, slug) == []


def test_a_cron_monitor_has_its_detector_and_an_alert_can_watch_it(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project(platform="python")
    slug = unique("report")
    monitor = _create_monitor(ls, project, slug)
    [detector] = _cron_detectors(ls, project)
    source = detector["dataSources"][0]
    assert (detector["type"], detector["name"], detector["enabled"], detector["projectId"]) == (
        CRON_DETECTOR, monitor["name"], True, str(project["id"]))
    assert (source["type"], source["queryObj"]["id"], source["queryObj"]["slug"]) == (
        "cron_monitor", monitor["id"], slug)
    assert source["sourceId"].isdigit() and source["sourceId"] != monitor["id"]
    workflow = ls.api("POST", f"/api/0/organizations/{ls.org}/workflows/", json={
        "name": f"Page on {slug}", "detectorIds": [detector["id"]],
        "triggers": {"logicType": "any-short", "conditions": []}, "actionFilters": []})  # fmt: skip
    assert workflow.status_code == 201, workflow.text
    assert workflow.json()["detectorIds"] == [detector["id"]]
    assert _cron_detectors(ls, project)[0]["workflowIds"] == [workflow.json()["id"]]
    path = f"/api/0/organizations/{ls.org}/monitors/{slug}/"
    assert ls.api("PUT", path, json={"status": "disabled"}).status_code == 200
    assert _cron_detectors(ls, project)[0]["enabled"] is False
    assert ls.api("DELETE", path).status_code == 202
    assert _cron_detectors(ls, project) == []
    fresh = ls.api("GET", f"/api/0/organizations/{ls.org}/workflows/{workflow.json()['id']}/").json()
    assert fresh["detectorIds"] == []


def test_the_detectors_api_creates_and_deletes_cron_monitors(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    slug = unique("etl")
    config = {"schedule": "0 4 * * *", "scheduleType": "crontab"}
    source = {"name": "ETL", "slug": slug, "config": config}
    body = {"type": CRON_DETECTOR, "name": "ETL detector", "dataSources": [source]}
    created = ls.api("POST", f"/api/0/organizations/{ls.org}/projects/{project['slug']}/detectors/", json=body)
    assert created.status_code == 201, created.text
    detector = created.json()
    assert detector["name"] == "ETL detector" and detector["dataSources"][0]["queryObj"]["name"] == "ETL"
    assert _monitor(ls, slug)["config"]["schedule"] == "0 4 * * *"
    path = f"/api/0/organizations/{ls.org}/detectors/{detector['id']}/"
    assert ls.api("PUT", path, json={"name": "ETL detector", "enabled": False}).json()["enabled"] is False
    assert _monitor(ls, slug)["status"] == "disabled"
    assert ls.api("DELETE", path).status_code == 204
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/monitors/{slug}/").status_code == 404
    bad = ls.api("POST", f"/api/0/organizations/{ls.org}/projects/{project['slug']}/detectors/",
                 json={**body, "dataSources": [{"name": "x", "config": {"schedule": "61 * * * *"}}]})  # fmt: skip
    assert bad.status_code == 400 and "dataSources" in bad.json()


def test_monitors_upserted_by_a_check_in_get_a_detector(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    key = ls.keys(project["slug"])[0]
    slug = unique("upserted")
    payload = {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": "ok",
               "monitor_config": {"schedule": {"type": "crontab", "value": "*/5 * * * *"}}}  # fmt: skip
    envelope = "\n".join([json.dumps({}), json.dumps({"type": "check_in"}), json.dumps(payload)])
    resp = requests.post(f"{ls.url}/api/{project['id']}/envelope/", params={"sentry_key": key["public"]},
                         data=envelope, timeout=10)  # fmt: skip
    assert resp.status_code == 200, resp.text
    [detector] = _cron_detectors(ls, project)
    assert detector["dataSources"][0]["queryObj"]["slug"] == slug
