"""Pure conversion and check() of the Sentry resources (no server)."""

from __future__ import annotations

from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.rpc import UNKNOWN

from infra.sentry import alert_model, client_key_model, metric_monitor_model, project_model
from infra.sentry.alert import AlertProvider
from infra.sentry.base import SentryProvider
from infra.sentry.client_key import ClientKeyProvider
from infra.sentry.inbound_filter import InboundFilterProvider
from infra.sentry.issue_alert import IssueAlertProvider
from infra.sentry.legacy_model import LegacyConversionError, issue_rule_from_workflow, metric_alert_from_monitor
from infra.sentry.metric_alert import MetricAlertProvider
from infra.sentry.metric_monitor import MetricMonitorProvider
from infra.sentry.project import ProjectProvider
from infra.sentry.shape import changes, parse, props_of


def reasons(provider: SentryProvider, props: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for failure in provider.check({}, props).failures:
        out.setdefault(failure.property, []).append(failure.reason)
    return out


# ---------------------------------------------------------------- Project

def test_project_check_failures_name_field_and_allowed_values() -> None:
    """The Project's inputs are checked by their declared types, with the settings model's messages."""
    got = reasons(ProjectProvider(), {"slug": "Bad Slug", "teams": [], "platform": "cobol", "resolveAge": -1,
                                      "defaultKey": "burn", "allowedDomains": []})
    assert "lowercase letters, digits" in got["slug"][0]
    assert got["teams"] == ["teams: must not be empty"]
    assert "platform: unknown Sentry platform id" in got["platform"][0]
    assert got["resolveAge"] == ["resolveAge: must be a whole number from 0 to 8760"]  # the settings' range
    assert got["defaultKey"] == ["defaultKey: unknown value; allowed: keep, deactivate, delete"]
    assert got["allowedDomains"] == ["allowedDomains: must not be empty"]
    digests = reasons(ProjectProvider(), {"slug": "web", "teams": ["t"], "digestsMinDelay": 900,
                                          "digestsMaxDelay": 600})
    assert "must not exceed digestsMaxDelay" in digests["digestsMinDelay"][0]


def test_project_check_tolerates_unknowns_and_strips_nones() -> None:
    result = ProjectProvider().check({}, {"slug": UNKNOWN, "teams": [UNKNOWN], "name": None, "platform": UNKNOWN})
    assert result.failures == []
    assert result.inputs == {"slug": UNKNOWN, "teams": [UNKNOWN], "platform": UNKNOWN}


def test_project_missing_required_fields() -> None:
    got = reasons(ProjectProvider(), {})
    assert got == {"slug": ["slug: required"], "teams": ["teams: required"]}


def test_project_diff_compares_declared_fields_only() -> None:
    olds = {"slug": "web", "teams": ["b", "a"], "name": "Web", "platform": "python", "resolveAge": 0,
            "allowedDomains": ["b.example", "a.example"], "projectId": "1", "adopted": False, "shared": True,
            "__provider": "old-blob"}
    news = {"slug": "web", "teams": ["a", "b"], "name": "Web", "allowedDomains": ["a.example", "b.example"],
            "shared": True, "__provider": "new-blob"}
    assert ProjectProvider().diff("o/1", olds, news).changes is False
    changed = ProjectProvider().diff("o/1", olds, {**news, "resolveAge": 24})
    assert changed.changes is True and changed.replaces == []
    unknown = ProjectProvider().diff("o/1", olds, {**news, "name": UNKNOWN})
    assert unknown.changes is True


def test_project_slug_change_renames_unless_adopted() -> None:
    olds = {"slug": "web", "teams": ["a"], "adopted": False, "shared": True}
    assert ProjectProvider().diff("o/1", olds, {"slug": "web2", "teams": ["a"], "shared": True}).replaces == []
    adopted = {**olds, "adopted": True}
    assert ProjectProvider().diff("o/1", adopted, {"slug": "web2", "teams": ["a"], "shared": True}).replaces == ["slug"]


def test_project_model_body_and_differences() -> None:
    inputs = parse(project_model.ProjectInputs, {"slug": "web", "teams": ["t"], "name": "Web", "platform": "python",
                                                 "resolveAge": 24, "shared": True})
    assert inputs.deletes_on_destroy is False  # shared projects survive a destroy by default
    live = {"slug": "web", "name": "Web", "platform": "python", "resolveAge": 0, "teams": [{"slug": "t"}]}
    assert inputs.to_body(live) == {"resolveAge": 24}
    assert inputs.differences(live) == {"resolveAge": (0, 24)}
    assert "resolveAge: Sentry has 0, this stack declares 24" in project_model.describe_differences(
        inputs.differences(live))
    # one default, the settings': Sentry's default alert is not kept unless a stack asks for it
    assert inputs.create_body() == {"name": "Web", "slug": "web", "default_rules": False, "platform": "python"}


# ---------------------------------------------------------------- ClientKey

def test_client_key_check_failures() -> None:
    got = reasons(ClientKeyProvider(), {"project": "web", "name": "x" * 65, "isActive": "yes",
                                        "rateLimit": {"count": 0, "window": 90000},
                                        "dynamicSdkLoaderOptions": {"hasMagic": True}})
    assert got["name"] == ["name: must be at most 64 characters long (a key name)"]
    assert got["isActive"] == ["isActive: must be a boolean: true or false"]
    assert got["rateLimit"] == ["rateLimit.count: must be a whole number >= 1",
                                "rateLimit.window: must be a whole number from 1 to 86400"]
    assert "dynamicSdkLoaderOptions" not in got  # an option this toolkit does not know is left alone


def test_client_key_put_always_carries_browser_sdk_version() -> None:
    inputs = parse(client_key_model.ClientKeyInputs, {"project": "web", "name": "dev-g1", "isActive": False})
    live = {"name": "dev-g1", "isActive": True, "browserSdkVersion": "8.x", "rateLimit": None}
    assert inputs.to_body(live) == {"isActive": False, "browserSdkVersion": "8.x"}
    assert inputs.to_body({**live, "isActive": False}) == {}


def test_client_key_ignored_rate_limit_is_reported_not_diffed() -> None:
    inputs = parse(client_key_model.ClientKeyInputs,
                   {"project": "web", "name": "k", "rateLimit": {"count": 10, "window": 60}})
    live = {"id": "p" * 32, "name": "k", "isActive": True, "rateLimit": None, "projectId": 3,
            "dsn": {"public": "http://p@h/3", "secret": "http://p:s@h/3"}, "public": "p" * 32, "secret": "s" * 32}
    outs = client_key_model.outputs_from_api(live, inputs, organization="o")
    assert outs["rateLimit"] == {"count": 10, "window": 60}
    assert outs["rateLimitApplied"] is False and "projects:rate-limits" in outs["rateLimitWarning"]
    assert outs["dsn"] == "http://p@h/3" and outs["projectId"] == "3"
    assert changes(client_key_model.ClientKeyInputs, outs,
                   {"project": "web", "name": "k", "rateLimit": {"count": 10, "window": 60}}) == ([], [])


def test_client_key_diff_replaces_on_project_change() -> None:
    olds = {"project": "web", "name": "k", "isActive": True, "adopt": False}
    assert ClientKeyProvider().diff("o/web/k", olds, {"project": "web", "name": "k"}).changes is False
    moved = ClientKeyProvider().diff("o/web/k", olds, {"project": "api", "name": "k"})
    assert moved.changes and moved.replaces == ["project"]
    assert ClientKeyProvider().diff("o/web/k", olds, {"project": "web", "name": "k", "isActive": False}).replaces == []


# ---------------------------------------------------------------- Alert

def test_alert_check_failures() -> None:
    got = reasons(AlertProvider(), {
        "name": "a", "projects": [], "frequency": 7, "owner": "bob",
        "triggers": {"logicType": "most", "conditions": [{"type": "first_seen"}]},
        "actionFilters": [{"logicType": "all", "conditions": [{"type": "level"}],
                           "actions": [{"type": "slack", "config": {"targetType": "channel"}}]}, {"actions": []}],
    })
    assert got["frequency"] == ["frequency: must be one of 0, 5, 10, 30, 60, 180, 720, 1440"]
    assert got["owner"] == ["owner: must be team:<id> or user:<id>"]
    assert "triggers.logicType: unknown value; allowed: any, any-short, all, none" in got["triggers"]
    assert any("triggers.conditions[0].type: unknown value; did you mean 'first_seen_event'?" in r
               for r in got["triggers"])
    assert any("actionFilters[0].actions[0].config.targetType: unknown value" in r for r in got["actionFilters"])
    assert "actionFilters[1].actions: must not be empty" in got["actionFilters"]
    fixed = reasons(AlertProvider(), {"name": "a", "projects": [], "actionFilters": [
        {"actions": [{"type": "slack", "config": {"targetType": "specific", "targetIdentifier": "#ops"}}]}]})
    assert fixed == {"actionFilters": ["actionFilters[0].actions[0]: a slack action needs an integrationId"]}
    assert reasons(AlertProvider(), {"name": "a", "projects": [], "actionFilters": []}) == {
        "": ["an alert needs at least one project or detector to watch"]}


def test_alert_normalisation_ignores_server_ids_and_order() -> None:
    declared = {"logicType": "any-short", "conditions": [
        {"type": "regression_event", "comparison": True, "conditionResult": True},
        {"type": "first_seen_event", "comparison": True, "conditionResult": True}]}
    live = {"id": "5", "organizationId": "1", "logicType": "any-short", "actions": [], "conditions": [
        {"id": "9", "type": "first_seen_event", "comparison": True, "conditionResult": True},
        {"id": "8", "type": "regression_event", "comparison": True, "conditionResult": True}]}
    assert alert_model.norm_triggers(declared) == alert_model.norm_triggers(live)
    action = {"type": "email", "integrationId": None, "data": {}, "config": {"targetType": "user",
                                                                              "targetIdentifier": 5}}
    server = {**action, "id": "3", "status": "active", "config": {"targetType": "user", "targetIdentifier": "5",
                                                                  "targetDisplay": None}}
    assert alert_model.norm_action(action) == alert_model.norm_action(server)


def test_alert_body_attaches_issue_streams_and_detectors() -> None:
    inputs = parse(alert_model.AlertInputs, {"name": "a", "projects": ["web"], "detectorIds": ["12"],
                                             "actionFilters": [{"conditions": [], "actions": [
                                                 {"type": "email", "config": {"targetType": "issue_owners"}}]}]})
    body = inputs.to_body({"web": "3"})
    assert body["detectorIds"] == [3, 12] and body["config"] == {"frequency": 30}
    assert body["actionFilters"][0]["actions"][0]["status"] == "active"
    outs = alert_model.outputs_from_api({"id": "1", "name": "a", "detectorIds": ["3"], "enabled": True,
                                         "config": {"frequency": 30}}, inputs, organization="o",
                                        issue_stream_ids={"web": "3"})
    assert outs["projects"] == ["web"] and outs["detectorIds"] == []  # the monitor was detached in Sentry


# ---------------------------------------------------------------- MetricMonitor

def test_metric_monitor_check_failures() -> None:
    got = reasons(MetricMonitorProvider(), {
        "project": "web", "name": "m", "aggregate": "count()", "timeWindow": 5, "dataset": "logs",
        "detectionType": "percent", "conditions": [{"type": "gte", "comparison": "x", "conditionResult": 80}],
    })
    assert got["timeWindow"] == ["timeWindow: must be one of Sentry's monitor windows, in seconds: 60, 300, 600, "
                                 "900, 1800, 3600, 7200, 14400, 86400"]
    assert got["dataset"][0].startswith("dataset: unknown value; allowed: events")
    assert "conditions[0].type: unknown value; did you mean 'gt'? allowed: anomaly_detection, gt, lte" in (
        got["conditions"])
    assert any("conditions[0].conditionResult: must be 75 (high priority), 50 (low) or 0 (resolved)" in r
               for r in got["conditions"])
    assert "conditions: required" in reasons(MetricMonitorProvider(), {"project": "w", "name": "m",
                                                                       "aggregate": "count()"})["conditions"]
    threshold = reasons(MetricMonitorProvider(), {"project": "web", "name": "m", "aggregate": "count()",
                                                  "conditions": [{"type": "gt", "comparison": {"x": 1}}]})
    assert threshold == {"conditions": ["conditions[0]: comparison must be a number (the threshold)"]}


def test_metric_monitor_reads_snuba_query() -> None:
    inputs = parse(metric_monitor_model.MetricMonitorInputs,
        {"project": "web", "name": "m", "aggregate": "count()", "timeWindow": 3600,
         "conditions": [{"type": "gt", "comparison": 100, "conditionResult": 75}], "environment": "prod"})
    assert inputs.to_body()["dataSources"][0]["queryType"] == 0
    live = {"id": "4", "projectId": "2", "name": "m", "enabled": True, "config": {"detectionType": "static"},
            "dataSources": [{"queryObj": {"snubaQuery": {"aggregate": "count()", "dataset": "events", "query": "",
                                                         "timeWindow": 1800, "environment": "prod"}}}],
            "conditionGroup": {"logicType": "any", "conditions": [
                {"id": "1", "type": "gt", "comparison": 100.0, "conditionResult": 75}]}}
    outs = metric_monitor_model.outputs_from_api(live, inputs, organization="o")
    assert outs["timeWindow"] == 1800 and outs["detectorId"] == "4"
    assert changes(metric_monitor_model.MetricMonitorInputs, outs, props_of(inputs)) == (["timeWindow"], [])


# ---------------------------------------------------------------- InboundFilter

def test_inbound_filter_check_failures() -> None:
    got = reasons(InboundFilterProvider(), {"project": "web", "filterId": "spam"})
    assert got["filterId"] == ["filterId: unknown value; allowed: browser-extensions, filtered-transaction, "
                               "legacy-browsers, localhost, web-crawlers"]
    got = reasons(InboundFilterProvider(), {"project": "web", "filterId": "legacy-browsers",
                                            "subfilters": ["netscape"]})
    assert got["subfilters"][0].startswith("subfilters[0]: unknown value; allowed: ie, edge")
    got = reasons(InboundFilterProvider(), {"project": "web", "filterId": "legacy-browsers", "active": True,
                                            "subfilters": ["ie"]})
    assert got == {"": ["legacy-browsers takes either subfilters (a list of browsers) or active (true: all legacy "
                        "browsers, false: none), not both"]}
    got = reasons(InboundFilterProvider(), {"project": "web", "filterId": "localhost", "subfilters": ["ie"]})
    assert got == {"": ["only legacy-browsers takes subfilters; localhost takes active: true|false"]}


# ---------------------------------------------------------------- legacy

def _configured(cls: type[SentryProvider], base_url: str) -> SentryProvider:
    provider = cls()
    provider.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": base_url, "sentry:organization": "acme", "sentry:token": "tok-unit-000"}, "sentry-stacks")))
    return provider


@pytest.mark.parametrize("cls", [IssueAlertProvider, MetricAlertProvider])
def test_legacy_alerts_refused_against_sentry_io(cls: type[SentryProvider]) -> None:
    props = {"project": "web", "name": "r", "actionMatch": "any", "actions": [{"id": "x"}], "aggregate": "count()",
             "timeWindow": 60, "thresholdType": 0,
             "triggers": [{"label": "critical", "alertThreshold": 1, "actions": [
                 {"type": "email", "targetType": "team", "targetIdentifier": "1"}]}]}
    refused = reasons(_configured(cls, "https://us.sentry.io"), props)
    assert "retired on sentry.io (it answers 410 Gone)" in refused["name"][0]
    assert reasons(_configured(cls, "https://sentry.example.com"), props) == {}


def test_legacy_conversions() -> None:
    rule = issue_rule_from_workflow(
        [{"type": "first_seen_event"}], "any-short",
        [{"type": "event_frequency_count", "comparison": {"value": 100, "interval": "1hr"}},
         {"type": "age_comparison", "comparison": {"time": "hour", "value": 1, "comparisonType": "older"}}], "all",
        [{"type": "email", "config": {"targetType": "issue_owners"}}], 0)
    assert rule["actionMatch"] == "any" and rule["frequency"] == 5 and rule["filterMatch"] == "all"
    assert rule["conditions"][1] == {"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
                                     "value": 100, "interval": "1h", "comparisonType": "count"}
    assert rule["filters"][0]["comparison_type"] == "older"
    fields = metric_alert_from_monitor(
        [{"type": "gt", "comparison": 10, "conditionResult": 75}, {"type": "lte", "comparison": 5,
                                                                  "conditionResult": 0}], 300,
        [{"type": "email", "config": {"targetType": "user", "targetIdentifier": 1}}])
    assert fields == {"timeWindow": 5, "thresholdType": 0, "resolveThreshold": 5, "triggers": [
        {"label": "critical", "alertThreshold": 10,
         "actions": [{"type": "email", "targetType": "user", "targetIdentifier": "1"}]}]}
    with pytest.raises(LegacyConversionError, match="time window 45s has no legacy equivalent"):
        metric_alert_from_monitor([], 45, [])



def test_legacy_issue_rules_reach_the_webhooks_plugin() -> None:
    """A webhook action (the WebHooks plugin) is the legacy rules' "Send a notification via webhooks"; an action
    with no legacy form is refused, naming what legacy mode supports."""
    rule = issue_rule_from_workflow(
        [{"type": "first_seen_event"}], "any-short", [], "all",
        [{"type": "email", "config": {"targetType": "issue_owners"}},
         {"type": "webhook", "config": {"targetType": "specific", "targetIdentifier": "webhooks"}}], 30)
    assert rule["actions"][1] == {"id": "sentry.rules.actions.notify_event_service.NotifyEventServiceAction",
                                  "service": "webhooks"}
    with pytest.raises(LegacyConversionError, match=r"'slack' .* legacy mode supports email .* and webhook actions"):
        issue_rule_from_workflow([{"type": "first_seen_event"}], "any-short", [], "all",
                                 [{"type": "slack", "config": {"targetType": "specific"}}], 30)


# ---------------------------------------------------------------- pickling

@pytest.mark.parametrize("cls", [ProjectProvider, ClientKeyProvider, AlertProvider, MetricMonitorProvider,
                                 InboundFilterProvider, IssueAlertProvider, MetricAlertProvider])
def test_providers_pickle_by_reference_without_secrets(cls: type[SentryProvider]) -> None:
    token = "tok-pickle-" + "9" * 20
    provider = cls()
    blob_before = serialize_provider(provider)
    provider.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": "https://sentry.example.com", "sentry:organization": "acme", "sentry:token": token},
        "sentry-stacks")))
    blob = serialize_provider(provider)
    assert blob == blob_before  # configure() state never reaches the pickle
    raw = __import__("base64").b64decode(blob)
    assert token.encode() not in raw and len(raw) < 200
    assert cls.__module__.encode() in raw
    assert type(dill.loads(raw)) is cls
