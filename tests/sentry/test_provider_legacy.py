"""Legacy IssueAlert / MetricAlert providers against localsentry in its legacy-alert modes."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.sentry.errors import SentryStateError
from infra.sentry.issue_alert import IssueAlertProvider
from infra.sentry.metric_alert import MetricAlertProvider
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry

EMAIL_OWNERS = {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
                "fallthroughType": "ActiveMembers"}
FIRST_SEEN = {"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}
REGRESSION = {"id": "sentry.rules.conditions.regression_event.RegressionEventCondition"}
LEVEL = {"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "40"}


def provider(cls: type[Any], ls: LocalSentry) -> Any:
    p = cls()
    p.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}, "sentry-stacks")))
    return p


def create(p: Any, **props: Any) -> tuple[Any, dict[str, Any]]:
    checked = p.check({}, props)
    assert checked.failures == [], [f.reason for f in checked.failures]
    return p.create(checked.inputs), checked.inputs


@pytest.fixture
def legacy(localsentry: LocalSentry) -> LocalSentry:
    localsentry.set_legacy_alerts("works")
    localsentry.set_features(None, {"incidents": True})
    return localsentry


def test_issue_alert_lifecycle(legacy: LocalSentry) -> None:
    ls, p = legacy, provider(IssueAlertProvider, legacy)
    project = ls.create_project(name=unique("web"))["slug"]
    result, inputs = create(p, project=project, name="[shop/dev] new issues", actionMatch="any",
                            conditions=[FIRST_SEEN, REGRESSION], actions=[EMAIL_OWNERS], frequency=30)
    rid = result.id.split("/")[-1]
    body = ls.api("GET", f"/api/0/projects/{ls.org}/{project}/rules/{rid}/").json()
    assert body["name"] == "[shop/dev] new issues" and len(body["conditions"]) == 2
    read = p.read(result.id, result.outs)
    assert p.diff(result.id, read.outs, inputs).changes is False  # labels and uuids are normalised away
    outs = read.outs
    for change in ({"frequency": 60}, {"actionMatch": "all"}, {"conditions": [FIRST_SEEN]},
                   {"filters": [LEVEL], "filterMatch": "all"}, {"name": "[shop/dev] renamed"}):
        news = {**inputs, **change}
        assert p.diff(result.id, outs, news).changes is True, change
        outs = p.update(result.id, outs, news).outs
        inputs = news
        assert p.diff(result.id, outs, inputs).changes is False, change
    body = ls.api("GET", f"/api/0/projects/{ls.org}/{project}/rules/{rid}/").json()
    assert (body["frequency"], body["actionMatch"], body["name"]) == (60, "all", "[shop/dev] renamed")
    p.delete(result.id, outs)
    assert ls.api("GET", f"/api/0/projects/{ls.org}/{project}/rules/{rid}/").status_code == 404
    p.delete(result.id, outs)
    assert p.read(result.id, outs).id == ""


def test_issue_alert_with_the_webhooks_plugin_reads_back_without_drift(legacy: LocalSentry) -> None:
    ls, p = legacy, provider(IssueAlertProvider, legacy)
    project = ls.create_project(name=unique("web"))["slug"]
    webhooks = {"id": "sentry.rules.actions.notify_event_service.NotifyEventServiceAction", "service": "webhooks"}
    result, inputs = create(p, project=project, name="[shop/dev] hooks", actionMatch="any",
                            conditions=[FIRST_SEEN], actions=[EMAIL_OWNERS, webhooks], frequency=30)
    rid = result.id.split("/")[-1]
    body = ls.api("GET", f"/api/0/projects/{ls.org}/{project}/rules/{rid}/").json()
    assert [a["id"] for a in body["actions"]] == [EMAIL_OWNERS["id"], webhooks["id"]]
    read = p.read(result.id, result.outs)
    assert p.diff(result.id, read.outs, inputs).changes is False
    p.delete(result.id, read.outs)


def test_metric_alert_lifecycle(legacy: LocalSentry) -> None:
    ls, p = legacy, provider(MetricAlertProvider, legacy)
    project = ls.create_project(name=unique("web"))["slug"]
    action = {"type": "email", "targetType": "team", "targetIdentifier": str(
        ls.api("GET", f"/api/0/teams/{ls.org}/{ls.team}/").json()["id"])}
    triggers = [{"label": "critical", "alertThreshold": 100, "actions": [action]}]
    result, inputs = create(p, project=project, name="errors", aggregate="count()", timeWindow=60, query="",
                            thresholdType=0, triggers=triggers, resolveThreshold=10)
    rid = result.id.split("/")[-1]
    read = p.read(result.id, result.outs)
    assert p.diff(result.id, read.outs, inputs).changes is False
    outs = read.outs
    warning = {"label": "warning", "alertThreshold": 50, "actions": [action]}
    for change in ({"timeWindow": 240}, {"triggers": [*triggers, warning]}, {"resolveThreshold": 5},
                   {"aggregate": "count_unique(user)"}):
        news = {**inputs, **change}
        assert p.diff(result.id, outs, news).changes is True, change
        outs = p.update(result.id, outs, news).outs
        inputs = news
        assert p.diff(result.id, outs, inputs).changes is False, change
    body = ls.api("GET", f"/api/0/organizations/{ls.org}/alert-rules/{rid}/").json()
    assert body["timeWindow"] == 240 and len(body["triggers"]) == 2
    p.delete(result.id, outs)
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/alert-rules/{rid}/").status_code == 404
    p.delete(result.id, outs)


def test_retired_legacy_api_gives_advice(localsentry: LocalSentry) -> None:
    ls, p = localsentry, provider(IssueAlertProvider, localsentry)
    project = ls.create_project(name=unique("web"))["slug"]
    for mode in ("gone", "brownout"):
        ls.set_legacy_alerts(mode)
        with pytest.raises(SentryStateError, match=r"HTTP 410 Gone: This API no longer exists\..*turn legacyAlerts "
                                                    r"off to use Alert \(workflows\)"):
            create(p, project=project, name="r", actionMatch="any", conditions=[FIRST_SEEN], actions=[EMAIL_OWNERS],
                   frequency=30)


def test_legacy_check_failures(localsentry_session: LocalSentry) -> None:
    issue = {f.property: f.reason for f in provider(IssueAlertProvider, localsentry_session).check(
        {}, {"project": "web", "name": "r", "actionMatch": "some", "frequency": 1, "filters": [LEVEL],
             "conditions": [{"name": "no id"}]}).failures}
    assert issue == {  # every problem at once, with the messages of the field types
        "actionMatch": "actionMatch: must be one of 'all', 'any' or 'none'",
        "frequency": "frequency: must be a whole number from 5 to 43200",
        "conditions": 'conditions: must be a list of nodes, each {"id": "<sentry class path>", ...}',
        "actions": "actions: required",
    }
    filters = {f.property: f.reason for f in provider(IssueAlertProvider, localsentry_session).check(
        {}, {"project": "web", "name": "r", "actionMatch": "all", "filters": [LEVEL], "actions": [EMAIL_OWNERS]}
    ).failures}
    assert filters == {"filterMatch": "filterMatch is required when filters are given; allowed values: all, any, none"}
    metric = [f.reason for f in provider(MetricAlertProvider, localsentry_session).check(
        {}, {"project": "web", "name": "m", "aggregate": "count()", "timeWindow": 3600, "thresholdType": 0,
             "triggers": [{"label": "warning", "alertThreshold": 1, "actions": []}]}).failures]
    assert metric == [
        "timeWindow: must be one of 1, 5, 10, 15, 30, 60, 120, 240, 1440",
        "triggers: triggers[0].label must be 'critical' (allowed order: critical, warning)",
    ]  # `actions: []` is a shape Sentry returns (its own example): accepted
