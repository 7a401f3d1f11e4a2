"""Sentry resources through the real Pulumi CLI against a real localsentry process.

Two stacks (dev, prod) of one app share one Sentry project per service and own their keys, alerts,
monitors; preview after up is empty; refresh shows exactly the drift made behind the stack's back;
destroying dev leaves the shared projects and prod untouched. Then scale under Sentry's rate limits,
convergence under injected faults, and a grep for the token everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pulumi_support import PulumiProject, require_langhost, require_pulumi, write_project
from tests.support.localsentry import LocalSentry
from tests.support.sentry_program import PROGRAM

pytestmark = pytest.mark.e2e



def _stack(tmp_path: Path, ls: LocalSentry, stack: str, env: str, services: int, app: str = "shop",
           extras: bool = True) -> PulumiProject:
    require_pulumi()
    require_langhost()
    workdir = tmp_path / "proj"
    if not (workdir / "Pulumi.yaml").exists():
        write_project(workdir, "e2e-sentry", PROGRAM)
    proj = PulumiProject(workdir, stack=stack)
    proj.init()
    proj.config_set("sentry:baseUrl", ls.url)
    proj.config_set("sentry:organization", ls.org)
    proj.config_set("sentry:token", ls.token, secret=True)
    proj.config_set("app", app)
    proj.config_set("services", str(services))
    proj.config_set("extras", "true" if extras else "false")
    proj.config_set("environment", env)
    proj.config_set("team", ls.team)
    return proj


def _get(ls: LocalSentry, path: str, **params: Any) -> Any:
    response = ls.api("GET", path, params=params)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def _all(ls: LocalSentry, path: str, **params: Any) -> list[Any]:
    items: list[Any] = []
    url = path
    params = {"per_page": 100, **params}
    while True:
        response = ls.api("GET", url, params=params)
        assert response.status_code == 200, response.text
        items += response.json()
        nxt = response.links.get("next")
        if not nxt or nxt.get("results") != "true":
            return items
        params = {**params, "cursor": nxt["cursor"]}


def _keys(ls: LocalSentry, project: str) -> list[dict[str, Any]]:
    return _all(ls, f"/api/0/projects/{ls.org}/{project}/keys/")


def _projects(ls: LocalSentry, prefix: str) -> list[str]:
    return sorted(p["slug"] for p in _all(ls, f"/api/0/organizations/{ls.org}/projects/")
                  if p["slug"].startswith(prefix))


def _named(ls: LocalSentry, kind: str, stack: str) -> list[dict[str, Any]]:
    return [o for o in _all(ls, f"/api/0/organizations/{ls.org}/{kind}/") if f"/{stack}]" in o["name"]]


def test_alert_watching_a_cron_monitor_previews_after_up(tmp_path: Path) -> None:
    """Issue 22: after the first `up`, every preview and `up` failed in `Alert.diff` with "'Unknown' object is not
    iterable": the cron monitor's detector id was unknown during preview. Preview, a second `up` and a preview
    with --expect-no-changes now pass."""
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        dev = _stack(tmp_path, ls, "dev", "development", services=1)
        dev.config_set("cron", "true")
        dev.up()
        assert [m["slug"] for m in _all(ls, f"/api/0/organizations/{ls.org}/monitors/")] == ["heartbeat-dev"]
        preview = dev.run("preview", check=False)
        assert preview.returncode == 0, preview.stdout + preview.stderr
        assert "Traceback" not in preview.stdout + preview.stderr
        dev.run("preview", "--expect-no-changes")
        dev.up()
        dev.run("preview", "--expect-no-changes")
    finally:
        ls.stop()


def test_two_environments_share_projects_and_own_their_objects(tmp_path: Path) -> None:
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        dev = _stack(tmp_path, ls, "dev", "development", services=2)
        dev.up()
        prod = _stack(tmp_path, ls, "prod", "production", services=2)
        prod.up()

        assert _projects(ls, "shop-") == ["shop-svc0", "shop-svc1"], "one shared project per service"
        for slug in ("shop-svc0", "shop-svc1"):
            names = sorted(k["name"] for k in _keys(ls, slug))
            assert names == ["dev-g1", "prod-g1"], names
        assert len(_named(ls, "workflows", "dev")) == 1 and len(_named(ls, "workflows", "prod")) == 1
        assert len(_named(ls, "detectors", "dev")) == 2 and len(_named(ls, "detectors", "prod")) == 2
        dsns = dev.outputs(show_secrets=True)["dsns"]
        prod_dsns = prod.outputs(show_secrets=True)["dsns"]
        assert set(dsns) == {"svc0", "svc1"} and dsns["svc0"] != prod_dsns["svc0"]
        assert dev.outputs()["dsns"] == "[secret]" or all(v == "[secret]" for v in dev.outputs()["dsns"].values())

        # Nothing to do right after up, for both stacks.
        dev.run("preview", "--expect-no-changes")
        prod.run("preview", "--expect-no-changes")
        _assert_only_dsns_are_secret(dev)

        # Drift behind the stack's back: disable dev's key of svc0, rename dev's alert.
        key = next(k for k in _keys(ls, "shop-svc0") if k["name"] == "dev-g1")
        assert ls.api("PUT", f"/api/0/projects/{ls.org}/shop-svc0/keys/{key['id']}/",
                      json={"isActive": False}).status_code == 200
        alert = _named(ls, "workflows", "dev")[0]
        body = {**{k: alert[k] for k in ("triggers", "actionFilters", "config", "detectorIds", "enabled")},
                "name": alert["name"] + " (renamed by hand)"}
        renamed = ls.api("PUT", f"/api/0/organizations/{ls.org}/workflows/{alert['id']}/", json=body)
        assert renamed.status_code == 200, renamed.text

        before = _resource_outputs(dev)
        refresh = dev.run("refresh", "--yes", "--json")
        summary = json.JSONDecoder().raw_decode(refresh.stdout.lstrip())[0]["changeSummary"]
        assert summary.get("update") == 2 and not summary.get("delete"), summary
        after = _resource_outputs(dev)
        changed = sorted(name for name in after if after[name] != before.get(name))
        assert changed == ["dev-alert-new-issues", "dev-svc0-key-g1"], changed
        assert after["dev-svc0-key-g1"]["isActive"] is False
        prod.run("preview", "--expect-no-changes")

        # up puts it back.
        dev.up()
        key = next(k for k in _keys(ls, "shop-svc0") if k["name"] == "dev-g1")
        assert key["isActive"] is True
        assert not any("renamed by hand" in w["name"] for w in _named(ls, "workflows", "dev"))

        # Destroying dev leaves the shared projects and prod's objects.
        dev.run("destroy", "--yes")
        assert _projects(ls, "shop-") == ["shop-svc0", "shop-svc1"]
        for slug in ("shop-svc0", "shop-svc1"):
            assert sorted(k["name"] for k in _keys(ls, slug)) == ["prod-g1"]
        assert _named(ls, "workflows", "dev") == [] and _named(ls, "detectors", "dev") == []
        assert len(_named(ls, "workflows", "prod")) == 1 and len(_named(ls, "detectors", "prod")) == 2
        prod.run("preview", "--expect-no-changes")
        prod.run("destroy", "--yes")
        _assert_token_nowhere(ls, [dev, prod])
    finally:
        ls.stop()


def test_shared_project_with_no_legacy_browsers_selected(tmp_path: Path) -> None:
    """Sentry lists legacy-browsers with none selected as `false`; both stacks sharing the project declare none.
    The second stack adopts the filter, refresh shows no change for either, the next up writes nothing."""
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        stacks = []
        for name, env in (("dev", "development"), ("prod", "production")):
            proj = _stack(tmp_path, ls, name, env, services=1, extras=False)
            proj.config_set("legacyBrowsers", "none")
            proj.up()  # prod: was SentryStateError "is False in Sentry but this stack declares []"
            stacks.append(proj)
        listed = {f["id"]: f["active"] for f in _get(ls, f"/api/0/projects/{ls.org}/shop-svc0/filters/")}
        assert listed["legacy-browsers"] is False
        ls.reset_stats()
        for proj in stacks:
            refresh = proj.run("refresh", "--yes", "--json")
            summary = json.JSONDecoder().raw_decode(refresh.stdout.lstrip())[0]["changeSummary"]
            assert not summary.get("update") and not summary.get("delete"), summary
            proj.run("preview", "--expect-no-changes")
        stacks[0].up()  # was: "was changed in Sentry to False since this stack last applied []"
        writes = {r: n for r, n in ls.stats()["by_route"].items() if not r.startswith(("GET ", "POST /_localsentry/"))}
        assert writes == {}, writes
        for proj in reversed(stacks):
            proj.run("destroy", "--yes")
    finally:
        ls.stop()


def _resource_outputs(proj: PulumiProject) -> dict[str, dict[str, Any]]:
    """name -> outputs (secrets decrypted) of every Sentry resource in the stack's state."""
    state = json.loads(proj.run("stack", "export", "--show-secrets").stdout)
    out = {}
    for res in state["deployment"].get("resources", []):
        if res["type"].startswith("sentrystacks:index:"):
            out[res["urn"].rsplit("::", 1)[1]] = dict(res.get("outputs", {}))
    return out


