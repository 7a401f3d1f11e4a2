"""localsentry evaluates what it stores: workflows fire on real sentry-sdk events (triggers, filters, frequency),
metric monitors open and resolve their issue, cron failures open one; actions reach real receivers (a webhook and
a Slack receiver in the test, the built-in SMTP server); firings read back through Sentry's APIs; state and pending
deliveries survive a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sentry_sdk

from tests.support.localsentry import LocalSentry
from tests.support.receiver import Receiver, free_port, until

pytestmark = pytest.mark.sentry


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def ls(tmp_path: Path, hooks: Receiver) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path, extra_args=["--smtp-port", "0", "--slack-url", hooks.url("/slack")])
    try:
        yield server
    finally:
        server.stop()


def send(ls: LocalSentry, slug: str, message: str = "boom", *, level: str = "error", environment: str = "production",
         tags: dict[str, str] | None = None, fingerprint: list[str] | None = None, count: int = 1) -> list[str]:
    client = sentry_sdk.Client(dsn=ls.dsn(slug), environment=environment, default_integrations=False)
    ids = []
    for _ in range(count):
        event: dict[str, Any] = {"message": message, "level": level, "tags": tags or {},
                                 "fingerprint": fingerprint or [message]}
        ids.append(str(client.capture_event(event, scope=sentry_sdk.Scope())))  # type: ignore[arg-type]
    client.flush(10)
    client.close()
    return ids


def stream(ls: LocalSentry, project: dict[str, Any]) -> str:
    found = ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/",
                   params={"query": "type:issue_stream", "project": project["id"]}).json()
    return str(found[0]["id"])


def workflow(ls: LocalSentry, detectors: list[str], *, triggers: list[Any], filters: list[Any] | None = None,
             actions: list[dict[str, Any]], frequency: int = 0, environment: str | None = None,
             trigger_logic: str = "any-short") -> str:  # fmt: skip
    conds = [{"type": t, "comparison": True, "conditionResult": True} if isinstance(t, str) else t for t in triggers]
    body = {"name": f"alert-{time.monotonic_ns()}", "detectorIds": detectors, "config": {"frequency": frequency},
            "environment": environment, "triggers": {"logicType": trigger_logic, "conditions": conds},
            "actionFilters": [{"logicType": "all", "conditions": filters or [], "actions": actions}]}
    resp = ls.api("POST", f"/api/0/organizations/{ls.org}/workflows/", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def webhook_to(ls: LocalSentry, slug: str, url: str) -> dict[str, Any]:
    base = f"/api/0/projects/{ls.org}/{slug}/plugins/webhooks/"
    assert ls.api("PUT", base, json={"urls": url}).status_code == 200
    assert ls.api("POST", base).status_code == 201
    return {"type": "webhook", "config": {"targetType": "specific", "targetIdentifier": "webhooks"}, "data": {}}


EMAIL = {"type": "email", "config": {"targetType": "issue_owners"}, "data": {"fallthroughType": "ActiveMembers"}}


def history(ls: LocalSentry, workflow_id: str) -> list[dict[str, Any]]:
    resp = ls.api("GET", f"/api/0/organizations/{ls.org}/workflows/{workflow_id}/group-history/")
    assert resp.status_code == 200, resp.text
    return list(resp.json())


def group_of(ls: LocalSentry, slug: str, event_id: str) -> str:
    def found() -> str | None:
        resp = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/events/{event_id}/")
        return resp.json().get("groupID") if resp.status_code == 200 else None

    group = until(found)
    assert group, f"event {event_id} has no issue"
    return str(group)


def mail(ls: LocalSentry) -> list[dict[str, Any]]:
    return list(ls.api("GET", "/_localsentry/mail").json())


def test_new_regressed_and_reappeared_issues_fire_and_deliver_webhook_email_and_slack(
    ls: LocalSentry, hooks: Receiver
) -> None:
    project = ls.create_project()
    slug = project["slug"]
    hook = webhook_to(ls, slug, hooks.url("/hook"))
    slack = {"type": "slack", "integrationId": "1", "config": {"targetType": "specific", "targetIdentifier": "C042",
                                                               "targetDisplay": "#alerts"}, "data": {}}  # fmt: skip
    wid = workflow(ls, [stream(ls, project)], triggers=["first_seen_event", "regression_event", "reappeared_event"],
                   actions=[hook, EMAIL, slack])  # fmt: skip
    event_id = send(ls, slug, "ValueError: proof")[0]
    group = group_of(ls, slug, event_id)

    [posted] = hooks.wait(1, path="/hook")
    body = posted["json"]
    assert posted["headers"]["User-Agent"].startswith("sentry-webhooks/")
    assert body["id"] == group and body["project_slug"] == slug and body["level"] == "error"
    assert body["message"] == "ValueError: proof" and body["triggering_rules"]
    assert body["event"]["event_id"] == event_id and ["environment", "production"] in body["event"]["tags"]
    assert body["url"].endswith(f"/issues/{group}/?referrer=webhooks_plugin")
    [slack_post] = hooks.wait(1, path="/slack")
    assert slack_post["json"]["channel"] == "C042" and slack_post["json"]["blocks"][0]["type"] == "section"
    assert "ValueError: proof" in slack_post["json"]["blocks"][0]["text"]["text"]
    messages = until(lambda: [m for m in mail(ls) if group in m["text"]])
    assert messages and messages[0]["subject"].startswith("[Sentry] ") and messages[0]["subject"].endswith(
        " - ValueError: proof")
    assert messages[0]["to"] == ["admin@localsentry.invalid"]

    issue = f"/api/0/organizations/{ls.org}/issues/{group}/"
    assert ls.api("PUT", issue, json={"status": "resolved"}).status_code == 200
    send(ls, slug, "ValueError: proof")
    assert hooks.wait(2, path="/hook")[1]["json"]["id"] == group
    assert ls.api("PUT", issue, json={"status": "ignored", "statusDetails": {"ignoreCount": 1}}).status_code == 200
    send(ls, slug, "ValueError: proof")
    assert len(hooks.wait(3, path="/hook")) == 3

    [entry] = history(ls, wid)
    assert entry["group"]["id"] == group and entry["count"] == 3 and entry["eventId"]
    activity = ls.api("GET", issue + "activities/").json()["activity"]
    assert [a["type"] for a in activity][-1] == "first_seen"
    assert {"set_regression", "set_resolved", "set_ignored", "set_escalating"} <= {a["type"] for a in activity}
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/workflows/{wid}/").json()["lastTriggered"]
    def finished() -> list[dict[str, Any]]:
        rows = ls.api("GET", "/_localsentry/deliveries", params={"workflow": wid}).json()
        return rows if len(rows) == 9 and all(d["status"] != "pending" for d in rows) else []

    deliveries = until(finished)
    assert {d["type"] for d in deliveries} == {"webhook", "email", "slack"}
    assert {d["status"] for d in deliveries} == {"sent"} and {d["groupId"] for d in deliveries} == {group}
    page = requests.get(ls.url + "/_localsentry/ui/alerts", timeout=10).json()
    assert any(w["id"] == wid and w["fired"] == 3 for w in page["workflows"]) and page["mail"] and page["smtp"]


def test_filters_environment_and_frequency_decide_whether_it_fires(ls: LocalSentry, hooks: Receiver) -> None:
    project = ls.create_project()
    slug = project["slug"]
    hook = webhook_to(ls, slug, hooks.url("/filtered"))
    filters = [{"type": "level", "comparison": {"level": 40, "match": "gte"}, "conditionResult": True},
               {"type": "tagged_event", "comparison": {"key": "team", "match": "eq", "value": "core"},
                "conditionResult": True}]  # fmt: skip
    wid = workflow(ls, [stream(ls, project)], triggers=[], filters=filters, actions=[hook], frequency=5,
                   environment="production")  # fmt: skip
    send(ls, slug, "a warning", level="warning", tags={"team": "core"})
    send(ls, slug, "no tag")
    send(ls, slug, "elsewhere", tags={"team": "core"}, environment="staging")
    first = send(ls, slug, "meets all", tags={"team": "core"})[0]
    assert [r["json"]["message"] for r in hooks.wait(1, path="/filtered")] == ["meets all"]
    send(ls, slug, "meets all", tags={"team": "core"})  # the same issue within 5 minutes: not again
    time.sleep(1.5)
    assert len(hooks.requests) == 1 and history(ls, wid)[0]["count"] == 1
    assert ls.api("PUT", "/_localsentry/clock", json={"offset": 301}).status_code == 200
    send(ls, slug, "meets all", tags={"team": "core"})
    assert len(hooks.wait(2, path="/filtered")) == 2
    assert history(ls, wid)[0]["group"]["id"] == group_of(ls, slug, first)


def test_event_frequency_fires_once_the_count_passes_the_value(ls: LocalSentry, hooks: Receiver) -> None:
    project = ls.create_project()
    slug = project["slug"]
    hook = webhook_to(ls, slug, hooks.url("/freq"))
    frequency = {"type": "event_frequency_count", "comparison": {"value": 3, "interval": "1m"},
                 "conditionResult": True}  # fmt: skip
    workflow(ls, [stream(ls, project)], triggers=[], filters=[frequency], actions=[hook], frequency=30)
    send(ls, slug, "burst", count=3)
    time.sleep(1.5)
    assert hooks.requests == []
    send(ls, slug, "burst")
    assert len(hooks.wait(1, path="/freq")) == 1


def test_a_metric_monitor_opens_its_issue_fires_its_alert_and_resolves(ls: LocalSentry, hooks: Receiver) -> None:
    project = ls.create_project()
    slug = project["slug"]
    hook = webhook_to(ls, slug, hooks.url("/metric"))
    body = {"name": "errors above 2", "type": "metric_issue",
            "dataSources": [{"aggregate": "count()", "dataset": "events", "query": "level:error", "timeWindow": 60,
                             "environment": "production"}],
            "conditionGroup": {"logicType": "any", "conditions": [
                {"type": "gt", "comparison": 2, "conditionResult": 75}]}}  # fmt: skip
    detector = ls.api("POST", f"/api/0/organizations/{ls.org}/projects/{slug}/detectors/", json=body).json()
    wid = workflow(ls, [detector["id"]], triggers=["first_seen_event", "issue_resolved_trigger"], actions=[hook, EMAIL])
    send(ls, slug, "one", fingerprint=["a"], count=2)
    send(ls, slug, "warnings do not count", level="warning", count=3)
    path = f"/api/0/organizations/{ls.org}/detectors/{detector['id']}/"
    assert ls.api("GET", path).json()["latestGroup"] is None
    send(ls, slug, "three", fingerprint=["b"])
    latest = until(lambda: ls.api("GET", path).json()["latestGroup"])
    assert latest["status"] == "unresolved" and latest["issueCategory"] == "metric"
    assert latest["title"].startswith("errors above 2") and latest["priority"] == "high"
    opened = hooks.wait(1, path="/metric")[0]["json"]
    assert opened["id"] == latest["id"]
    assert history(ls, wid)[0]["detector"]["id"] == detector["id"]
    ls.api("PUT", "/_localsentry/clock", json={"offset": 120})  # the window moves past the burst
    resolved = until(lambda: ls.api("GET", path).json()["latestGroup"]["status"] == "resolved", timeout=30)
    assert resolved
    assert len(hooks.wait(2, path="/metric")) == 2  # issue_resolved_trigger
    activity = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{latest['id']}/activities/").json()["activity"]
    assert [a["type"] for a in activity][:2] == ["set_resolved", "first_seen"]
    assert any("Resolved: " in (m["subject"] or "") for m in until(lambda: mail(ls)))


def test_a_failed_check_in_opens_the_cron_issue_and_an_ok_one_resolves_it(ls: LocalSentry, hooks: Receiver) -> None:
    project = ls.create_project()
    slug = project["slug"]
    hook = webhook_to(ls, slug, hooks.url("/cron"))
    monitor = ls.api("POST", f"/api/0/organizations/{ls.org}/monitors/", json={
        "project": slug, "name": "nightly", "slug": "nightly", "type": "cron_job",
        "config": {"schedule_type": "crontab", "schedule": "0 3 * * *"}}).json()  # fmt: skip
    assert monitor["slug"] == "nightly"
    [detector] = ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/",
                        params={"query": "type:monitor_check_in_failure", "project": project["id"]}).json()
    workflow(ls, [detector["id"]], triggers=[], actions=[hook])
    dsn_key = ls.dsn(slug).split("//")[1].split("@")[0]
    cron = f"{ls.url}/api/{project['id']}/cron/nightly/{dsn_key}/"
    assert requests.get(cron, params={"status": "error"}, timeout=10).status_code == 202
    [posted] = hooks.wait(1, path="/cron")
    assert posted["json"]["message"] == "Cron failure: nightly"
    latest = ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/{detector['id']}/").json()["latestGroup"]
    assert latest["status"] == "unresolved" and latest["issueCategory"] == "outage"
    assert requests.get(cron, params={"status": "ok"}, timeout=10).status_code == 202
    assert until(lambda: ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{latest['id']}/").json()["status"]
                 == "resolved")  # fmt: skip


def test_pending_deliveries_and_frequency_survive_a_restart(ls: LocalSentry) -> None:
    project = ls.create_project()
    slug = project["slug"]
    port = free_port()
    hook = webhook_to(ls, slug, f"http://127.0.0.1:{port}/late")
    workflow(ls, [stream(ls, project)], triggers=[], actions=[hook], frequency=30)
    send(ls, slug, "late delivery")

    def attempted() -> list[dict[str, Any]]:
        return [d for d in ls.api("GET", "/_localsentry/deliveries", params={"type": "webhook"}).json()
                if d["attempts"] >= 1]  # fmt: skip

    [first] = until(attempted)
    assert first["status"] == "pending" and "connection refused" in first["detail"]
    ls.stop()
    with Receiver(port=port) as receiver:
        ls.restart()
        assert [r["json"]["message"] for r in receiver.wait(1)] == ["late delivery"]
        send(ls, slug, "late delivery")  # the same issue within 30 minutes, after the restart: no new firing
        time.sleep(1.5)
        assert len(receiver.requests) == 1
    [done] = [d for d in ls.api("GET", "/_localsentry/deliveries").json() if d["id"] == first["id"]]
    assert done["status"] == "sent" and done["attempts"] >= 2


def test_test_fire_delivers_now_and_names_each_refusal(ls: LocalSentry, hooks: Receiver) -> None:
    project = ls.create_project()
    slug = project["slug"]
    hook = webhook_to(ls, slug, hooks.url("/test"))
    fire = f"/api/0/organizations/{ls.org}/test-fire-actions/"
    resp = ls.api("POST", fire, json={"actions": [hook, EMAIL]})
    assert resp.status_code == 200, resp.text
    assert hooks.wait(1, path="/test")[0]["json"]["message"] == "This is an example Python exception"
    webhook_to(ls, slug, f"http://127.0.0.1:{free_port()}/nobody")
    resp = ls.api("POST", fire, json={"actions": [hook, {"type": "email", "config": {"targetType": "user",
                                                                                      "targetIdentifier": "99"}}]})
    assert resp.status_code == 400
    errors = resp.json()["actions"]
    assert any("connection refused" in e for e in errors) and any("user 99 is not a member" in e for e in errors)
