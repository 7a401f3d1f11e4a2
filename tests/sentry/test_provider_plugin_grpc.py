"""Every Sentry resource's lifecycle through the real plugin process over gRPC, against a real localsentry.

The plugin (``venv/bin/pulumi-resource-sentrystacks``) is started as the engine starts it and called with what the
engine sends: check, create, read, diff (no change after a read), update, delete; each resource type the toolkit
declares, the legacy ones in localsentry's legacy-alerts mode; the preflight of check_config and of checkConnection;
secrets marked secret; a gone object read as gone; errors as one line; the plugin ended (SIGINT, as the engine ends
it) with a create in flight.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import proto

from infra.provider.server import GRACE
from infra.provider.values import plain_map
from tests.support.localsentry import LocalSentry, unique
from tests.support.old_sentry import OldSentry
from tests.support.plugin import Plugin, PluginError, plugin_on_localsentry

pytestmark = pytest.mark.sentry
plugin = plugin_on_localsentry


def lifecycle(plugin: Plugin, kind: str, declared: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """check, create, read, no diff, update `change`, no diff; returns the last state (created, not deleted)."""
    inputs, failures = plugin.check(kind, declared)
    assert failures == [], failures
    id_, created = plugin.create(kind, inputs)
    state = plain_map(created)
    read = plugin.read(kind, id_, state)
    assert read.id == id_
    assert plugin.diff(kind, id_, plain_map_of(read.properties), inputs).changes == proto.DiffResponse.DIFF_NONE
    news, _ = plugin.check(kind, {**inputs, **change})
    assert plugin.diff(kind, id_, state, news).changes == proto.DiffResponse.DIFF_SOME
    state = plain_map(plugin.update(kind, id_, state, news))
    assert plugin.diff(kind, id_, state, news).changes == proto.DiffResponse.DIFF_NONE
    return {"id": id_, **state}


def plain_map_of(struct: Any) -> dict[str, Any]:
    from pulumi.provider.experimental.property_value import PropertyValue

    return plain_map(PropertyValue.unmarshal_map(struct))


def test_every_resource_through_the_plugin(localsentry: LocalSentry, plugin: Plugin) -> None:
    ls, slug = localsentry, unique("plug")
    project = lifecycle(plugin, "Project", {
        "slug": slug, "teams": [ls.team], "name": "Plugged", "platform": "python", "defaultKey": "delete",
        "defaultRules": False, "stack": "test"}, {"resolveAge": 48})
    assert ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/").json()["resolveAge"] == 48
    id_, key = plugin.create("ClientKey", {"project": slug, "name": "test-g1", "isActive": True})
    assert key["dsn"].is_secret and key["secret"].is_secret and not key["keyId"].is_secret
    dsn = key["dsn"].value
    assert isinstance(dsn, str) and dsn.startswith("http") and [k["name"] for k in ls.keys(slug)] == ["test-g1"]
    key_state = lifecycle(plugin, "ClientKey", {"project": slug, "name": "test-g2"}, {"isActive": False})
    assert {k["name"]: k["isActive"] for k in ls.keys(slug)}["test-g2"] is False
    lifecycle(plugin, "InboundFilter", {"project": slug, "filterId": "localhost", "shared": False},
              {"active": False})
    monitor = lifecycle(plugin, "MetricMonitor", {
        "project": slug, "name": "[plug/test] errors", "aggregate": "count()", "timeWindow": 3600,
        "conditions": [{"type": "gt", "comparison": 100, "conditionResult": 75}]}, {"timeWindow": 900})
    cron = lifecycle(plugin, "CronMonitor", {
        "project": slug, "slug": f"beat-{slug}"[:50], "name": "[plug/test] beat", "scheduleType": "crontab",
        "schedule": "* * * * *"}, {"schedule": "*/5 * * * *"})
    alert = lifecycle(plugin, "Alert", {
        "name": f"[plug/test] {slug}", "projects": [slug], "projectIds": [project["projectId"]],
        "detectorIds": [monitor["detectorId"], cron["detectorId"]],
        "actionFilters": [{"logicType": "all", "conditions": [], "actions": [
            {"type": "email", "config": {"targetType": "issue_owners"}}]}]}, {"frequency": 60})
    release = lifecycle(plugin, "Release", {"version": f"rel-{slug}", "projects": [slug], "shared": False,
                                            "deleteOnDestroy": True}, {"url": "https://example.com/r"})
    start_id, start = plugin.create("DeployStart", {"version": f"rel-{slug}", "environment": "test",
                                                    "fingerprint": "abc"})
    deploy_id, deploy = plugin.create("Deploy", {
        "version": f"rel-{slug}", "environment": "test", "projects": [slug], "name": "test-abc",
        "dateStarted": start["dateStarted"].value, "fingerprint": "abc"})
    deploys = ls.api("GET", f"/api/0/organizations/{ls.org}/releases/rel-{slug}/deploys/").json()
    assert [d["name"] for d in deploys] == ["test-abc"] and deploy_id.endswith(f"/{deploys[0]['id']}")
    for kind, state in (("Alert", alert), ("CronMonitor", cron), ("MetricMonitor", monitor),
                        ("ClientKey", key_state), ("Release", release), ("Project", project)):
        plugin.delete(kind, state["id"], state)
    assert ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/").status_code == 404
    gone = plugin.read("Project", project["id"], project)
    assert gone.id == "" and not gone.HasField("properties")  # gone, said so (not an empty object)
    del id_, start_id, deploy


def test_legacy_alerts_through_the_plugin(localsentry: LocalSentry, plugin: Plugin) -> None:
    ls = localsentry
    ls.set_legacy_alerts("works")
    ls.set_features(None, {"incidents": True})
    project = ls.create_project(name=unique("legacy"))["slug"]
    email = {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
             "fallthroughType": "ActiveMembers"}
    rule = lifecycle(plugin, "IssueAlert", {
        "project": project, "name": "[plug/test] new", "actionMatch": "any",
        "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
        "actions": [email]}, {"frequency": 60})
    team = str(ls.api("GET", f"/api/0/teams/{ls.org}/{ls.team}/").json()["id"])
    metric = lifecycle(plugin, "MetricAlert", {
        "project": project, "name": "[plug/test] errors", "aggregate": "count()", "timeWindow": 60, "query": "",
        "thresholdType": 0, "triggers": [{"label": "critical", "alertThreshold": 100, "actions": [
            {"type": "email", "targetType": "team", "targetIdentifier": team}]}]}, {"timeWindow": 5})
    plugin.delete("IssueAlert", rule["id"], rule)
    plugin.delete("MetricAlert", metric["id"], metric)


def test_check_failures_and_errors_over_grpc(localsentry: LocalSentry, plugin: Plugin) -> None:
    _, failures = plugin.check("Project", {"slug": "Not A Slug", "teams": [localsentry.team], "resolveAge": 99999})
    assert dict(failures)["resolveAge"] == "resolveAge: must be a whole number from 0 to 8760"
    with pytest.raises(PluginError) as info:  # the team does not exist: Sentry's answer, as one line
        plugin.create("Project", {"slug": unique("p"), "teams": ["no-such-team"], "stack": "t"})
    assert info.value.details.startswith("create project") and "HTTP 404" in info.value.details
    assert "\n" not in info.value.details
    assert 'File "' not in info.value.details


def test_check_connection_function(localsentry: LocalSentry, tmp_path: Path) -> None:
    """The preflight the toolkit's program asks for once its settings are loaded (``checkConnection``): the same
    requests as check_config's, with the provider's connection, each problem the one line that names the setting
    (the stack's sentry:* keys: the provider's namespace says the toolkit's program made it)."""
    ls = localsentry
    plugin = Plugin(tmp_path)
    check = "sentrystacks:index:checkConnection"
    try:
        plugin.configure({"baseUrl": ls.url, "organization": ls.org, "token": ls.token, "namespace": "shop"})
        ls.reset_stats()
        assert plugin.invoke(check, {"team": ls.team, "workflows": True, "namespace": "shop"}) == {}
        sent = {r: n for r, n in ls.stats()["by_route"].items() if not r.startswith("POST /_localsentry/")}
        assert sent == {"GET /api/0/organizations/{organization_id_or_slug}/": 1,
                        "GET /api/0/organizations/{organization_id_or_slug}/workflows/": 1}
        problem = plugin.invoke(check, {"team": "no-such-team", "namespace": "shop"})["problem"]
        assert problem.startswith("shop:team = no-such-team: organization") and "no such team" in problem
        plugin.configure({"baseUrl": ls.url, "organization": ls.org, "token": "sntryu_" + "0" * 64,
                          "namespace": "shop"})
        problem = plugin.invoke(check, {"namespace": "shop"})["problem"]
        assert problem.startswith("sentry:token: Sentry at") and "0" * 64 not in problem
        plugin.configure({"baseUrl": ls.url, "organization": ls.org, "token": "sntryu_" + "0" * 64})
        assert plugin.invoke(check, {})["problem"].startswith("sentrystacks:token: Sentry at")  # another program's
        with pytest.raises(PluginError) as unknown:
            plugin.invoke("sentrystacks:index:nothing", {})
        assert "has no function 'sentrystacks:index:nothing'" in unknown.value.details
        assert "\n" not in unknown.value.details
        with pytest.raises(PluginError) as bad:
            plugin.invoke(check, {"team": "Not A Slug!"})
        assert "team" in bad.value.details and "\n" not in bad.value.details
    finally:
        plugin.close()


def test_preflight_in_check_config(localsentry: LocalSentry, tmp_path: Path) -> None:
    """The program's preflight runs in check_config: one read of the organization (and one of the workflow API
    when the stack has alerts), each problem one line naming the setting."""
    ls = localsentry
    plugin = Plugin(tmp_path)
    try:
        base = {"baseUrl": ls.url, "organization": ls.org, "token": ls.token}
        ls.reset_stats()
        assert plugin.check_config({**base, "preflight": json.dumps({"team": ls.team, "workflows": True})}) == []
        sent = {r: n for r, n in ls.stats()["by_route"].items() if not r.startswith("POST /_localsentry/")}
        assert sent == {"GET /api/0/organizations/{organization_id_or_slug}/": 1,
                        "GET /api/0/organizations/{organization_id_or_slug}/workflows/": 1}
        [(_, team)] = plugin.check_config({**base, "preflight": json.dumps({"team": "no-such-team"})})
        assert team.startswith("sentry-stacks:team = no-such-team: organization") and "no such team" in team
        [(_, token)] = plugin.check_config({**base, "token": "sntryu_" + "0" * 64, "preflight": "{}"})
        assert token.startswith("sentry:token: Sentry at") and "0" * 64 not in token
        old = OldSentry(ls.url)  # a Sentry before 26.7: no workflow or detector API
        try:
            aged = {**base, "baseUrl": old.url}
            [(_, problem)] = plugin.check_config({**aged, "preflight": json.dumps({"workflows": True})})
            assert problem.startswith("sentry-stacks:legacyAlerts = false:") and "legacyAlerts: true" in problem
            assert plugin.check_config({**aged, "preflight": json.dumps({"workflows": False})}) == []
        finally:
            old.stop()
        assert plugin.check_config(base) == []  # no preflight asked: nothing sent
        changed = plugin.diff_config(base, {**base, "token": "other"})
        assert changed.changes == proto.DiffResponse.DIFF_SOME and list(changed.replaces) == []
        assert plugin.diff_config({"sentry:baseUrl": "x", "sentry-stacks:app": "a"}, base).replaces == []
    finally:
        plugin.close()


def test_default_provider_reads_the_sentrystacks_config(localsentry: LocalSentry, tmp_path: Path) -> None:
    """A YAML (or any) program's default provider: the stack's sentrystacks:* config, as variables."""
    ls = localsentry
    plugin = Plugin(tmp_path)
    try:
        plugin._call("Configure", proto.ConfigureRequest(variables={
            "sentrystacks:config:baseUrl": ls.url, "sentrystacks:config:organization": ls.org,
            "sentrystacks:config:token": ls.token}, acceptSecrets=True))
        slug = unique("dflt")
        id_, state = plugin.create("Project", {"slug": slug, "teams": [ls.team], "defaultKey": "keep"})
        assert ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/").status_code == 200
        plugin.delete("Project", id_, {**plain_map(state), "deleteOnDestroy": True})
        assert plugin.version() and json.loads(plugin.schema())["name"] == "sentrystacks"
    finally:
        plugin.close()


def _journal(cwd: Path) -> list[dict[str, str]]:
    path = cwd / ".sentry-stacks" / "pending-creates.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _ended_mid_create(ls: LocalSentry, tmp_path: Path, delay: float) -> tuple[Any, int, str, list[dict[str, str]]]:
    """A plugin under a "CLI" (its create journal on), ended with SIGINT while a key's POST takes `delay` seconds
    in localsentry: the create's answer (or PluginError), the plugin's exit code and stderr, its journal."""
    project = ls.create_project(name=unique("halt"))["slug"]
    plugin = Plugin(tmp_path, under_cli=True)
    try:
        plugin.configure({"baseUrl": ls.url, "organization": ls.org, "token": ls.token})
        ls.set_faults(path=f"^/api/0/projects/{ls.org}/{project}/keys/$", methods=["POST"], delay=1.0,
                      delay_seconds=delay)
        answer: list[Any] = []

        def create() -> None:
            try:
                answer.append(plugin.create("ClientKey", {"project": project, "name": "test-g1",
                                                          "lookupFirst": False}))
            except PluginError as exc:
                answer.append(exc)

        call = threading.Thread(target=create)
        call.start()
        deadline = time.monotonic() + 10
        while not _journal(tmp_path) and time.monotonic() < deadline:  # `begin` is written just before the POST
            time.sleep(0.02)
        assert _journal(tmp_path), "the create never began"
        plugin.interrupt()
        call.join(timeout=30)
        code, err = plugin.finish()
    finally:
        plugin.close()
    [result] = answer
    return result, code, err, _journal(tmp_path)


def test_a_plugin_ended_mid_create_answers_it_and_exits_cleanly(localsentry: LocalSentry, tmp_path: Path) -> None:
    """The engine ends a plugin with SIGINT (and SIGKILL 5 s later). A create in flight then is still answered (it
    has infra.provider.server.GRACE seconds), its journal says begin then done, and the plugin exits 0 with nothing
    on stderr. Before, the loop closed with the gRPC server running: "RuntimeError: Event loop is closed" on
    stderr, and the create's answer lost although its journal said done."""
    result, code, err, journal = _ended_mid_create(localsentry, tmp_path, delay=1.0)
    assert not isinstance(result, PluginError), result
    id_, outputs = result
    assert id_ and outputs["dsn"].is_secret
    assert "test-g1" in [k["name"] for k in localsentry.keys(outputs["project"].value)]
    assert (code, err) == (0, ""), err
    key = journal[0]["begin"]
    assert key.startswith("key|") and journal == [{"begin": key}, {"done": key}]


def test_a_create_outlasting_the_grace_stays_pending(localsentry: LocalSentry, tmp_path: Path) -> None:
    """A create still running when the grace is over cannot be answered: the engine gets an error, the plugin waits
    for the request (not cut off mid-POST) and exits cleanly, and the create stays pending in the journal (no
    done): the next run looks its object up by name before POSTing again."""
    result, code, err, journal = _ended_mid_create(localsentry, tmp_path, delay=GRACE + 1.0)
    assert isinstance(result, PluginError), result
    assert (code, err) == (0, ""), err
    [begin] = journal
    assert list(begin) == ["begin"] and begin["begin"].startswith("key|")
