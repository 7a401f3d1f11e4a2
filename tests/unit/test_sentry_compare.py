"""The general rule of infra/sentry/compare.py: a live object is compared in the shape of its declaration."""

from __future__ import annotations

from typing import Any

from infra.sentry import alert_model
from infra.sentry.compare import as_declared, as_float, as_int
from infra.sentry.issue_alert import IssueAlertInputs
from infra.sentry.issue_alert import outputs_from_api as issue_outputs
from infra.sentry.metric_alert import MetricAlertInputs, MetricAlertProvider
from infra.sentry.metric_alert import outputs_from_api as metric_outputs
from infra.sentry.shape import changes, parse


def test_keys_nobody_declared_are_dropped_declared_ones_kept() -> None:
    live = {"type": "slack", "targetIdentifier": "#alerts", "inputChannelId": "C0XXX", "desc": "Send ..."}
    assert as_declared(live, {"type": "slack", "targetIdentifier": "#alerts"}) == {
        "type": "slack", "targetIdentifier": "#alerts"}
    # a declared key keeps its live value (so a real difference stays visible) ...
    assert as_declared({**live, "targetIdentifier": "#other"}, {"targetIdentifier": "#alerts"}) == {
        "targetIdentifier": "#other"}
    # ... and a declared key Sentry left out stays out: the caller sees the difference
    assert as_declared({"type": "slack"}, {"type": "slack", "targetIdentifier": "#alerts"}) == {"type": "slack"}


def test_list_items_match_their_declaration_else_the_union_of_declared_keys() -> None:
    declared = [{"type": "email", "targetIdentifier": "1"}, {"type": "slack", "inputChannelId": "C1"}]
    live = [{"type": "slack", "inputChannelId": "C1", "id": "9"}, {"type": "email", "targetIdentifier": "1", "id": "8"},
            {"type": "pagerduty", "targetIdentifier": "svc", "inputChannelId": None, "id": "7", "extra": 1}]
    assert as_declared(live, declared) == [
        {"type": "slack", "inputChannelId": "C1"}, {"type": "email", "targetIdentifier": "1"},
        {"type": "pagerduty", "targetIdentifier": "svc", "inputChannelId": None},  # a real change, still shown
    ]
    # the same declared item is matched once: a second identical live item is an addition
    assert as_declared([{"a": 1, "b": 2}, {"a": 1, "b": 3}], [{"a": 1}]) == [{"a": 1}, {"a": 1}]
    # nested mappings are projected too; an empty declared list keeps the live items (all of them are changes)
    assert as_declared({"config": {"x": 1, "y": 2}}, {"config": {"x": 1}}) == {"config": {"x": 1}}
    assert as_declared([{"a": 1}], []) == [{"a": 1}]
    assert as_declared(["b", "a"], ["a"]) == ["b", "a"] and as_declared(5, {"a": 1}) == 5


def test_numbers_as_sentry_means_them_and_anything_else_kept() -> None:
    assert [as_int(v) for v in (3, 3.0, "3", "-2", 2.5, "x", None, True)] == [3, 3, 3, -2, 2.5, "x", None, True]
    assert [as_float(v) for v in (3, 2.5, "3", None, False)] == [3.0, 2.5, "3", None, False]


SLACK_RULE = {
    "id": "12345", "name": "p50", "aggregate": "p50(transaction.duration)", "timeWindow": 10, "thresholdType": 0,
    "resolveThreshold": 0, "dataset": "transactions", "projects": ["web"],
    "triggers": [{"id": "56789", "alertRuleId": "12345", "label": "critical", "alertThreshold": 10000,
                  "resolveThreshold": 0, "thresholdType": 0, "dateCreated": "2022-04-15T15:06:01Z",
                  "actions": [{"id": "12389", "alertRuleTriggerId": "56789", "type": "slack", "targetType": "specific",
                               "targetIdentifier": "#alert-rule-alerts", "inputChannelId": "C0XXXFKLXXX",
                               "integrationId": 111, "sentryAppId": None, "desc": "Send a Slack notification"}]}],
}


