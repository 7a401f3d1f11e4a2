"""A stack made by the previous release (dynamic providers) upgrades in place to the sentrystacks provider plugin.

The previous release is main as users have it before the plugin (:data:`PREVIOUS_RELEASE`: with the alerts' webhook
actions and the source maps of issues 28 and 25), checked out as a `git worktree`;
its code runs the first `up` (through PYTHONPATH, with its own Pulumi.yaml and dynamic providers), against a real
localsentry. Then the project takes this checkout's Pulumi.yaml and program (the stack files stay as they were: a
user's stack file keeps working unchanged) and the preview shows no create, delete or replace of anything but the
providers, sends no Sentry write, the `up` after it neither, and every DSN stays (the same values in the outputs and
in the rendered env files). Two stacks: the Sentry-only program with a cron monitor, an alert watching it with an
email and a webhook action (the projects' WebHooks plugin URLs), metric monitors, filters and a build's source maps
uploaded with the real sentry-cli and an `org:ci` upload token (no second upload after the upgrade; the token a
secret input of the provider); and the reference app's dev stack with its containers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.sentry.source_maps_upload import find_sentry_cli
from tests.e2e.docker_support import DEFAULT_PREFIX, demo_images, require_docker
from tests.e2e.pulumi_support import ROOT, PulumiProject, missing, plugins_yaml, require_langhost, require_pulumi
from tests.e2e.stack_support import AppStack, copy_project
from tests.support.localsentry import LocalSentry
from tests.support.sentry_program import PROGRAM

pytestmark = pytest.mark.e2e

#: main before the provider plugin: the last release whose Sentry objects are dynamic resources (issue 28's webhook
#: actions and issue 25's SourceMaps included)
PREVIOUS_RELEASE = "bddcbc9b30082a8057c84155579a20e7974f7ac5"
HOOK = "http://127.0.0.1:9/upgrade-hook"
PROVIDERS = "pulumi:providers:"


def _commit(ref: str) -> str | None:
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or None


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A worktree of the previous release."""
    commit = _commit(PREVIOUS_RELEASE)
    if commit is None:
        missing("The previous release's commit", f"a git clone with its history ({PREVIOUS_RELEASE[:7]})")
    path = tmp_path_factory.mktemp("previous") / "release"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(path), str(commit)],
        check=True,
        capture_output=True,
        text=True,
    )
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False, capture_output=True
        )


def _writes(ls: LocalSentry) -> dict[str, int]:
    """Sentry management API requests that change something, by route (reads, ingest and the control API apart)."""
    return {r: n for r, n in ls.stats()["by_route"].items() if r.split(" ", 1)[0] != "GET" and " /api/0/" in r}


def _plugin_urls(ls: LocalSentry, slug: str) -> list[str]:
    body = ls.get_json(f"/api/0/projects/{ls.org}/{slug}/plugins/webhooks/")
    return sorted(str(next(f["value"] for f in body["config"] if f["name"] == "urls") or "").splitlines())


def _steps(proj: PulumiProject) -> list[dict[str, Any]]:
    preview = proj.run("preview", "--json", "--show-sames")
    data = json.loads(preview.stdout)
    assert not [d for d in data.get("diagnostics", []) if d.get("severity") == "error"], data.get("diagnostics")
    return list(data.get("steps", []))


def _ids_of(resources: list[dict[str, Any]]) -> dict[str, str]:
    """Logical name -> id of every resource but the providers and the stack."""
    return {
        r["urn"].rsplit("::", 1)[1]: r.get("id", "")
        for r in resources
        if not r["type"].startswith((PROVIDERS, "pulumi:pulumi:Stack"))
    }


def _ids(proj: PulumiProject) -> dict[str, str]:
    return _ids_of(proj.export()["deployment"]["resources"])


def _assert_in_place(steps: list[dict[str, Any]], rollout: tuple[str, ...] = ()) -> None:
    """No create, delete or replace of anything but a provider (and the `rollout` types: a new rollout's deploy
    record); and every Sentry object is now the plugin's."""
    bad = [
        (s["op"], s["urn"])
        for s in steps
        if s["op"] not in ("same", "update")
        and PROVIDERS not in s["urn"]
        and not any(s["urn"].endswith(f"{t}::{s['urn'].rsplit('::', 1)[-1]}") for t in rollout)
    ]
    assert bad == [], bad
    types = {s["urn"].split("::")[2].rsplit("$", 1)[-1] for s in steps}
    assert not any(t.startswith("pulumi-python:dynamic/sentry:") for t in types), types
    assert any(t.startswith("sentrystacks:index:") for t in types), types


