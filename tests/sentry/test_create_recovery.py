"""Creates that POST at once, and the journal that makes them look up only what a killed run may have left.

Against a real localsentry: with `lookupFirst: false` (what SentryApp passes) a create sends one POST and no
read; a create the journal lists as pending (its CLI was killed) finds its object by name instead of making a
second one; the journal records begin/done, marks finished creates pending again when the CLI dies, leaves
pending a create that returns when its answer can no longer reach the engine, and is inert without a CLI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.sentry import recovery
from infra.sentry.alert import AlertProvider
from infra.sentry.client_key import ClientKeyProvider
from infra.sentry.metric_monitor import MetricMonitorProvider
from infra.sentry.project import ProjectProvider
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pending-creates.jsonl"
    recovery.enable(path)
    try:
        yield path
    finally:
        recovery.disable()


def configured(cls: type[Any], ls: LocalSentry) -> Any:
    provider = cls()
    provider.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}, "sentry-stacks")))
    return provider


def api_requests(ls: LocalSentry) -> dict[str, int]:
    return {k: int(v) for k, v in ls.stats()["by_route_status"].items() if " /api/0/" in k}


EMAIL = {"type": "email", "config": {"targetType": "issue_owners"}, "data": {"fallthroughType": "ActiveMembers"}}


def monitor_props(project: str, name: str) -> dict[str, Any]:
    return {"project": project, "name": name, "aggregate": "count()", "timeWindow": 3600, "adopt": True,
            "lookupFirst": False, "conditions": [{"type": "gt", "comparison": 5, "conditionResult": 75}]}


def test_journal_records_begin_done_and_a_dead_cli(journal: Path) -> None:
    key = recovery.key("key", "http://x/api/0/", "org", "proj", "dev-g1")
    other = recovery.key("detector", "http://x/api/0/", "org", "proj", "m")
    assert not recovery.may_exist(key)
    with recovery.creating(key):
        pass
    with pytest.raises(RuntimeError), recovery.creating(other):
        raise RuntimeError("POST outcome unknown")  # a create that raised stays pending
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines == [{"begin": key}, {"done": key}, {"begin": other}]
    recovery.cli_died()  # the finished create may be missing from the state: pending again
    recovery.enable(journal)  # a new provider process reads the journal
    assert recovery.may_exist(key) and recovery.may_exist(other)
    recovery.settled(key)
    recovery.enable(journal)
    assert not recovery.may_exist(key) and recovery.may_exist(other)
    assert journal.stat().st_mode & 0o777 == 0o600


def test_a_create_returning_when_no_answer_can_reach_the_engine_stays_pending(journal: Path) -> None:
    """The plugin shut down (or its call was cancelled) while the create ran: no done, the next run looks it up."""
    answered = recovery.key("key", "http://x/api/0/", "org", "proj", "dev-g1")
    late = recovery.key("key", "http://x/api/0/", "org", "proj", "dev-g2")
    with recovery.creating(answered):
        pass
    recovery.unanswered()
    with recovery.creating(late):
        pass
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines == [{"begin": answered}, {"done": answered}, {"begin": late}]
    recovery.enable(journal)
    assert recovery.may_exist(late) and not recovery.may_exist(answered)


def test_journal_is_inert_without_a_cli(tmp_path: Path) -> None:
    recovery.disable()
    key = recovery.key("key", "http://x/api/0/", "org", "proj", "dev-g1")
    with recovery.creating(key):
        pass
    recovery.cli_died()
    assert not recovery.may_exist(key) and not list(tmp_path.iterdir())


def test_creates_post_once_and_a_killed_runs_creates_are_found_not_repeated(
    localsentry: LocalSentry, journal: Path
) -> None:
    ls = localsentry
    slug = unique("rec")
    keys, monitors, alerts = (configured(c, ls) for c in (ClientKeyProvider, MetricMonitorProvider, AlertProvider))
    ls.reset_stats()
    project = configured(ProjectProvider, ls).create({
        "slug": slug, "name": slug, "teams": [ls.team], "defaultKey": "delete", "defaultRules": False,
        "stack": "dev", "shared": True, "defaultKeyReuse": True})
    assert api_requests(ls) == {"POST /api/0/teams/{organization_id_or_slug}/{team_id_or_slug}/projects/ 201": 1}
    default = ls.keys(slug)
    assert [k["name"] for k in default] == ["Default"]  # left for the key to take over

    ls.reset_stats()
    key = keys.create({"project": slug, "name": "dev-g1", "adopt": True, "lookupFirst": False, "reuseDefault": True})
    assert key.outs["keyId"] == default[0]["id"] and [k["name"] for k in ls.keys(slug)] == ["dev-g1"]
    assert sorted(api_requests(ls)) == [
        "GET /api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/ 200",
        "PUT /api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/{key_id}/ 200"]

    ls.reset_stats()
    second = keys.create({"project": slug, "name": "dev-g2", "adopt": True, "lookupFirst": False})
    monitor = monitors.create(monitor_props(slug, "[app/dev] m"))
    alert = alerts.create({
        "name": "[app/dev] a", "projects": [slug], "projectIds": [project.outs["projectId"]], "adopt": True,
        "lookupFirst": False, "actionFilters": [{"logicType": "all", "conditions": [], "actions": [
            EMAIL]}],
    })
    counts = api_requests(ls)
    assert sum(counts.values()) == 4, counts  # three POSTs and one listing of the issue-stream detectors
    assert sum(c for k, c in counts.items() if k.startswith("POST ")) == 3

    # the CLI dies: what this process created may be missing from the state, so the next run finds them
    recovery.cli_died()
    recovery.enable(journal)
    ls.reset_stats()
    again = keys.create({"project": slug, "name": "dev-g2", "adopt": True, "lookupFirst": False})
    monitor_again = monitors.create(monitor_props(slug, "[app/dev] m"))
    alert_again = alerts.create({
        "name": "[app/dev] a", "projects": [slug], "projectIds": [project.outs["projectId"]], "adopt": True,
        "lookupFirst": False, "actionFilters": [{"logicType": "all", "conditions": [], "actions": [
            EMAIL]}],
    })
    assert (again.id, monitor_again.id, alert_again.id) == (second.id, monitor.id, alert.id)
    assert not any(k.startswith("POST ") for k in api_requests(ls))  # found by name: nothing made twice
    assert sorted(k["name"] for k in ls.keys(slug)) == ["dev-g1", "dev-g2"]
    recovery.enable(journal)  # settled: a third run would POST at once again
    assert not recovery.may_exist(recovery.key("key", keys.client.connection.api_root, ls.org, slug, "dev-g2"))


def test_alert_update_takes_every_issue_stream_id_from_state_whatever_the_slug_order(localsentry: LocalSentry) -> None:
    """Declared order svc0..svc11 is not the sorted order (svc10 < svc2): the ids stay paired with their slugs."""
    ls = localsentry
    app = unique("order")
    projects, alerts = configured(ProjectProvider, ls), configured(AlertProvider, ls)
    slugs, pids = [], []
    for i in range(12):
        slug = f"{app}-svc{i}"
        made = projects.create({"slug": slug, "name": slug, "teams": [ls.team], "defaultKey": "keep",
                                "defaultRules": False})
        slugs.append(slug)
        pids.append(made.outs["projectId"])
    props: dict[str, Any] = {
        "name": f"[{app}/dev] a", "projects": slugs, "projectIds": pids, "adopt": True, "lookupFirst": False,
        "actionFilters": [{"logicType": "all", "conditions": [], "actions": [EMAIL]}]}
    created = alerts.create(dict(props))
    outs = created.outs
    assert dict(zip(outs["projects"], outs["projectIds"], strict=True)) == dict(zip(slugs, pids, strict=True))
    ls.reset_stats()
    updated = alerts.update(created.id, outs, {**props, "frequency": 60})
    assert api_requests(ls) == {"PUT /api/0/organizations/{organization_id_or_slug}/workflows/{workflow_id}/ 200": 1}
    assert updated.outs["issueStreamDetectors"] == outs["issueStreamDetectors"]
    assert sorted(updated.outs["issueStreamDetectors"]) == sorted(slugs)
