"""Alert (workflow) and MetricMonitor (detector) lifecycles against a real localsentry process."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider

from infra.sentry.alert import AlertProvider
from infra.sentry.errors import SentryStateError
from infra.sentry.metric_monitor import MetricMonitorProvider
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry

EMAIL = {"type": "email", "config": {"targetType": "issue_owners"}, "data": {"fallthroughType": "ActiveMembers"}}


def provider(cls: type[Any], ls: LocalSentry) -> Any:
    p = cls()
    p.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}, "sentry-stacks")))
    return p


def create(p: ResourceProvider, **props: Any) -> tuple[Any, dict[str, Any]]:
    checked = p.check({}, props)
    assert checked.failures == []
    return p.create(checked.inputs), checked.inputs


def workflow(ls: LocalSentry, result: Any) -> Any:
    return ls.api("GET", f"/api/0/organizations/{ls.org}/workflows/{result.id.split('/')[1]}/")


def detector(ls: LocalSentry, result: Any) -> Any:
    return ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/{result.id.split('/')[1]}/")


def issue_stream_id(ls: LocalSentry, project: dict[str, Any]) -> str:
    found = ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/",
                   params={"project": project["id"], "query": "type:issue_stream"}).json()
    return str(next(d["id"] for d in found if d["type"] == "issue_stream"))


def monitor_props(project: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"project": project, "name": name, "aggregate": "count()", "dataset": "events", "query": "is:unresolved",
            "timeWindow": 3600, "environment": "production",
            "conditions": [{"type": "gt", "comparison": 100, "conditionResult": 75},
                           {"type": "lte", "comparison": 100, "conditionResult": 0}], **extra}


def alert_props(name: str, projects: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "projects": projects,
            "triggers": {"logicType": "any-short", "conditions": [
                {"type": "first_seen_event", "comparison": True, "conditionResult": True},
                {"type": "regression_event", "comparison": True, "conditionResult": True}]},
            "actionFilters": [{"logicType": "all", "conditions": [
                {"type": "level", "comparison": {"level": 40, "match": "gte"}, "conditionResult": True}],
                "actions": [EMAIL]}],
            "frequency": 30, "environment": "production", **extra}


def test_alert_lifecycle_attached_to_issue_streams_and_monitors(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    alerts, monitors = provider(AlertProvider, ls), provider(MetricMonitorProvider, ls)
    web, api = ls.create_project(name=unique("web")), ls.create_project(name=unique("api"))
    monitor, _ = create(monitors, **monitor_props(web["slug"], unique("monitor")))
    name = unique("[shop/dev] new issues")
    result, inputs = create(alerts, **alert_props(name, [web["slug"]], detectorIds=[monitor.outs["detectorId"]]))
    body = workflow(ls, result).json()
    assert sorted(body["detectorIds"]) == sorted([issue_stream_id(ls, web), monitor.outs["detectorId"]])
    assert body["name"] == name and body["environment"] == "production" and body["config"]["frequency"] == 30
    read = alerts.read(result.id, result.outs)
    assert alerts.diff(result.id, read.outs, inputs).changes is False  # server ids and order are normalised
    outs = read.outs
    changes: list[dict[str, Any]] = [
        {"name": name + " (renamed)"}, {"projects": [web["slug"], api["slug"]]}, {"detectorIds": []},
        {"frequency": 60}, {"environment": "staging"}, {"enabled": False},
        {"triggers": {"logicType": "any-short", "conditions": [
            {"type": "reappeared_event", "comparison": True, "conditionResult": True}]}},
        {"actionFilters": [{"logicType": "any", "conditions": [], "actions": [EMAIL]}]},
    ]
    for change in changes:
        news = {**inputs, **change}
        assert alerts.diff(result.id, outs, news).changes is True, change
        outs = alerts.update(result.id, outs, news).outs
        inputs = news
        assert alerts.diff(result.id, outs, inputs).changes is False, change
    body = workflow(ls, result).json()
    assert sorted(body["detectorIds"]) == sorted([issue_stream_id(ls, web), issue_stream_id(ls, api)])
    assert (body["enabled"], body["environment"], body["config"]["frequency"]) == (False, "staging", 60)
    assert [c["type"] for c in body["triggers"]["conditions"]] == ["reappeared_event"]
    alerts.delete(result.id, outs)
    assert workflow(ls, result).status_code == 404
    alerts.delete(result.id, outs)
    assert alerts.read(result.id, outs).id == ""
    monitors.delete(monitor.id, monitor.outs)


def test_alert_renamed_behind_the_stacks_back_shows_on_refresh(localsentry_session: LocalSentry) -> None:
    ls, alerts = localsentry_session, provider(AlertProvider, localsentry_session)
    web = ls.create_project(name=unique("web"))
    name = unique("alert")
    result, inputs = create(alerts, **alert_props(name, [web["slug"]]))
    wid = result.id.split("/")[1]
    current = workflow(ls, result).json()
    assert ls.api("PUT", f"/api/0/organizations/{ls.org}/workflows/{wid}/",
                  json={**current, "name": "renamed by hand"}).status_code == 200
    read = alerts.read(result.id, result.outs)
    assert read.inputs["name"] == "renamed by hand"
    assert {k: v for k, v in read.inputs.items() if k != "name"} == {
        k: v for k, v in result.outs.items() if k in read.inputs and k != "name"}  # only the name drifted
    assert alerts.diff(result.id, read.outs, inputs).changes is True
    outs = alerts.update(result.id, read.outs, inputs).outs
    assert outs["name"] == name and workflow(ls, result).json()["name"] == name
    alerts.delete(result.id, outs)


def test_alert_adopt_only_when_told(localsentry_session: LocalSentry) -> None:
    ls, alerts = localsentry_session, provider(AlertProvider, localsentry_session)
    web = ls.create_project(name=unique("web"))
    name = unique("alert")
    made = ls.api("POST", f"/api/0/organizations/{ls.org}/workflows/", json={"name": name}).json()
    with pytest.raises(SentryStateError, match=r"alert '.*' in organization .* already exists .* adoptExisting"):
        create(alerts, **alert_props(name, [web["slug"]]))
    result, _ = create(alerts, **alert_props(name, [web["slug"]], adopt=True))
    assert result.id.endswith("/" + str(made["id"]))
    assert workflow(ls, result).json()["detectorIds"] == [issue_stream_id(ls, web)]
    alerts.delete(result.id, result.outs)


def test_monitor_lifecycle(localsentry_session: LocalSentry) -> None:
    ls, monitors = localsentry_session, provider(MetricMonitorProvider, localsentry_session)
    web, other = ls.create_project(name=unique("web")), ls.create_project(name=unique("web"))
    name = unique("errors")
    result, inputs = create(monitors, **monitor_props(web["slug"], name))
    body = detector(ls, result).json()
    snuba = body["dataSources"][0]["queryObj"]["snubaQuery"]
    assert body["type"] == "metric_issue" and str(body["projectId"]) == str(web["id"])
    assert (snuba["timeWindow"], snuba["aggregate"], snuba["environment"]) == (3600, "count()", "production")
    read = monitors.read(result.id, result.outs)
    assert monitors.diff(result.id, read.outs, inputs).changes is False
    outs = read.outs
    changes: list[dict[str, Any]] = [
        {"name": name + "-2"}, {"aggregate": "count_unique(user)"}, {"query": ""}, {"timeWindow": 900},
        {"environment": "staging"}, {"enabled": False}, {"owner": None}, {"description": "errors per hour"},
        {"conditions": [{"type": "gt", "comparison": 50, "conditionResult": 75},
                        {"type": "gt", "comparison": 20, "conditionResult": 50},
                        {"type": "lte", "comparison": 20, "conditionResult": 0}]},
        {"detectionType": "percent", "comparisonDelta": 3600},
    ]
    for change in changes:
        news = {k: v for k, v in {**inputs, **change}.items() if v is not None}
        diff = monitors.diff(result.id, outs, news)
        if change == {"owner": None}:
            assert diff.changes is False
            continue
        assert diff.changes is True and diff.replaces == [], change
        outs = monitors.update(result.id, outs, news).outs
        inputs = news
        assert monitors.diff(result.id, outs, inputs).changes is False, change
    body = detector(ls, result).json()
    snuba = body["dataSources"][0]["queryObj"]["snubaQuery"]
    assert (snuba["timeWindow"], snuba["aggregate"], snuba["environment"]) == (900, "count_unique(user)", "staging")
    assert body["config"] == {"detectionType": "percent", "comparisonDelta": 3600} and body["enabled"] is False
    assert len(body["conditionGroup"]["conditions"]) == 3
    assert monitors.diff(result.id, outs, {**inputs, "project": other["slug"]}).replaces == ["project"]
    # changed behind our back
    assert ls.api("PUT", f"/api/0/organizations/{ls.org}/detectors/{result.id.split('/')[1]}/",
                  json={"name": "by hand", "type": "metric_issue"}).status_code == 200
    read = monitors.read(result.id, outs)
    assert read.inputs["name"] == "by hand" and read.inputs["timeWindow"] == 900
    assert monitors.diff(result.id, read.outs, inputs).changes is True
    monitors.delete(result.id, outs)
    assert detector(ls, result).status_code == 404
    monitors.delete(result.id, outs)
    assert monitors.read(result.id, outs).id == ""


def test_monitor_adopt_only_when_told(localsentry_session: LocalSentry) -> None:
    ls, monitors = localsentry_session, provider(MetricMonitorProvider, localsentry_session)
    web = ls.create_project(name=unique("web"))
    name = unique("errors")
    first, _ = create(monitors, **monitor_props(web["slug"], name))
    with pytest.raises(SentryStateError, match=r"monitor '.*' of project .* already exists .* adoptExisting"):
        create(monitors, **monitor_props(web["slug"], name))
    second, _ = create(monitors, **monitor_props(web["slug"], name, adopt=True, timeWindow=300))
    assert second.id == first.id and detector(ls, first).json()["dataSources"][0]["queryObj"]["snubaQuery"][
        "timeWindow"] == 300
    monitors.delete(second.id, second.outs)


@pytest.mark.parametrize(("dataset", "query_type", "aggregate"), [("events", 0, "count()"),
                                                                  ("transactions", 1, "p95(transaction.duration)")])
def test_monitor_declaring_query_type_has_no_drift(localsentry_session: LocalSentry, dataset: str, query_type: int,
                                                   aggregate: str) -> None:
    """Sentry's detector snubaQuery carries no queryType: a declared one is compared as derived from the dataset."""
    ls, p = localsentry_session, provider(MetricMonitorProvider, localsentry_session)
    project = ls.create_project(name=unique("web"), platform="python")["slug"]
    props = monitor_props(project, unique("mon"), dataset=dataset, queryType=query_type, aggregate=aggregate)
    props.pop("query")
    result, inputs = create(p, **props)
    snuba = detector(ls, result).json()["dataSources"][0]["queryObj"]["snubaQuery"]
    assert "queryType" not in snuba  # the shape Sentry answers with
    assert result.outs["queryType"] == query_type
    read = p.read(result.id, result.outs)
    assert read.outs["queryType"] == query_type and read.inputs["queryType"] == query_type
    assert p.diff(result.id, read.outs, inputs).changes is False
    assert p.diff(result.id, read.outs, {**inputs, "name": "other"}).changes is True
    p.delete(result.id, read.outs)


