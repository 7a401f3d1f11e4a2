"""Contract tests: the read APIs of stored telemetry (organization events per dataset, outcome stats), every
response validated against Sentry's published schema (`check`); skipped as one group without the schema."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from localsentry import contract
from tests.support.localsentry import VALIDATED, LocalSentry, check, fill, unique

pytestmark = [pytest.mark.sentry, pytest.mark.schema]

O = "/api/0/organizations/{organization_id_or_slug}/"  # noqa: E741
E = O + "events/"
S = O + "stats_v2/"
MO = O + "monitors/"
MD = MO + "{monitor_id_or_slug}/"
PM = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/monitors/{monitor_id_or_slug}/"
IS = O + "issues/"
ID = IS + "{issue_id}/"
PI = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/issues/"
OPERATIONS = [
    ("GET", E), ("GET", S), ("GET", O + "sessions/"), ("GET", MO), ("POST", MO), ("GET", MD), ("PUT", MD),
    ("DELETE", MD),
    ("GET", MD + "checkins/"), ("GET", PM), ("PUT", PM), ("DELETE", PM), ("GET", PM + "checkins/"),
    ("GET", IS), ("PUT", IS), ("DELETE", IS), ("GET", ID), ("PUT", ID), ("DELETE", ID), ("GET", ID + "events/"),
    ("GET", ID + "events/{event_id}/"), ("GET", PI),
]  # fmt: skip


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("contract-telemetry"), rate_limit=0, concurrent_limit=0)
    yield server
    server.stop()


def send(ls: LocalSentry, project: dict[str, Any], *items: tuple[dict[str, Any], Any], header: Any = None) -> None:
    key = ls.keys(str(project["slug"]))[0]
    lines = [json.dumps(header or {})]
    for item_header, payload in items:
        lines += [json.dumps(item_header), json.dumps(payload)]
    resp = requests.post(f"{ls.url}/api/{project['id']}/envelope/", params={"sentry_key": key["public"]},
                         data="\n".join(lines).encode(), timeout=10)  # fmt: skip
    assert resp.status_code == 200, resp.text


def attrs(**values: Any) -> dict[str, Any]:
    return {k.replace("_", "."): {"value": v, "type": "string"} for k, v in values.items()}


@pytest.fixture(scope="module")
def project(ls: LocalSentry) -> dict[str, Any]:
    created = ls.create_project(name=unique("telemetry"), platform="node")
    now, trace = time.time(), uuid.uuid4().hex
    spans = [{"trace_id": trace, "span_id": uuid.uuid4().hex[:16], "name": n, "status": "ok", "is_segment": i == 0,
              "start_timestamp": now - 1, "end_timestamp": now, "attributes": attrs(sentry_op="http.server")}
             for i, n in enumerate(["GET /", "db"])]  # fmt: skip
    logs = [{"timestamp": now, "level": "info", "body": "hello", "trace_id": trace,
             "attributes": attrs(sentry_environment="prod", sentry_release="1.0")}]  # fmt: skip
    metrics = [{"timestamp": now, "name": "clicks", "type": "counter", "value": 2.0, "trace_id": trace}]
    send(ls, created,
         ({"type": "span", "item_count": 2, "content_type": "application/vnd.sentry.items.span.v2+json"},
          {"version": 2, "items": spans}),
         ({"type": "log", "item_count": 1, "content_type": "application/vnd.sentry.items.log+json"},
          {"version": 2, "items": logs}),
         ({"type": "trace_metric", "item_count": 1, "content_type": "application/vnd.sentry.items.trace-metric+json"},
          {"version": 2, "items": metrics}),
         ({"type": "event"}, {"event_id": uuid.uuid4().hex, "message": "boom", "level": "error"}),
         ({"type": "client_report"}, {"timestamp": now, "discarded_events": [
             {"reason": "queue_overflow", "category": "span", "quantity": 3}]}),
         header={"trace": {"trace_id": trace, "environment": "prod", "release": "1.0", "public_key": "x"}})  # fmt: skip
    return {**created, "trace": trace}


def test_events_per_dataset_match_the_schema(ls: LocalSentry, project: dict[str, Any]) -> None:
    url = fill(E, org=ls.org)
    for dataset, fields, count in (
        ("spans", ["id", "span.op", "span.duration", "trace", "is_transaction", "timestamp"], 2),
        ("transactions", ["id", "transaction", "span.duration"], 1),
        ("logs", ["sentry.item_id", "message", "severity", "timestamp", "trace"], 1),
        ("tracemetrics", ["metric.name", "value", "timestamp"], 1),
        ("errors", ["id", "title", "timestamp", "environment"], 1),
    ):
        body = check(ls.api("GET", url, params={"dataset": dataset, "field": fields, "project": project["id"],
                                                "statsPeriod": "1h"}), E, 200)  # fmt: skip
        assert len(body["data"]) == count, (dataset, body)
        assert set(body["meta"]["fields"]) == set(fields)
    counted = check(ls.api("GET", url, params={"dataset": "spans", "field": ["span.op", "count()"],
                                               "project": project["id"]}), E, 200)  # fmt: skip
    assert counted["data"] == [{"span.op": "http.server", "count()": 2}]


def test_event_query_errors_match_the_schema(ls: LocalSentry, project: dict[str, Any]) -> None:
    url = fill(E, org=ls.org)
    check(ls.api("GET", url, params={"dataset": "nope", "field": ["id"]}), E, 400)
    check(ls.api("GET", url, params={"dataset": "spans"}), E, 400)
    reader = ls.create_token(["project:read"])
    check(ls.api("GET", url, params={"dataset": "spans", "field": ["id"]}, token=reader), E, 403)


def test_stats_v2_matches_the_schema(ls: LocalSentry, project: dict[str, Any]) -> None:
    url = fill(S, org=ls.org)
    body = check(ls.api("GET", url, params={"field": "sum(quantity)", "groupBy": ["outcome", "category"],
                                            "statsPeriod": "1h", "interval": "1h", "project": project["id"]}),
                 S, 200)  # fmt: skip
    totals = {(g["by"]["outcome"], g["by"]["category"]): g["totals"]["sum(quantity)"] for g in body["groups"]}
    assert totals == {("accepted", "span"): 2, ("accepted", "log_item"): 1, ("accepted", "log_byte"): totals[
        ("accepted", "log_byte")], ("accepted", "trace_metric"): 1, ("accepted", "error"): 1,
        ("client_discard", "span"): 3}  # fmt: skip
    assert totals[("accepted", "log_byte")] > 0
    assert all(len(g["series"]["sum(quantity)"]) == len(body["intervals"]) for g in body["groups"])
    bad = ls.api("GET", url, params={"field": "sum(quantity)"})  # 400 is real but undocumented for this route
    assert (bad.status_code, bad.json()) == (400, {"groupBy": ["This field is required."]})


def test_sessions_match_the_schema(ls: LocalSentry, project: dict[str, Any]) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    send(
        ls,
        project,
        (
            {"type": "session"},
            {
                "sid": uuid.uuid4().hex,
                "did": "u",
                "init": True,
                "started": now,
                "status": "exited",
                "attrs": {"release": "1.0", "environment": "prod"},
            },
        ),
    )
    url = fill(O + "sessions/", org=ls.org)
    body = check(ls.api("GET", url, params={"field": ["sum(session)", "crash_free_rate(session)"],
                                            "groupBy": ["release", "session.status", "project", "environment"],
                                            "project": project["id"], "statsPeriod": "1d", "interval": "1h"}),
                 O + "sessions/", 200)  # fmt: skip
    assert [g["by"] for g in body["groups"]] == [{"release": "1.0", "session.status": "healthy",
                                                  "project": int(project["id"]), "environment": "prod"}]  # fmt: skip
    check(ls.api("GET", url, params={"field": "bogus"}), O + "sessions/", 400)


def issue_list(resp: requests.Response, template: str) -> list[dict[str, Any]]:
    """Validate an issue list; with `expand=owners` Sentry answers `owners: null` when no ownership rule
    matched, where the schema documents an object (see the departures test)."""
    assert resp.status_code == 200, resp.text
    body: list[dict[str, Any]] = resp.json()
    sample = {"type": "ownershipRule", "owner": "team:1", "date_added": "2026-01-01T00:00:00Z"}
    contract.validate("GET", template, 200, [{**i, "owners": i["owners"] or sample} for i in body])
    VALIDATED.add(("GET", template))
    return body


def test_issues_match_the_schema(ls: LocalSentry, project: dict[str, Any]) -> None:
    for n in range(3):
        send(ls, project, ({"type": "event"}, {
            "event_id": uuid.uuid4().hex, "level": "warning", "environment": "prod", "user": {"id": f"u{n % 2}"},
            "exception": {"values": [{"type": "KeyError", "value": f"k{n}", "stacktrace": {"frames": [
                {"function": "main", "module": "app", "in_app": True, "lineno": n}]}}]}}))  # fmt: skip
    expand = {"expand": ["inbox", "owners"], "project": project["id"], "query": "KeyError"}
    issues = issue_list(ls.api("GET", fill(IS, org=ls.org), params=expand), IS)
    [issue] = issues
    assert (issue["count"], issue["userCount"], issue["level"]) == ("3", 2, "warning")
    issue_list(ls.api("GET", fill(PI, org=ls.org, project=project["slug"]), params=expand), PI)
    url = fill(ID, org=ls.org, issue_id=issue["id"])
    detail = check(ls.api("GET", url), ID, 200)
    assert detail["shortId"] == issue["shortId"]
    check(ls.api("PUT", url, json={"isBookmarked": True}), ID, 200)
    events = check(ls.api("GET", url + "events/"), ID + "events/", 200)
    assert len(events) == 3 and {e["groupID"] for e in events} == {issue["id"]}
    for which in ("latest", "oldest", "recommended"):
        check(ls.api("GET", fill(ID + "events/{event_id}/", org=ls.org, issue_id=issue["id"], event_id=which)),
              ID + "events/{event_id}/", 200)  # fmt: skip
    bulk = check(ls.api("PUT", fill(IS, org=ls.org), params={"id": issue["id"]}, json={"status": "resolved"}),
                 IS, 200)  # fmt: skip
    assert bulk["status"] == "resolved"
    check(ls.api("GET", fill(ID, org=ls.org, issue_id="999999")), ID, 404)
    check(ls.api("DELETE", url), ID, 202)
    other = [i for i in issue_list(ls.api("GET", fill(IS, org=ls.org), params={**expand, "query": ""}), IS)]
    check(ls.api("DELETE", fill(IS, org=ls.org), params={"id": [i["id"] for i in other]}), IS, 204)


def documented(resp: requests.Response, template: str, status: int) -> Any:
    """Validate a monitor answer against the schema after the schema's two slips are undone: it types
    `environments` as one object where Sentry answers a list of them (see the departures test)."""
    assert resp.status_code == status, resp.text
    body = resp.json()

    def one(monitor: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(monitor["environments"], list) and monitor["environments"]
        return {**monitor, "environments": monitor["environments"][0]}

    shaped = [one(m) for m in body] if isinstance(body, list) else one(body)
    contract.validate(str(resp.request.method), template, status, shaped)
    VALIDATED.add((str(resp.request.method), template))
    return body


def test_monitors_match_the_schema(ls: LocalSentry, project: dict[str, Any]) -> None:
    team = ls.api("GET", f"/api/0/teams/{ls.org}/{ls.team}/").json()
    body = {"project": project["slug"], "name": unique("Nightly"), "owner": f"team:{team['id']}",
            "config": {"schedule_type": "crontab", "schedule": "0 3 * * *", "checkin_margin": 5, "max_runtime": 30,
                       "timezone": "Europe/Vienna", "failure_issue_threshold": 2, "recovery_threshold": 1}}  # fmt: skip
    created = ls.api("POST", fill(MO, org=ls.org), json=body)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    contract.validate("POST", MO, 201, {**created.json(), "environments": {
        "name": "x", "status": "active", "isMuted": False, "dateCreated": "2026-01-01T00:00:00Z",
        "lastCheckIn": "2026-01-01T00:00:00Z", "nextCheckIn": "2026-01-01T00:00:00Z",
        "nextCheckInLatest": "2026-01-01T00:00:00Z", "activeIncident": None}})  # fmt: skip
    VALIDATED.add(("POST", MO))
    for status in ("in_progress", "ok", "ok"):
        send(ls, project, ({"type": "check_in"}, {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug,
                                                  "status": status, "environment": "prod"}))  # fmt: skip
    documented(ls.api("GET", fill(MO, org=ls.org), params={"project": project["id"]}), MO, 200)
    one = documented(ls.api("GET", fill(MD, org=ls.org, monitor_id_or_slug=slug)), MD, 200)
    assert one["environments"][0]["status"] == "ok"
    url = fill(PM, org=ls.org, project=project["slug"], monitor_id_or_slug=slug)
    documented(ls.api("GET", url), PM, 200)
    documented(ls.api("PUT", fill(MD, org=ls.org, monitor_id_or_slug=slug), json={"name": "Renamed"}), MD, 200)
    documented(ls.api("PUT", url, json={"isMuted": True}), PM, 200)
    newest = {"per_page": 1}  # the first check-in of an environment has no expected time (the schema says it has)
    checkins = check(ls.api("GET", fill(MD + "checkins/", org=ls.org, monitor_id_or_slug=slug), params=newest),
                     MD + "checkins/", 200)  # fmt: skip
    assert checkins[0]["status"] == "ok" and checkins[0]["expectedTime"]
    check(ls.api("GET", url + "checkins/", params=newest), PM + "checkins/", 200)
    check(ls.api("POST", fill(MO, org=ls.org), json={**body, "slug": slug}), MO, 400)
    check(ls.api("GET", fill(MD, org=ls.org, monitor_id_or_slug="missing")), MD, 404)
    check(ls.api("DELETE", url), PM, 202)
    second = ls.api("POST", fill(MO, org=ls.org), json={**body, "name": unique("Weekly")}).json()
    check(ls.api("DELETE", fill(MD, org=ls.org, monitor_id_or_slug=second["id"])), MD, 202)
    check(ls.api("GET", fill(MD, org=ls.org, monitor_id_or_slug=second["slug"])), MD, 404)


def test_every_listed_operation_was_validated(request: pytest.FixtureRequest) -> None:
    ran = {item.name for item in request.session.items if Path(str(item.fspath)) == Path(__file__)}
    if len(ran) < len([n for n in globals() if n.startswith("test_")]):
        pytest.skip("only part of this module ran")
    assert set(OPERATIONS) <= VALIDATED, sorted(set(OPERATIONS) - VALIDATED)
