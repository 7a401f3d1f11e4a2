"""Issue-alert rule nodes (conditions, filters, actions): the catalogue, validation and rendered labels."""

from __future__ import annotations

import uuid
from typing import Any

from localsentry.db import Database, dumps, now_iso

C = "sentry.rules.conditions."
F = "sentry.rules.filters."
I = "sentry.integrations."  # noqa: E741
CONDITIONS = {
    C + "first_seen_event.FirstSeenEventCondition": "A new issue is created",
    C + "regression_event.RegressionEventCondition": "The issue changes state from resolved to unresolved",
    C + "reappeared_event.ReappearedEventCondition": "The issue changes state from ignored to unresolved",
    C + "high_priority_issue.NewHighPriorityIssueCondition": "Sentry marks a new issue as high priority",
    C + "high_priority_issue.ExistingHighPriorityIssueCondition": "Sentry marks an existing issue as high priority",
    C + "event_frequency.EventFrequencyCondition": "The issue is seen more than {value} times in {interval}",
    C + "event_frequency.EventUniqueUserFrequencyCondition":
        "The issue is seen by more than {value} users in {interval}",
    C + "event_frequency.EventFrequencyPercentCondition":
        "The issue affects more than {value} percent of sessions in {interval}",
}  # fmt: skip
OUTDATED_CONDITIONS = {
    C + "event_attribute.EventAttributeCondition", C + "tagged_event.TaggedEventCondition", C + "level.LevelCondition",
}  # fmt: skip
FILTERS = {
    F + "age_comparison.AgeComparisonFilter": "The issue is {comparison_type} than {value} {time}",
    F + "issue_occurrences.IssueOccurrencesFilter": "The issue has happened at least {value} times",
    F + "assigned_to.AssignedToFilter": "The issue is assigned to {targetType}",
    F + "latest_release.LatestReleaseFilter": "The event is from the latest release",
    F + "latest_adopted_release_filter.LatestAdoptedReleaseFilter":
        "The {oldest_or_newest} adopted release associated with the event's issue is {older_or_newer} than the "
        "latest adopted release in {environment}",
    F + "issue_category.IssueCategoryFilter": "The issue's category is equal to {value}",
    F + "event_attribute.EventAttributeFilter": "The event's {attribute} value {match} {value}",
    F + "tagged_event.TaggedEventFilter": "The event's tags match {key} {match} {value}",
    F + "level.LevelFilter": "The event's level is {match} {level}",
    F + "issue_type.IssueTypeFilter": "The issue's type is {value}",
}  # fmt: skip
ACTIONS = {
    "sentry.mail.actions.NotifyEmailAction":
        "Send a notification to {targetType} and if none can be found then send a notification to {fallthroughType}",
    "sentry.rules.actions.notify_event.NotifyEventAction": "Send a notification (for all legacy integrations)",
    "sentry.rules.actions.notify_event_service.NotifyEventServiceAction": "Send a notification via {service}",
    "sentry.rules.actions.notify_event_sentry_app.NotifyEventSentryAppAction": "Send a notification via a Sentry app",
    I + "slack.notify_action.SlackNotifyServiceAction":
        "Send a notification to the {workspace} Slack workspace to {channel}",
    I + "msteams.notify_action.MsTeamsNotifyServiceAction": "Send a notification to the {team} Team to {channel}",
    I + "discord.notify_action.DiscordNotifyServiceAction": "Send a notification to the {server} Discord server",
    I + "pagerduty.notify_action.PagerDutyNotifyServiceAction": "Send a notification to PagerDuty account {account}",
    I + "opsgenie.notify_action.OpsgenieNotifyTeamAction": "Send a notification to Opsgenie account {account}",
    I + "jira.notify_action.JiraCreateTicketAction": "Create a Jira issue",
    I + "jira_server.notify_action.JiraServerCreateTicketAction": "Create a Jira Server issue",
    I + "github.notify_action.GitHubCreateTicketAction": "Create a GitHub issue",
    I + "github_enterprise.notify_action.GitHubEnterpriseCreateTicketAction": "Create a GitHub Enterprise issue",
    I + "vsts.notify_action.AzureDevopsCreateTicketAction": "Create an Azure DevOps work item",
}  # fmt: skip
INTERVALS = ("1m", "5m", "15m", "1h", "1d", "1w", "30d")
PERCENT_INTERVALS = ("5m", "10m", "30m", "1h")
MATCHES = ("all", "any", "none")
SLACK = I + "slack.notify_action.SlackNotifyServiceAction"


