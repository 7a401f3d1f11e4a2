"""Where localsentry knowingly departs from Sentry's published schema because real Sentry does
(../shared/reference/sentry-api.md §1 items 3, 8, 10 and §2.3). Each test shows the schema's claim and the answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from localsentry import contract
from tests.support.localsentry import LocalSentry, fill, unique

pytestmark = [pytest.mark.sentry, pytest.mark.schema]

R = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/"
A = "/api/0/organizations/{organization_id_or_slug}/alert-rules/{alert_rule_id}/"
TEAMS = "/api/0/organizations/{organization_id_or_slug}/teams/"
KEYS = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/"
RULE = {
    "name": "departure", "frequency": 30, "actionMatch": "any",
    "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
    "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners"}],
}  # fmt: skip


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("departures"), legacy_alerts="works", rate_limit=0)
    yield server
    server.stop()


def documented(method: str, template: str) -> set[str]:
    return set(contract.operation(method, template)["responses"])


def test_departure_issue_alert_create_answers_200(ls: LocalSentry) -> None:
    """§1.3: the legacy serializer path answers 200; 201 only with `workflow-engine-rule-serializers`."""
    assert "201" in documented("POST", R) and "200" not in documented("POST", R)
    slug = ls.create_project()["slug"]
    assert ls.api("POST", fill(R, org=ls.org, project=slug), json=RULE).status_code == 200
    ls.set_features(None, {"workflow-engine-rule-serializers": True})
    try:
        body = dict(RULE, name="with flag", frequency=60)
        assert ls.api("POST", fill(R, org=ls.org, project=slug), json=body).status_code == 201
    finally:
        ls.set_features(None, {"workflow-engine-rule-serializers": False})


def test_departure_metric_alert_delete_answers_204(ls: LocalSentry) -> None:
    """§1.3: metric-alert DELETE answers 204 although the schema says 202 (source tests assert 204)."""
    assert documented("DELETE", A) >= {"202"} and "204" not in documented("DELETE", A)
    action = {"type": "email", "targetType": "user", "targetIdentifier": "1"}
    body = {"name": unique("m"), "aggregate": "count()", "timeWindow": 60, "query": "", "thresholdType": 0,
            "projects": [], "triggers": [{"label": "critical", "alertThreshold": 10, "actions": [action]}]}  # fmt: skip
    rule = ls.api("POST", f"/api/0/organizations/{ls.org}/alert-rules/", json=body).json()
    assert ls.api("DELETE", fill(A, org=ls.org, alert_rule_id=rule["id"])).status_code == 204


def test_departure_metric_alert_trigger_without_actions_is_rejected(ls: LocalSentry) -> None:
    """§3.10: the docs example has a warning trigger with `actions: []`; current Sentry rejects it."""
    action = {"type": "email", "targetType": "user", "targetIdentifier": "1"}
    triggers = [{"label": "critical", "alertThreshold": 75, "actions": [action]},
                {"label": "warning", "alertThreshold": 50, "actions": []}]  # fmt: skip
    body = {"name": unique("m"), "aggregate": "count()", "timeWindow": 60, "query": "", "thresholdType": 0,
            "projects": [], "triggers": triggers}  # fmt: skip
    resp = ls.api("POST", f"/api/0/organizations/{ls.org}/alert-rules/", json=body)
    assert resp.status_code == 400
    assert resp.json() == {"nonFieldErrors": ["Each trigger must have an associated action for this alert to fire."]}


def test_departure_team_duplicate_slug_answers_409(ls: LocalSentry) -> None:
    """§2.3: a duplicate team slug answers 409; the schema lists it under 404."""
    assert documented("POST", TEAMS) >= {"404"} and "409" not in documented("POST", TEAMS)
    slug = unique("dup")
    ls.api("POST", fill(TEAMS, org=ls.org), json={"slug": slug})
    resp = ls.api("POST", fill(TEAMS, org=ls.org), json={"slug": slug})
    message = "A team with this slug already exists."
    assert (resp.status_code, resp.json()) == (409, {"non_field_errors": [message], "detail": message})


def test_departure_key_dsn_uses_the_public_key_and_singular_cron(ls: LocalSentry) -> None:
    """§1.10: the schema's key examples show DSN keys that differ from `public` and `/crons/`; real DSNs do not."""
    op = contract.operation("GET", KEYS)
    example = next(iter(op["responses"]["200"]["content"]["application/json"]["examples"].values()))["value"][0]
    assert example["public"] not in example["dsn"]["public"] and "/crons/" in example["dsn"]["crons"]
    key = ls.keys(ls.create_project()["slug"])[0]
    assert key["id"] == key["public"] and f"//{key['public']}@" in key["dsn"]["public"]
    assert key["dsn"]["crons"].endswith(f"/cron/___MONITOR_SLUG___/{key['public']}/")