def test_monitor_query_type_must_match_the_dataset() -> None:
    failures = MetricMonitorProvider().check({}, monitor_props("web", "m", queryType=1)).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("queryType", "queryType 1 does not match dataset 'events' (Sentry refuses it); allowed for events: 0, "
                      "or leave queryType out")]


WEBHOOK = {"type": "webhook", "config": {"targetType": "specific", "targetIdentifier": "webhooks"}, "data": {}}


def plugin_urls(ls: LocalSentry, slug: str) -> tuple[bool, list[str]]:
    body = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/plugins/webhooks/").json()
    value = next(f["value"] for f in body["config"] if f["name"] == "urls")
    return bool(body["enabled"]), sorted((value or "").splitlines())


def test_a_webhook_alert_sets_its_urls_on_each_projects_webhooks_plugin(localsentry_session: LocalSentry) -> None:
    ls, alerts = localsentry_session, provider(AlertProvider, localsentry_session)
    web, api = ls.create_project(name=unique("web")), ls.create_project(name=unique("api"))
    ours, theirs = "http://127.0.0.1:9/ours", "http://127.0.0.1:9/theirs"
    ls.api("PUT", f"/api/0/projects/{ls.org}/{web['slug']}/plugins/webhooks/", json={"urls": theirs})
    props = alert_props(unique("hooks"), [web["slug"]], webhookUrls=[ours])
    props["actionFilters"][0]["actions"] = [EMAIL, WEBHOOK]
    result, inputs = create(alerts, **props)
    assert plugin_urls(ls, web["slug"]) == (True, sorted([ours, theirs]))  # another alert's URL stays
    [group] = workflow(ls, result).json()["actionFilters"]
    assert {a["type"] for a in group["actions"]} == {"email", "webhook"}
    assert alerts.diff(result.id, alerts.read(result.id, result.outs).outs, inputs).changes is False
    news = {**inputs, "projects": [api["slug"]], "webhookUrls": [ours + "2"]}
    assert alerts.diff(result.id, result.outs, news).changes is True
    outs = alerts.update(result.id, result.outs, news).outs
    assert plugin_urls(ls, web["slug"]) == (True, [theirs]) and plugin_urls(ls, api["slug"]) == (True, [ours + "2"])
    alerts.delete(result.id, outs)
    assert plugin_urls(ls, api["slug"]) == (True, [])
