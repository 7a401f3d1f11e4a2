"""Release, DeployStart and Deploy providers against a real localsentry process (releases and deploys API)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.sentry.deploy import DeployProvider, DeployStartProvider, deploy_name
from infra.sentry.release import ReleaseProvider
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry


def configured(cls: Any, ls: LocalSentry) -> Any:
    p = cls()
    p.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}, "sentry-stacks")))
    return p


def checked(p: Any, **props: Any) -> dict[str, Any]:
    result = p.check({}, props)
    assert result.failures == [], [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


def release(ls: LocalSentry, version: str) -> dict[str, Any]:
    resp = ls.api("GET", f"/api/0/organizations/{ls.org}/releases/{version}/")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def deploys(ls: LocalSentry, version: str) -> list[dict[str, Any]]:
    return list(ls.api("GET", f"/api/0/organizations/{ls.org}/releases/{version}/deploys/").json())


def test_release_in_every_project_once_and_shared_release_survives_destroy(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    p = configured(ReleaseProvider, ls)
    backend, frontend = (ls.create_project(name=unique(n))["slug"] for n in ("backend", "frontend"))
    version = f"app@{unique('1.2')}"
    inputs = checked(p, version=version, projects=[frontend, backend], environment="development", shared=True)
    created = p.create(inputs)
    assert created.id == f"{ls.org}/{version}"
    live = release(ls, version)
    assert sorted(x["slug"] for x in live["projects"]) == sorted([backend, frontend])
    assert created.outs["preexisting"] is False and created.outs["projects"] == sorted([backend, frontend])
    # a second stack (prod) deploying the same version shares it: no second release, nothing written
    ls.reset_stats()
    other = p.create(checked(p, version=version, projects=[backend, frontend], environment="production"))
    assert other.outs["preexisting"] is True
    routes = ls.stats()["by_route"]
    assert routes and not [r for r in routes if r.startswith("POST /api/")], routes
    listing = ls.api("GET", f"/api/0/organizations/{ls.org}/releases/", params={"query": version}).json()
    assert [r["version"] for r in listing] == [version]
    # refresh: no drift; diff against the same inputs: nothing to do
    read = p.read(created.id, created.outs)
    assert read.id == created.id and p.diff(created.id, read.outs, inputs).changes is False
    # a new version replaces the resource (the old release stays: history)
    diff = p.diff(created.id, created.outs, {**inputs, "version": version + "-2"})
    assert diff.changes and diff.replaces == ["version"]
    # destroy never deletes a shared release, even when asked to
    p.delete(created.id, {**created.outs, "deleteOnDestroy": True})
    assert release(ls, version)["version"] == version


def test_release_delete_on_destroy_only_when_nobody_else_can_use_it(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    p = configured(ReleaseProvider, ls)
    project = ls.create_project(name=unique("solo"))["slug"]
    version = unique("solo-rel")
    props = checked(p, version=version, projects=[project], environment="staging", shared=False, deleteOnDestroy=True)
    created = p.create(props)
    # deployed to another environment too: kept
    assert ls.api("POST", f"/api/0/organizations/{ls.org}/releases/{version}/deploys/",
                  json={"environment": "production"}).status_code == 201
    p.delete(created.id, created.outs)
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/releases/{version}/").status_code == 200
    version2 = unique("solo-rel")
    created2 = p.create({**props, "version": version2})
    p.delete(created2.id, created2.outs)
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/releases/{version2}/").status_code == 404
    assert p.read(created2.id, created2.outs).id == ""  # gone: refresh drops it


def test_release_added_project_and_bad_values(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    p = configured(ReleaseProvider, ls)
    one, two = (ls.create_project(name=unique("p"))["slug"] for _ in range(2))
    version = unique("rel")
    created = p.create(checked(p, version=version, projects=[one]))
    updated = p.update(created.id, created.outs, checked(p, version=version, projects=[one, two]))
    assert updated.outs["projects"] == sorted([one, two])
    assert sorted(x["slug"] for x in release(ls, version)["projects"]) == sorted([one, two])
    failures = {f.property: f.reason for f in p.check({}, {"version": "a/b", "projects": []}).failures}
    assert "no '/'" in failures["version"] and "must not be empty" in failures["projects"]
    assert "'latest'" in p.check({}, {"version": "latest", "projects": [one]}).failures[0].reason


def test_deploy_recorded_once_with_start_and_finish(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    rp, dp, sp = configured(ReleaseProvider, ls), configured(DeployProvider, ls), DeployStartProvider()
    project = ls.create_project(name=unique("svc"))["slug"]
    version = unique("dep")
    rp.create(checked(rp, version=version, projects=[project]))
    start = sp.create(checked(sp, version=version, environment="development", fingerprint="ab" * 32))
    props = checked(dp, version=version, environment="development", projects=[project],
                    name=deploy_name("dev", "ab" * 32), dateStarted=start.outs["dateStarted"], fingerprint="ab" * 32)
    created = dp.create(props)
    [record] = deploys(ls, version)
    assert record["environment"] == "development" and record["name"] == "dev-abababababab"
    assert record["dateStarted"] == start.outs["dateStarted"] and record["dateFinished"] >= record["dateStarted"]
    assert created.outs["deployId"] == record["id"] and created.outs["dateFinished"] == record["dateFinished"]
    assert release(ls, version)["deployCount"] == 1
    # the environment now exists in the project, as Sentry records it with the deploy
    envs = ls.api("GET", f"/api/0/projects/{ls.org}/{project}/environments/").json()
    assert "development" in [e["name"] for e in envs]
    # nothing new: no change, so no second record; a new rollout is a replacement (a new record)
    read = dp.read(created.id, created.outs)
    assert dp.diff(created.id, read.outs, props).changes is False
    assert sp.diff(start.id, start.outs, {**start.outs}).changes is False
    new_start = sp.diff(start.id, start.outs, {**start.outs, "fingerprint": "cd" * 32})
    assert new_start.replaces == ["fingerprint"]
    assert "fingerprint" in dp.diff(created.id, created.outs, {**props, "fingerprint": "cd" * 32}).replaces
    # a create whose state was lost (killed CLI) finds its record instead of adding a second one
    again = dp.create(props)
    assert again.id == created.id and len(deploys(ls, version)) == 1
    dp.delete(created.id, created.outs)  # Sentry keeps deploy records
    assert len(deploys(ls, version)) == 1


def test_deploy_post_dropped_after_commit_is_found_not_repeated(localsentry: LocalSentry) -> None:
    ls = localsentry
    rp, dp = configured(ReleaseProvider, ls), configured(DeployProvider, ls)
    project = ls.create_project(name=unique("svc"))["slug"]
    version = unique("drop")
    ls.set_faults({"rules": [{"path": "/releases/$", "methods": ["POST"], "drop_after_commit": True, "count": 1},
                             {"path": "/deploys/$", "methods": ["POST"], "drop_after_commit": True, "count": 1}]})
    rp.create(checked(rp, version=version, projects=[project]))
    dp.create(checked(dp, version=version, environment="production", projects=[project], name="prod-x"))
    assert [r["injected"] for r in ls.api("GET", "/_localsentry/faults").json()["rules"]] == [1, 1]
    assert len(deploys(ls, version)) == 1
    assert [r["version"] for r in ls.api("GET", f"/api/0/organizations/{ls.org}/releases/").json()] == [version]