def test_legacy_metric_alert_slack_channel_id_resolved_by_sentry_never_drifts() -> None:
    declared: dict[str, Any] = {
        "project": "web", "name": "p50", "aggregate": "p50(transaction.duration)", "timeWindow": 10,
        "thresholdType": 0, "resolveThreshold": 0, "dataset": "transactions",
        "triggers": [{"label": "critical", "alertThreshold": 10000, "actions": [
            {"type": "slack", "targetType": "specific", "targetIdentifier": "#alert-rule-alerts",
             "integrationId": 111}]}],
    }
    outs = metric_outputs(SLACK_RULE, parse(MetricAlertInputs, declared), organization="acme")
    assert "inputChannelId" not in str(outs["triggers"])
    assert MetricAlertProvider().diff("acme/12345", outs, declared).changes is False
    # declaring the channel id compares it (and a wrong one is a change)
    with_id = {**declared, "triggers": [{**declared["triggers"][0], "actions": [
        {**declared["triggers"][0]["actions"][0], "inputChannelId": "C0XXXFKLXXX"}]}]}
    outs = metric_outputs(SLACK_RULE, parse(MetricAlertInputs, with_id), organization="acme")
    assert MetricAlertProvider().diff("acme/12345", outs, with_id).changes is False
    wrong = {**with_id, "triggers": [{**with_id["triggers"][0], "actions": [
        {**with_id["triggers"][0]["actions"][0], "inputChannelId": "C0OTHER"}]}]}
    outs = metric_outputs(SLACK_RULE, parse(MetricAlertInputs, wrong), organization="acme")
    assert MetricAlertProvider().diff("acme/12345", outs, wrong).changes is True


def test_issue_rule_nodes_without_sentrys_labels_and_empty_targets() -> None:
    rule = {"id": "7", "name": "r", "actionMatch": "any", "frequency": 30,
            "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition",
                            "name": "A new issue is created"}],
            "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
                         "targetIdentifier": "", "fallthroughType": "ActiveMembers", "uuid": "abc",
                         "name": "Send a notification to IssueOwners"}]}
    declared = {"project": "web", "name": "r", "actionMatch": "any",
                "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
                "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
                             "fallthroughType": "ActiveMembers"}]}
    inputs = parse(IssueAlertInputs, declared)
    outs = issue_outputs(rule, inputs, organization="acme")
    body = inputs.to_body()
    assert outs["actions"] == body["actions"] and outs["conditions"] == body["conditions"]


def test_workflow_actions_filled_in_by_sentry_never_drift() -> None:
    action = {"type": "slack", "integrationId": "1", "data": {}, "config": {"targetType": "specific",
                                                                            "targetIdentifier": "C123"}}
    declared = {"name": "a", "projects": [], "detectorIds": ["5"],
                "actionFilters": [{"logicType": "all", "conditions": [], "actions": [action]}]}
    live = {"id": "9", "name": "a", "detectorIds": [5], "config": {"frequency": 30}, "enabled": True,
            "triggers": {"id": "1", "logicType": "any-short", "conditions": [], "actions": []},
            "actionFilters": [{"id": "2", "organizationId": "1", "logicType": "all", "conditions": [], "actions": [
                {**action, "id": "3", "status": "active", "integrationId": 1,
                 "data": {"tags": "", "notes": ""}, "config": {**action["config"], "targetDisplay": "#alerts"}}]}]}
    outs = alert_model.outputs_from_api(live, parse(alert_model.AlertInputs, declared), organization="acme",
                                        issue_stream_ids={})
    assert changes(alert_model.AlertInputs, outs, declared) == ([], [])
    changed = {**declared, "actionFilters": [{**declared["actionFilters"][0], "actions": [
        {**action, "config": {**action["config"], "targetIdentifier": "C999"}}]}]}
    assert changes(alert_model.AlertInputs, outs, changed) == (["actionFilters"], [])