def _assert_token_nowhere(ls: LocalSentry, stacks: list[PulumiProject]) -> None:
    for proj in stacks:
        assert ls.token not in proj.state_text()
        for path in proj.workdir.rglob("*"):
            if path.is_file() and path.stat().st_size < 5_000_000:
                assert ls.token not in path.read_text(errors="ignore"), path


def _assert_only_dsns_are_secret(proj: PulumiProject) -> None:
    """The Sentry objects are served by the sentrystacks plugin: no serialized provider in their state; the DSNs and
    key secrets, and the provider's token, are ciphertext (never plain text)."""
    state = json.loads(proj.run("stack", "export").stdout)
    keys = providers = 0
    for res in state["deployment"].get("resources", []):
        if res["type"] == "pulumi:providers:sentrystacks":
            providers += 1
            assert set(res["inputs"]["token"]) >= {"ciphertext"}, res["urn"]
            continue
        if not res["type"].startswith("sentrystacks:index:"):
            continue
        for props in (res.get("inputs", {}), res.get("outputs", {})):
            assert "__provider" not in props, res["urn"]
        # the registration trace holds the program's frames only (infra/stack_trace.py), not the SDK's or asyncio's
        # `pulumi stack export` lists the frames ([{"sourcePosition": ...}]); the checkpoint file nests them in "frames"
        frames = res.get("stackTrace") or []
        frames = frames.get("frames", []) if isinstance(frames, dict) else frames
        trace = [f.get("sourcePosition", "") for f in frames]
        assert trace and trace[-1].split("#")[0].endswith("/__main__.py"), (res["urn"], trace)
        assert not any("site-packages/pulumi/" in f or "/asyncio/" in f for f in trace), (res["urn"], trace)
        if res["type"].endswith(":ClientKey"):
            keys += 1
            for name in ("dsn", "dsnSecret", "secret"):
                assert set(res["outputs"][name]) >= {"ciphertext"}, (res["urn"], name)
    assert keys > 0 and providers == 1


