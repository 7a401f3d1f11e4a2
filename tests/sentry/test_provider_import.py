"""``pulumi import`` through the real plugin process over gRPC, against a real localsentry: Read with only an id.

For every resource type: the object is made as a program would make it (Create with declared inputs), then read the
way the engine reads an import (the natural id, no properties, no inputs); the answer's state must give no diff
against the same declared inputs, its inputs must hold every declared field with Sentry's value, and the provider's
own choices (adopt, stack...) are left out. Bad ids: not found (an empty answer: the engine writes nothing), another
organization, an id that does not fit the type, a type with no Sentry object: one line each.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime import proto

from infra.provider.values import plain_map
from tests.support.localsentry import LocalSentry, unique
from tests.support.plugin import Plugin, PluginError, plugin_on_localsentry

pytestmark = pytest.mark.sentry
plugin = plugin_on_localsentry


def imported(plugin: Plugin, kind: str, import_id: str, declared: dict[str, Any]) -> tuple[str, dict[str, Any],
                                                                                          dict[str, Any]]:
    """Read `import_id` as the engine imports it; assert no diff against `declared`; (state id, outputs, inputs)."""
    answer = plugin.read(kind, import_id, {})
    assert answer.id, f"{kind} {import_id} not found"
    outs = plain_map(PropertyValue.unmarshal_map(answer.properties))
    inputs = plain_map(PropertyValue.unmarshal_map(answer.inputs))
    news, failures = plugin.check(kind, declared)
    assert failures == []
    diff = plugin.diff(kind, answer.id, outs, news)
    assert diff.changes == proto.DiffResponse.DIFF_NONE, (kind, list(diff.diffs))
    assert not {"adopt", "lookupFirst", "stack"} & set(inputs), inputs
    return answer.id, outs, inputs


def test_import_every_type(localsentry: LocalSentry, plugin: Plugin) -> None:
    ls, slug = localsentry, unique("imp")
    project_decl = {"slug": slug, "teams": [ls.team], "name": "Imported", "platform": "python", "resolveAge": 48,
                    "defaultKey": "delete", "defaultRules": False, "stack": "test"}
    project_id, _ = plugin.create("Project", project_decl)
    state_id, outs, inputs = imported(plugin, "Project", f"{ls.org}/{slug}",
                                      {k: v for k, v in project_decl.items() if k not in ("defaultKey", "stack")})
    assert state_id == project_id and inputs["resolveAge"] == 48 and inputs["platform"] == "python"
    assert inputs["teams"] == [ls.team] and "defaultKey" not in inputs and outs["projectId"]
    # the provider's own choices: a program's stack or adopt is compared with what the import supplied, else the
    # default (so the toolkit's program, which declares them, previews clean after `pulumi import --file` with inputs)
    news, _ = plugin.check("Project", {**project_decl, "adopt": True})
    assert plugin.diff("Project", state_id, outs, news).changes == proto.DiffResponse.DIFF_SOME
    supplied = {"stack": "test", "adopt": True, "defaultKey": "delete", "defaultRules": False}
    assert plugin.diff("Project", state_id, outs, news, supplied).changes == proto.DiffResponse.DIFF_NONE

    key_id, key = plugin.create("ClientKey", {"project": slug, "name": "test-g1", "isActive": False})
    public = key["keyId"].value
    state_id, outs, inputs = imported(plugin, "ClientKey", f"{ls.org}/{slug}/{public}",
                                      {"project": slug, "name": "test-g1", "isActive": False})
    assert state_id == key_id and {k: inputs[k] for k in ("project", "name", "isActive")} == {
        "project": slug, "name": "test-g1", "isActive": False}
    assert inputs["browserSdkVersion"] and isinstance(inputs["dynamicSdkLoaderOptions"], dict)  # all Sentry holds
    assert outs["dsn"].startswith("http")
    secret_outputs = PropertyValue.unmarshal_map(plugin.read("ClientKey", f"{ls.org}/{slug}/{public}", {}).properties)
    assert secret_outputs["dsn"].is_secret and secret_outputs["secret"].is_secret

    plugin.create("InboundFilter", {"project": slug, "filterId": "localhost", "active": True})
    _, _, inputs = imported(plugin, "InboundFilter", f"{ls.org}/{slug}/localhost",
                            {"project": slug, "filterId": "localhost", "active": True})
    assert inputs == {"project": slug, "filterId": "localhost", "active": True}

    monitor_decl = {"project": slug, "name": "[imp/test] errors", "aggregate": "count()", "timeWindow": 900,
                    "conditions": [{"type": "gt", "comparison": 10, "conditionResult": 75}]}
    monitor_id, monitor = plugin.create("MetricMonitor", monitor_decl)
    detector = monitor["detectorId"].value
    state_id, _, inputs = imported(plugin, "MetricMonitor", f"{ls.org}/{detector}", monitor_decl)
    assert state_id == monitor_id and inputs["timeWindow"] == 900 and inputs["project"] == slug

    cron_decl = {"project": slug, "slug": f"beat-{slug}"[:50], "name": "[imp/test] beat", "scheduleType": "crontab",
                 "schedule": "*/5 * * * *", "checkinMargin": 3}
    cron_id, _ = plugin.create("CronMonitor", cron_decl)
    state_id, _, inputs = imported(plugin, "CronMonitor", f"{ls.org}/{cron_decl['slug']}", cron_decl)
    assert state_id == cron_id and inputs["schedule"] == "*/5 * * * *"

    alert_decl = {"name": f"[imp/test] {slug}", "projects": [slug], "detectorIds": [detector], "frequency": 60,
                  "actionFilters": [{"logicType": "all", "conditions": [], "actions": [
                      {"type": "email", "config": {"targetType": "issue_owners"}}]}]}
    alert_id, alert = plugin.create("Alert", alert_decl)
    state_id, _, inputs = imported(plugin, "Alert", f"{ls.org}/{alert['workflowId'].value}", alert_decl)
    assert state_id == alert_id and inputs["projects"] == [slug] and inputs["detectorIds"] == [detector]
    assert inputs["frequency"] == 60

    release_decl = {"version": f"rel-{slug}", "projects": [slug], "url": "https://example.com/r"}
    release_id, _ = plugin.create("Release", {**release_decl, "shared": False})
    state_id, _, inputs = imported(plugin, "Release", release_id, release_decl)
    assert inputs == release_decl

    _, start = plugin.create("DeployStart", {"version": f"rel-{slug}", "environment": "test", "fingerprint": "f"})
    deploy_decl = {"version": f"rel-{slug}", "environment": "test", "projects": [slug], "name": "test-f",
                   "dateStarted": start["dateStarted"].value}
    deploy_id, _ = plugin.create("Deploy", {**deploy_decl})
    state_id, _, inputs = imported(plugin, "Deploy", deploy_id, deploy_decl)
    assert state_id == deploy_id and inputs["name"] == "test-f"
    assert project_id.split("/")[1].isdigit()


def test_import_legacy_alerts(localsentry: LocalSentry, plugin: Plugin) -> None:
    ls = localsentry
    ls.set_legacy_alerts("works")
    ls.set_features(None, {"incidents": True})
    project = ls.create_project(name=unique("legacy"))["slug"]
    rule_decl = {"project": project, "name": "[imp/test] new", "actionMatch": "any", "frequency": 60,
                 "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
                 "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
                              "fallthroughType": "ActiveMembers"}]}
    rule_id, _ = plugin.create("IssueAlert", rule_decl)
    state_id, _, inputs = imported(plugin, "IssueAlert", rule_id, rule_decl)
    assert state_id == rule_id and inputs["frequency"] == 60
    team = str(ls.api("GET", f"/api/0/teams/{ls.org}/{ls.team}/").json()["id"])
    metric_decl = {"project": project, "name": "[imp/test] errors", "aggregate": "count()", "timeWindow": 60,
                   "query": "", "thresholdType": 0, "triggers": [{"label": "critical", "alertThreshold": 100,
                   "actions": [{"type": "email", "targetType": "team", "targetIdentifier": team}]}]}
    metric_id, _ = plugin.create("MetricAlert", metric_decl)
    state_id, _, inputs = imported(plugin, "MetricAlert", metric_id, metric_decl)
    assert state_id == metric_id and inputs["project"] == project


def test_bad_import_ids_one_line_each(localsentry: LocalSentry, plugin: Plugin) -> None:
    ls = localsentry
    other = ls.create_org(unique("other"))
    slug = ls.create_project(name=unique("mine"))["slug"]
    for kind, import_id in (("Project", f"{ls.org}/no-such-project"), ("ClientKey", f"{ls.org}/{slug}/" + "0" * 32),
                            ("Alert", f"{ls.org}/999999"), ("MetricMonitor", f"{ls.org}/999999"),
                            ("CronMonitor", f"{ls.org}/no-such-monitor"), ("InboundFilter", f"{ls.org}/{slug}/nope")):
        gone = plugin.read(kind, import_id, {})
        assert gone.id == "" and not gone.HasField("properties"), kind  # the engine: "does not exist"
    expected = {
        ("Project", f"{ls.org}/{slug}/x"): f"import id '{ls.org}/{slug}/x' does not fit Project: expected "
                                           "org/project-slug",
        ("ClientKey", f"{ls.org}/{slug}"): f"import id '{ls.org}/{slug}' does not fit ClientKey: expected "
                                           "org/project-slug/key-id",
        ("Alert", f"{ls.org}/{slug}"): f"import id '{ls.org}/{slug}' does not fit Alert: expected org/workflow-id "
                                       "(a number)",
        ("Project", f"{other}/{slug}"): f"import id '{other}/{slug}' is in organization '{other}', but this "
                                        f"provider manages organization '{ls.org}' (sentrystacks:organization or "
                                        "SENTRY_ORG)",
        ("DeployStart", f"{ls.org}/x"): "DeployStart cannot be imported: it marks when a rollout began and has no "
                                        "Sentry object",
    }
    for (kind, import_id), line in expected.items():
        with pytest.raises(PluginError) as info:
            plugin.read(kind, import_id, {})
        assert info.value.details == line