def test_departure_rate_limited_answer_is_a_json_string(tmp_path_factory: pytest.TempPathFactory) -> None:
    """§1.8: 429 is not in the schema; its body is a bare JSON string and there is no Retry-After."""
    assert "429" not in documented("GET", "/api/0/organizations/{organization_id_or_slug}/")
    with LocalSentry.start(tmp_path_factory.mktemp("rl"), rate_limit=1) as server:
        answers = [server.api("GET", f"/api/0/organizations/{server.org}/", retry_429=False) for _ in range(4)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited and isinstance(limited[0].json(), str) and "Retry-After" not in limited[0].headers


def test_departure_renamed_project_answers_302(ls: LocalSentry) -> None:
    """§2.3: an old slug answers 302 with a `resource-moved` body, which the schema does not document."""
    template = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/"
    assert "302" not in documented("GET", template)
    old = ls.create_project()["slug"]
    ls.api("PUT", fill(template, org=ls.org, project=old), json={"slug": unique("new")})
    moved = ls.api("GET", fill(template, org=ls.org, project=old))
    assert moved.status_code == 302 and moved.json()["detail"]["code"] == "resource-moved"


def test_departure_legacy_alert_apis_answer_410(ls: LocalSentry) -> None:
    """§1.1: brownout and gone answers (410) exist on sentry.io but not in the schema."""
    assert "410" not in documented("GET", R)
    org = ls.create_org()
    slug = ls.create_project(organization=org)["slug"]
    ls.set_legacy_alerts("gone", org=org)
    assert ls.api("GET", fill(R, org=org, project=slug)).status_code == 410


def test_departure_inbound_filter_id_is_legacy_browsers(ls: LocalSentry) -> None:
    """§3.7: the schema's parameter text says `legacy-browser`; the code and the list use `legacy-browsers`."""
    template = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/filters/{filter_id}/"
    slug = ls.create_project()["slug"]
    body = {"subfilters": ["ie"]}
    assert (
        ls.api("PUT", fill(template, org=ls.org, project=slug, filter_id="legacy-browser"), json=body).status_code
        == 404
    )
    assert (
        ls.api("PUT", fill(template, org=ls.org, project=slug, filter_id="legacy-browsers"), json=body).status_code
        == 204
    )


def test_departure_issue_alert_docs_filter_id(ls: LocalSentry) -> None:
    """§1.10: the docs' filter examples use EventAttributeCondition; the real filter is EventAttributeFilter."""
    slug = ls.create_project()["slug"]
    wrong = {"id": "sentry.rules.conditions.event_attribute.EventAttributeCondition", "attribute": "message",
             "match": "co", "value": "x"}  # fmt: skip
    right = dict(wrong, id="sentry.rules.filters.event_attribute.EventAttributeFilter")
    bad = ls.api("POST", fill(R, org=ls.org, project=slug), json=dict(RULE, filters=[wrong], filterMatch="all"))
    assert bad.json() == {"filters": [f"Invalid node. Could not find '{wrong['id']}'"]}
    good = ls.api("POST", fill(R, org=ls.org, project=slug), json=dict(RULE, filters=[right], filterMatch="all"))
    assert good.status_code == 200 and good.json()["filters"][0]["name"] == "The event's message value co x"


MONITORS = "/api/0/organizations/{organization_id_or_slug}/monitors/"


def test_departure_monitor_environments_are_a_list(ls: LocalSentry) -> None:
    """The schema types a monitor's `environments` as one object; Sentry answers a list, one per environment
    (empty before the first check-in), and an interval schedule as `[count, "unit"]` (the schema: integers)."""
    item = contract.operation("GET", MONITORS)["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    assert item["properties"]["environments"]["type"] == "object"
    slug = ls.create_project()["slug"]
    body = {"project": slug, "name": unique("hourly"), "config": {"schedule_type": "interval", "schedule": [1, "hour"]}}
    monitor = ls.api("POST", fill(MONITORS, org=ls.org), json=body).json()
    assert monitor["environments"] == [] and monitor["config"]["schedule"] == [1, "hour"]
    assert monitor["owner"] is None  # the schema requires an owner object; Sentry answers null without one


ISSUES = "/api/0/organizations/{organization_id_or_slug}/issues/"


def test_departure_issue_owners_and_inbox_only_when_expanded(ls: LocalSentry) -> None:
    """The schema lists `owners` and `inbox` as required objects; Sentry adds them only for `expand=owners` /
    `expand=inbox`, and `owners` is null when no ownership rule matched."""
    item = contract.operation("GET", ISSUES)["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    assert {"owners", "inbox"} <= set(item["required"]) and not item["properties"]["owners"].get("nullable")
    project = ls.create_project()
    key = ls.keys(project["slug"])[0]
    body = b'{}\n{"type":"event"}\n{"message":"departure","level":"error"}\n'
    assert requests.post(f"{ls.url}/api/{project['id']}/envelope/", params={"sentry_key": key["public"]},
                         data=body, timeout=10).status_code == 200  # fmt: skip
    [plain] = ls.api("GET", fill(ISSUES, org=ls.org), params={"project": project["id"]}).json()
    assert "owners" not in plain and "inbox" not in plain
    [expanded] = ls.api(
        "GET", fill(ISSUES, org=ls.org), params={"project": project["id"], "expand": ["owners", "inbox"]}
    ).json()
    assert expanded["owners"] is None and expanded["inbox"]["reason"] == 0