def test_scale_under_rate_limits(tmp_path: Path) -> None:
    """>= 150 Sentry objects with --parallel 32 against 40 req/s and 25 concurrent: zero failures."""
    ls = LocalSentry.start(tmp_path / "ls", rate_limit=40, concurrent_limit=25)
    try:
        proj = _stack(tmp_path, ls, "scale", "production", services=30, app="big")
        up = proj.up("--parallel", "32")
        assert "error" not in up.stdout.lower().split("resources:")[-1], up.stdout
        objects = len(_projects(ls, "big-")) + sum(len(_keys(ls, s)) for s in _projects(ls, "big-"))
        objects += len(_named(ls, "workflows", "scale")) + len(_named(ls, "detectors", "scale")) + 60  # filters
        assert objects >= 150, objects
        proj.run("preview", "--expect-no-changes")
        proj.run("destroy", "--yes", "--parallel", "32")
        assert _named(ls, "detectors", "scale") == []
    finally:
        ls.stop()


def test_faults_converge_without_duplicates_or_orphans(tmp_path: Path) -> None:
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        proj = _stack(tmp_path, ls, "flaky", "production", services=6, app="flaky")
        ls.set_faults({"seed": 7, "rules": [
            {"path": "^/api/0/", "status": [500, 502, 503], "probability": 0.10},
            {"path": "^/api/0/", "status": [429], "probability": 0.10},
            {"path": "^/api/0/", "drop": True, "probability": 0.05},
        ]})
        first = proj.run("up", "--yes", "--skip-preview", "--parallel", "16", check=False)
        if first.returncode != 0:
            proj.run("refresh", "--yes", "--clear-pending-creates", check=False)
            proj.up("--parallel", "16")
        injected = [r["injected"] for r in ls.api("GET", "/_localsentry/faults").json()["rules"]]
        assert all(n > 0 for n in injected), f"every kind of fault must have been injected: {injected}"
        ls.set_faults({"rules": []})
        proj.run("preview", "--expect-no-changes")
        slugs = _projects(ls, "flaky-")
        assert slugs == [f"flaky-svc{i}" for i in range(6)]
        for slug in slugs:
            assert sorted(k["name"] for k in _keys(ls, slug)) == ["flaky-g1"], slug
        assert sorted(d["name"] for d in _named(ls, "detectors", "flaky")) == sorted(
            f"[flaky/flaky] errors-svc{i}" for i in range(6))
        assert len(_named(ls, "workflows", "flaky")) == 1
        proj.run("destroy", "--yes")
        assert _named(ls, "detectors", "flaky") == [] and _named(ls, "workflows", "flaky") == []
    finally:
        ls.stop()