def _maps(folder: Path) -> Path:
    """A build's JavaScript and its source map, with a debug id injected by the real sentry-cli."""
    folder.mkdir(parents=True)
    (folder / "app.js").write_text(
        'function boom(){throw new Error("upgrade")}\nboom();\n//# sourceMappingURL=app.js.map\n'
    )
    (folder / "app.js.map").write_text('{"version":3,"file":"app.js","sources":["src/app.ts"],"names":[],'
                                       '"mappings":"AAAA;AACA"}')  # fmt: skip
    subprocess.run(
        [find_sentry_cli(), "sourcemaps", "inject", str(folder)],
        check=True,
        capture_output=True,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "SENTRY_DISABLE_UPDATE_CHECK": "1"},
    )
    return folder


def _previous_stack(
    tmp_path: Path,
    ls: LocalSentry,
    previous_release: Path,
    services: int,
    *,
    maps: Path | None = None,
    upload_token: str | None = None,
) -> PulumiProject:
    """The Sentry-only program's stack, made by the previous release's code (with a webhook action, and the source
    maps of `maps` when given, uploaded with an organization token)."""
    require_pulumi()
    require_langhost()
    workdir = tmp_path / "proj"
    workdir.mkdir()
    (workdir / "Pulumi.yaml").write_text(
        "name: e2e-upgrade\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {ROOT / 'venv'}\n"
    )  # the previous release's projects had no plugins entry
    (workdir / "__main__.py").write_text(PROGRAM)
    proj = PulumiProject(workdir, stack="dev", extra_env={"PYTHONPATH": str(previous_release)})
    proj.init()
    for key, value in (
        ("sentry:baseUrl", ls.url),
        ("sentry:organization", ls.org),
        ("app", "upg"),
        ("services", str(services)),
        ("environment", "development"),
        ("team", ls.team),
        ("cron", "true"),
        ("legacyBrowsers", "ie,safari"),
        ("webhook", HOOK),
    ):
        proj.config_set(key, value)
    proj.config_set("sentry:token", ls.token, secret=True)
    if maps is not None and upload_token is not None:
        proj.config_set("sourceMaps", str(maps))
        proj.config_set("sentry:uploadToken", upload_token, secret=True)
    proj.up()
    return proj


def _upgrade(proj: PulumiProject) -> None:
    """This release's project file (the plugins entry) and code (no PYTHONPATH to the previous release)."""
    (proj.workdir / "Pulumi.yaml").write_text((proj.workdir / "Pulumi.yaml").read_text() + plugins_yaml())
    proj.extra_env.pop("PYTHONPATH")


def test_sentry_only_stack_upgrades_in_place(tmp_path: Path, previous_release: Path) -> None:
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        upload_token = ls.create_token(["org:ci"], kind="org")
        proj = _previous_stack(
            tmp_path, ls, previous_release, services=2, maps=_maps(tmp_path / "maps"), upload_token=upload_token
        )
        old = proj.export()["deployment"]["resources"]
        assert {"CronMonitor", "SourceMaps", "Alert"} <= {
            r["type"].rsplit(":", 1)[-1] for r in old if r["type"].startswith("pulumi-python:dynamic/sentry:")
        }
        dsns = proj.outputs(show_secrets=True)["dsns"]
        bundles = ls.get_json(f"/api/0/projects/{ls.org}/upg-svc0/files/artifact-bundles/")
        assert len(bundles) == 1
        hooks = {s: _plugin_urls(ls, f"upg-{s}") for s in ("svc0", "svc1")}
        assert hooks == {"svc0": [HOOK], "svc1": [HOOK]}

        _upgrade(proj)
        ls.reset_stats()
        _assert_in_place(_steps(proj))
        assert _writes(ls) == {}
        proj.up()
        assert _writes(ls) == {}  # no upload again, no WebHooks plugin change, nothing else
        assert _ids(proj) == _ids_of(old)  # the same objects (a create would have given new ids)
        assert proj.outputs(show_secrets=True)["dsns"] == dsns
        new = proj.export()["deployment"]["resources"]
        assert {r["type"] for r in new if r["type"].endswith(":SourceMaps")} == {"sentrystacks:index:SourceMaps"}
        assert upload_token not in json.dumps(new)  # the provider's secret input: ciphertext
        assert ls.get_json(f"/api/0/projects/{ls.org}/upg-svc0/files/artifact-bundles/") == bundles
        assert {s: _plugin_urls(ls, f"upg-{s}") for s in ("svc0", "svc1")} == hooks
        proj.run("preview", "--expect-no-changes")
        proj.run("destroy", "--yes")
    finally:
        ls.stop()


