"""Contract tests: workflows, detectors and the legacy alert APIs, with Sentry's documented request bodies
(the code blocks of the schema's field descriptions), every response validated against the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.localsentry import VALIDATED, LocalSentry, check, fill, unique

pytestmark = [pytest.mark.sentry, pytest.mark.schema]

W = "/api/0/organizations/{organization_id_or_slug}/workflows/"
WD = W + "{workflow_id}/"
D = "/api/0/organizations/{organization_id_or_slug}/detectors/"
DD = D + "{detector_id}/"
PD = "/api/0/organizations/{organization_id_or_slug}/projects/{project_id_or_slug}/detectors/"
R = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/"
RD = R + "{rule_id}/"
A = "/api/0/organizations/{organization_id_or_slug}/alert-rules/"
AD = A + "{alert_rule_id}/"
OPERATIONS = [
    ("GET", W), ("POST", W), ("PUT", W), ("DELETE", W), ("GET", WD), ("PUT", WD), ("DELETE", WD),
    ("POST", PD), ("GET", D), ("PUT", D), ("DELETE", D), ("GET", DD), ("PUT", DD), ("DELETE", DD),
    ("GET", R), ("POST", R), ("GET", RD), ("PUT", RD), ("DELETE", RD),
    ("GET", A), ("POST", A), ("GET", AD), ("PUT", AD), ("DELETE", AD),
]  # fmt: skip

TRIGGERS = {
    "logicType": "any-short",
    "conditions": [
        {"type": "first_seen_event", "comparison": True, "conditionResult": True},
        {"type": "issue_resolved_trigger", "comparison": True, "conditionResult": True},
        {"type": "reappeared_event", "comparison": True, "conditionResult": True},
        {"type": "regression_event", "comparison": True, "conditionResult": True},
    ],
    "actions": [],
}
ACTION_FILTERS = [
    {
        "logicType": "any",
        "conditions": [{"type": "level", "comparison": {"level": 50, "match": "eq"}, "conditionResult": True}],
        "actions": [
            {
                "type": "email",
                "integrationId": None,
                "data": {},
                "config": {"targetType": "user", "targetDisplay": None, "targetIdentifier": "56789"},
                "status": "active",
            }
        ],
    }
]
DATA_SOURCES = [{"aggregate": "count()", "dataset": "events", "environment": "prod", "eventTypes": ["default", "error"],
                 "query": "is:unresolved", "queryType": 0, "timeWindow": 3600}]  # fmt: skip
CONDITION_GROUP = {
    "logicType": "any",
    "conditions": [
        {"type": "gt", "comparison": 10, "conditionResult": 75},
        {"type": "lte", "comparison": 10, "conditionResult": 0},
    ],
    "actions": [],
}


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("contract-alerts"), rate_limit=0, concurrent_limit=0,
                               legacy_alerts="works")  # fmt: skip
    yield server
    server.stop()


def _issue_stream(ls: LocalSentry, project: dict[str, Any]) -> str:
    params = {"query": "type:issue_stream", "project": project["id"]}
    found = check(ls.api("GET", fill(D, org=ls.org), params=params), D, 200)
    assert [d["type"] for d in found] == ["issue_stream"]
    return str(found[0]["id"])


def test_workflow_endpoints(ls: LocalSentry) -> None:
    project = ls.create_project()
    stream = _issue_stream(ls, project)
    body = {"name": unique("Notify Jane Doe"), "enabled": True, "config": {"frequency": 1440}, "environment": None,
            "detectorIds": [int(stream)], "triggers": TRIGGERS, "actionFilters": ACTION_FILTERS,
            "owner": "user:123456"}  # fmt: skip
    created = check(ls.api("POST", fill(W, org=ls.org), json=body), W, 201)
    assert created["detectorIds"] == [stream] and created["triggers"]["logicType"] == "any-short"
    wid = created["id"]
    listed = check(ls.api("GET", fill(W, org=ls.org), params={"project": project["slug"], "sortBy": "-dateCreated"}),
                   W, 200)  # fmt: skip
    assert wid in [w["id"] for w in listed]
    by_query = check(ls.api("GET", fill(W, org=ls.org), params={"query": body["name"], "id": wid}), W, 200)
    assert [w["id"] for w in by_query] == [wid]
    assert check(ls.api("GET", fill(WD, org=ls.org, workflow_id=wid)), WD, 200) == created
    renamed = check(ls.api("PUT", fill(WD, org=ls.org, workflow_id=wid), json=dict(body, name=body["name"] + "!")),
                    WD, 200)  # fmt: skip
    assert renamed["name"].endswith("!")
    bulk = check(ls.api("PUT", fill(W, org=ls.org), params={"id": wid}, json={"enabled": False}), W, 200)
    assert [w["enabled"] for w in bulk] == [False]
    check(ls.api("DELETE", fill(WD, org=ls.org, workflow_id=wid)), WD, 204)
    other = check(ls.api("POST", fill(W, org=ls.org), json=dict(body, name=unique("wf"))), W, 201)
    check(ls.api("DELETE", fill(W, org=ls.org), params={"id": other["id"]}), W, 204)
    assert ls.api("GET", fill(WD, org=ls.org, workflow_id=other["id"])).status_code == 404


def test_detector_endpoints(ls: LocalSentry) -> None:
    project = ls.create_project()
    body = {"name": unique("Example metric monitor"), "type": "metric_issue", "dataSources": DATA_SOURCES,
            "conditionGroup": CONDITION_GROUP, "config": {"detectionType": "static"}, "owner": "user:123456",
            "description": "Example description", "enabled": True}  # fmt: skip
    path = fill(PD, org=ls.org, project=project["slug"])
    created = check(ls.api("POST", path, json=body), PD, 201)
    snuba = created["dataSources"][0]["queryObj"]["snubaQuery"]
    assert (snuba["aggregate"], snuba["timeWindow"]) == ("count()", 3600)
    did = created["id"]
    listed = check(ls.api("GET", fill(D, org=ls.org), params={"project": project["id"], "sortBy": "name"}), D, 200)
    assert sorted(d["type"] for d in listed) == ["error", "issue_stream", "metric_issue"]
    assert check(ls.api("GET", fill(DD, org=ls.org, detector_id=did)), DD, 200)["name"] == body["name"]
    updated = check(ls.api("PUT", fill(DD, org=ls.org, detector_id=did), json=dict(body, name="renamed")), DD, 200)
    assert updated["name"] == "renamed"
    bulk = check(ls.api("PUT", fill(D, org=ls.org), params={"id": did}, json={"enabled": False}), D, 200)
    assert [d["enabled"] for d in bulk] == [False]
    check(ls.api("DELETE", fill(DD, org=ls.org, detector_id=did)), DD, 204)
    again = check(ls.api("POST", path, json=dict(body, name=unique("m"))), PD, 201)
    check(ls.api("DELETE", fill(D, org=ls.org), params={"id": again["id"]}), D, 204)


ISSUE_ALERT = {
    "name": "Owner Alert", "frequency": 1440, "actionMatch": "any", "filterMatch": "all",
    "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
    "filters": [{"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Unassigned"}],
    "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "Member",
                 "fallthroughType": "ActiveMembers", "targetIdentifier": 1523125}],
}  # fmt: skip


def test_legacy_issue_alert_endpoints(ls: LocalSentry) -> None:
    """Create answers 200 where the schema documents 201 (reference §1 item 3); the body has the 201 shape."""
    project = ls.create_project()
    path = fill(R, org=ls.org, project=project["slug"])
    created = check(ls.api("POST", path, json=dict(ISSUE_ALERT, name=unique("Owner Alert"))), R, 200, as_status=201)
    assert created["actions"][0]["targetIdentifier"] == "1523125"
    assert created["filters"][0]["name"] == "The issue is assigned to Unassigned"
    listed = check(ls.api("GET", path), R, 200)
    assert [r["name"] for r in listed] == [created["name"], "Send a notification for high priority issues"]
    one = fill(RD, org=ls.org, project=project["slug"], rule_id=created["id"])
    assert check(ls.api("GET", one), RD, 200)["id"] == created["id"]
    body = dict(ISSUE_ALERT, name="Owner Alert (edited)", frequency=60, filters=[], conditions=[
        {"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 100, "interval": "1h"}])
    edited = check(ls.api("PUT", one, json=body), RD, 200)
    assert edited["conditions"][0]["name"] == "The issue is seen more than 100 times in 1h"
    check(ls.api("DELETE", one), RD, 202)
    assert ls.api("GET", one).status_code == 404


def _metric_alert(ls: LocalSentry, project: str) -> dict[str, Any]:
    team = ls.api("GET", f"/api/0/teams/{ls.org}/{ls.team}/").json()["id"]
    action = {"type": "email", "targetType": "team", "targetIdentifier": team}
    return {
        "name": unique("Apdex % Check"),
        "aggregate": "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
        "timeWindow": 120, "projects": [project], "query": "", "thresholdType": 0, "dataset": "metrics", "queryType": 2,
        "resolveThreshold": 10, "comparisonDelta": 10080, "owner": f"team:{team}",
        "triggers": [{"label": "critical", "alertThreshold": 75, "actions": [action]},
                     {"label": "warning", "alertThreshold": 50, "actions": [action]}],
    }  # fmt: skip


def test_legacy_metric_alert_endpoints(ls: LocalSentry) -> None:
    """DELETE answers 204 where the schema documents 202 (reference §1 item 3)."""
    project = ls.create_project()
    body = _metric_alert(ls, project["slug"])
    created = check(ls.api("POST", fill(A, org=ls.org), json=body), A, 201)
    assert [t["label"] for t in created["triggers"]] == ["critical", "warning"]
    resp = ls.api("GET", fill(A, org=ls.org))
    assert created["id"] in [r["id"] for r in check(resp, A, 200)]
    assert resp.headers["X-Sentry-Alert-Rule-Hits"] == resp.headers["X-Hits"]
    one = fill(AD, org=ls.org, alert_rule_id=created["id"])
    assert check(ls.api("GET", one), AD, 200)["name"] == body["name"]
    body["triggers"][0] = dict(body["triggers"][0], id=created["triggers"][0]["id"], alertThreshold=90)
    edited = check(ls.api("PUT", one, json=body), AD, 200)
    assert edited["triggers"][0]["id"] == created["triggers"][0]["id"]
    assert edited["triggers"][0]["alertThreshold"] == 90
    check(ls.api("DELETE", one), AD, 204, as_status=202)
    assert ls.api("GET", one).status_code == 404


def test_every_listed_operation_was_validated(request: pytest.FixtureRequest) -> None:
    ran = {item.name for item in request.session.items if Path(str(item.fspath)) == Path(__file__)}
    if len(ran) < len([n for n in globals() if n.startswith("test_")]):
        pytest.skip("only part of this module ran")
    assert set(OPERATIONS) <= VALIDATED, sorted(set(OPERATIONS) - VALIDATED)