def label(node: dict[str, Any], catalogue: dict[str, str]) -> str:
    template = catalogue.get(str(node.get("id")), str(node.get("id")))
    values = {k: v for k, v in node.items() if k != "id"}
    values.setdefault("fallthroughType", "ActiveMembers")
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def _node_error(node: Any, catalogue: dict[str, str], extra: set[str] = frozenset()) -> str | None:  # type: ignore[assignment]
    if not isinstance(node, dict):
        return f"Incorrect type. Expected a mapping, but got {type(node).__name__}"
    node_id = node.get("id")
    if not node_id:
        return "Missing attribute 'id'"
    if node_id not in catalogue and node_id not in extra:
        return f"Invalid node. Could not find '{node_id}'"
    return None


def _frequency_error(node: dict[str, Any]) -> str | None:
    node_id = str(node["id"])
    if not node_id.startswith(C + "event_frequency."):
        return None
    value = node.get("value")
    allowed = PERCENT_INTERVALS if node_id.endswith("PercentCondition") else INTERVALS
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        return "Node did not pass validation"
    if node.get("interval") not in allowed:
        return "Node did not pass validation"
    return None


def clean_node(node: dict[str, Any], kind: str) -> dict[str, Any]:
    """Stored form: `name` dropped, actions get a uuid, email targets default their fallthrough."""
    out = {k: v for k, v in node.items() if k != "name"}
    if kind == "action":
        out.setdefault("uuid", str(uuid.uuid4()))
        if out["id"] == "sentry.mail.actions.NotifyEmailAction":
            out.setdefault("fallthroughType", "ActiveMembers")
    if kind == "condition" and str(out["id"]).startswith(C + "event_frequency.") and "Percent" not in out["id"]:
        out.setdefault("comparisonType", "count")
    return out


def validate_nodes(body: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {"conditions": [], "filters": [], "actions": []}
    for field, catalogue, kind in (("conditions", CONDITIONS, "condition"), ("filters", FILTERS, "filter"),
                                   ("actions", ACTIONS, "action")):  # fmt: skip
        nodes = body.get(field, [] if field == "filters" else None)
        if nodes is None:
            errors[field] = ["This field is required."]
            continue
        if not isinstance(nodes, list):
            errors[field] = ['Expected a list of items but got type "dict".']
            continue
        extra = OUTDATED_CONDITIONS if field == "conditions" else set()
        for node in nodes:
            problem = _node_error(node, catalogue, extra)
            if problem is None and node["id"] in OUTDATED_CONDITIONS:
                problem = (
                    "Conditions evaluating an event attribute, tag, or level are outdated please use an "
                    "appropriate filter instead."
                )
            if problem is None and field == "conditions":
                problem = _frequency_error(node)
            if problem is not None:
                errors[field] = [problem]
                break
            result[field].append(clean_node(node, kind))
    if "actions" not in errors and not result["actions"]:
        errors["actions"] = ["You must add an action for this alert to fire."]
    return result


def serialize_nodes(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for field, catalogue in (("conditions", CONDITIONS), ("filters", FILTERS), ("actions", ACTIONS)):
        nodes = []
        for node in data.get(field, []):
            shown = dict(node, name=label(node, catalogue))
            if shown["id"] == "sentry.mail.actions.NotifyEmailAction" and shown.get("targetIdentifier") is not None:
                shown["targetIdentifier"] = str(shown["targetIdentifier"])
            nodes.append(shown)
        out[field] = nodes
    return out


def needs_channel_lookup(actions: list[dict[str, Any]]) -> bool:
    return any(a["id"] == SLACK and a.get("channel") and not a.get("channel_id") for a in actions)


DEFAULT_RULE_NAME = "Send a notification for high priority issues"


def default_rule_data() -> dict[str, Any]:
    return {
        "name": DEFAULT_RULE_NAME,
        "actionMatch": "any",
        "filterMatch": "all",
        "frequency": 30,
        "conditions": [
            {"id": "sentry.rules.conditions.high_priority_issue.NewHighPriorityIssueCondition"},
            {"id": "sentry.rules.conditions.high_priority_issue.ExistingHighPriorityIssueCondition"},
        ],
        "filters": [],
        "actions": [
            {
                "id": "sentry.mail.actions.NotifyEmailAction",
                "targetType": "IssueOwners",
                "targetIdentifier": None,
                "fallthroughType": "ActiveMembers",
                "uuid": str(uuid.uuid4()),
            }
        ],
        "environment": None,
        "owner": None,
        "createdBy": None,
    }


def create_default_rule(db: Database, project_id: int) -> int:
    data = dumps(default_rule_data())
    return db.run("INSERT INTO rules (project_id, data, created) VALUES (?, ?, ?)", (project_id, data, now_iso()))