def test_a_resource_dropped_in_the_upgrade_goes_through_the_old_dynamic_provider(
    tmp_path: Path, previous_release: Path
) -> None:
    """A stack whose upgrade also drops a service: the dropped service's objects are not aliased, so the engine
    deletes them with the `pulumi-python` provider of the old state, which unpickles the provider classes by their
    module paths (kept for one release: infra.sentry.client_key.ClientKeyProvider, ...) and runs this release's code
    in them; the kept service's objects move to the plugin untouched."""
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        proj = _previous_stack(tmp_path, ls, previous_release, services=2)
        kept = {k: v for k, v in _ids(proj).items() if "svc1" not in k}
        _upgrade(proj)
        proj.config_set("services", "1")
        proj.config_set("cron", "false")
        proj.up()
        assert [k["name"] for k in ls.keys("upg-svc1")] == []  # the dropped service's key, deleted
        monitors = [
            d["name"]
            for d in ls.get_json(f"/api/0/organizations/{ls.org}/detectors/")
            if d["name"].startswith("[upg/dev]")
        ]
        assert monitors == ["[upg/dev] errors-svc0"], monitors
        assert {k: v for k, v in _ids(proj).items() if k in kept and "cron" not in k} == {
            k: v for k, v in kept.items() if "cron" not in k
        }
        proj.run("preview", "--expect-no-changes")
        proj.run("destroy", "--yes")
    finally:
        ls.stop()


def _previous_images(previous_release: Path) -> dict[str, str]:
    """The previous release's own demo images (its scripts/build-images, under a prefix of their own): a stack of
    that release runs what it shipped, not this checkout's images (which read variables it does not render)."""
    demo_images()  # this session's base images, which the previous release's build starts from
    if not (previous_release / "venv").exists():  # its build scripts run this checkout's venv's tools (hatchling)
        (previous_release / "venv").symlink_to(ROOT / "venv")
    result = subprocess.run([str(previous_release / "scripts" / "build-images"), "--json", "--tag-prefix",
                             "sentry-stacks-previous/", "--base-image", f"{DEFAULT_PREFIX}base:bookworm"],
                            capture_output=True, text=True, timeout=3600, check=False)  # fmt: skip
    if result.returncode != 0:
        pytest.fail(
            f"the previous release's scripts/build-images failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    found = json.loads(result.stdout)
    backend, frontend, redis = (found[k]["image"] for k in ("backend", "frontend", "redis"))
    return {"backend": backend, "worker": backend, "beat": backend, "frontend": frontend, "redis": redis}


def test_reference_stack_upgrades_in_place(tmp_path: Path, previous_release: Path) -> None:
    require_docker()
    images = _previous_images(previous_release)
    ls = LocalSentry.start(tmp_path / "ls")
    work = copy_project(tmp_path / "proj", ls, source=previous_release)
    stack = AppStack.create(work, "dev", f"e2e-{uuid.uuid4().hex[:8]}")
    for svc, image in images.items():
        stack.run("config", "set", "--path", f"sentry-stacks:serviceOverrides.{svc}.image", image)
    stack.extra_env["PYTHONPATH"] = str(previous_release)
    try:
        stack.up()
        old = _ids(stack)
        dsns = stack.outputs(show_secrets=True)["dsns"]
        files = {name: Path(path).read_bytes() for name, path in stack.outputs()["files"].items()}
        assert any(dsns["backend"].encode() in content for content in files.values())

        # the upgrade: this release's Pulumi.yaml and program (its templates live in infra/templates/); the stack
        # file stays as it is
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy2(ROOT / name, work / name)
        shutil.rmtree(work / "templates", ignore_errors=True)
        stack.extra_env.pop("PYTHONPATH")
        ls.reset_stats()
        steps = _steps(stack)
        # the Sentry objects stay as they are; this release renders variables the previous one did not (the
        # framework's names, SENTRY_STACKS_LOG_EVENTS, the cron monitors), so the rendered files and the deployment
        # that reads them update: one rollout, which Sentry records as one new deploy of the release
        _assert_in_place(steps, rollout=("sentrystacks:index:DeployStart", "sentrystacks:index:Deploy"))
        local = ("dynamic/files:RenderedFile", "dynamic/compose:Deployment", "sentry-stacks:index:AppDeployment")
        updated = [s["urn"] for s in steps if s["op"] == "update" and PROVIDERS not in s["urn"]]
        assert [u for u in updated if not any(t in u for t in local)] == []
        assert _writes(ls) == {}
        stack.up()
        deploys = "POST /api/0/organizations/{organization_id_or_slug}/releases/{version}/deploys/"
        assert _writes(ls) in ({}, {deploys: 1})  # the rollout's deploy record, nothing else
        assert {k: v for k, v in _ids(stack).items() if "deploy" not in k} == {
            k: v for k, v in old.items() if "deploy" not in k
        }
        assert stack.outputs(show_secrets=True)["dsns"] == dsns
        after = {name: Path(path).read_bytes() for name, path in stack.outputs()["files"].items()}
        assert after.keys() == files.keys()
        for name, content in files.items():  # every DSN a file held, it still holds
            assert [d for d in dsns.values() if d.encode() in content] == [
                d for d in dsns.values() if d.encode() in after[name]
            ], name
        stack.wait_healthy(timeout=300)
        stack.run("preview", "--expect-no-changes")
    finally:
        stack.run("destroy", "--yes", check=False)
        ls.stop()
