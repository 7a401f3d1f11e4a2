"""The SourceMaps provider against a real localsentry, with the real sentry-cli and a real bundle (esbuild, hidden maps,
debug ids injected by the CLI): one upload per release, build and project, counted in requests; the upload token
(an `org:ci` organization token) is the one used and never shows; a rerun or a second stack sends nothing; refresh
sees a bundle that is gone; bad inputs fail in check().

Needs npm and the pinned sentry-cli; without them it skips locally and fails with CI=true.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime import proto

from infra.sentry.errors import SentryToolError
from infra.sentry.source_maps import SourceMapsProvider
from infra.sentry.source_maps_upload import UploadRecord, bundle_hash
from infra.vocabulary import URL_PREFIX_RULE
from tests.support.localsentry import LocalSentry, unique
from tests.support.plugin import Plugin, PluginError
from tests.support.sourcemaps import Build, Toolchain

pytestmark = pytest.mark.sentry
UPLOAD = ("GET /api/0/organizations/{organization_id_or_slug}/chunk-upload/",
          "POST /api/0/organizations/{organization_id_or_slug}/chunk-upload/",
          "POST /api/0/organizations/{organization_id_or_slug}/artifactbundle/assemble/")  # fmt: skip


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Build]:
    tools = Toolchain.install(tmp_path_factory.mktemp("js-toolchain"))
    root = tmp_path_factory.mktemp("builds")
    return {v: tools.build(root / v, variant=v) for v in ("a", "changed")}


def provider(ls: LocalSentry, record: Path, upload_token: str | None = None) -> SourceMapsProvider:
    p = SourceMapsProvider()
    config = {"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}
    p.configure(ConfigureRequest(Config(config, "sentry-stacks")))
    p.upload_token = upload_token  # as the plugin gives its `uploadToken` input
    p.record = UploadRecord(record)
    return p


def checked(p: SourceMapsProvider, **props: Any) -> dict[str, Any]:
    result = p.check({}, props)
    assert result.failures == [], [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


def props(build: Build, project: str, release: str, **more: Any) -> dict[str, Any]:
    folder = build.dist
    return {"project": project, "release": release, "path": str(folder), "bundleHash": bundle_hash(folder), **more}


def calls(ls: LocalSentry) -> dict[str, int]:
    return {k: v for k, v in ls.stats()["by_route"].items() if "/_localsentry/" not in k}


def bundles(ls: LocalSentry, project: str) -> list[dict[str, Any]]:
    return list(ls.get_json(f"/api/0/projects/{ls.org}/{project}/files/artifact-bundles/"))


def test_one_upload_per_release_and_build(localsentry_session: LocalSentry, builds: dict[str, Build],
                                          tmp_path: Path) -> None:  # fmt: skip
    ls = localsentry_session
    project = ls.create_project(name=unique("web"), platform="javascript")["slug"]
    token = ls.create_token(["org:ci"], kind="org")
    p = provider(ls, tmp_path / "dev" / "uploads.jsonl", upload_token=token)
    inputs = checked(p, **props(builds["a"], project, "shop@1.0"))
    ls.reset_stats()
    created = p.create(inputs)
    assert calls(ls) == {UPLOAD[0]: 1, UPLOAD[1]: 1, UPLOAD[2]: 3}  # options, the chunk, assemble x3
    [bundle] = bundles(ls, project)
    assert created.id == f"{ls.org}/{project}/shop@1.0/{inputs['bundleHash']}"
    assert (created.outs["bundleId"], created.outs["files"], created.outs["organization"]) == (
        bundle["bundleId"], 2, ls.org)
    assert bundle["associations"] == [{"release": "shop@1.0", "dist": None}]
    assert token not in repr(created.outs)

    # a rerun: the same inputs are no change (the engine calls nothing else)
    same = p.diff(created.id, created.outs, inputs)
    assert (same.changes, same.replaces) == (False, [])
    # a second stack of the same release and build, from the same project directory: no request at all
    ls.reset_stats()
    other = provider(ls, tmp_path / "dev" / "uploads.jsonl").create(inputs)
    assert calls(ls) == {} and other.outs["bundleId"] == created.outs["bundleId"]
    # from another machine (no record): sentry-cli finds every chunk in Sentry, nothing is stored twice
    ls.reset_stats()
    elsewhere = provider(ls, tmp_path / "ci" / "uploads.jsonl").create(inputs)
    assert calls(ls) == {UPLOAD[0]: 1, UPLOAD[2]: 2} and elsewhere.outs["bundleId"] == created.outs["bundleId"]
    assert len(bundles(ls, project)) == 1

    # a new build is a replacement: one more upload
    changed = checked(p, **props(builds["changed"], project, "shop@1.0"))
    diff = p.diff(created.id, created.outs, changed)
    assert diff.changes and diff.replaces == ["bundleHash"]
    ls.reset_stats()
    newer = p.create(changed)
    assert calls(ls) == {UPLOAD[0]: 1, UPLOAD[1]: 1, UPLOAD[2]: 3}
    assert newer.outs["bundleId"] != created.outs["bundleId"] and len(bundles(ls, project)) == 2
    # the same build in another folder is no new upload
    moved = {**changed, "path": str(tmp_path / "moved")}
    shutil.copytree(builds["changed"].dist, moved["path"])
    moved_diff = p.diff(newer.id, newer.outs, moved)
    assert moved_diff.changes and moved_diff.replaces == []
    ls.reset_stats()
    assert p.update(newer.id, newer.outs, moved).outs["path"] == moved["path"] and calls(ls) == {}


def test_refresh_sees_a_bundle_that_is_gone(localsentry_session: LocalSentry, builds: dict[str, Build],
                                           tmp_path: Path) -> None:  # fmt: skip
    ls = localsentry_session
    project = ls.create_project(name=unique("gone"), platform="javascript")["slug"]
    p = provider(ls, tmp_path / "uploads.jsonl")
    created = p.create(checked(p, **props(builds["a"], project, "shop@2.0", dist="web")))
    read = p.read(created.id, created.outs)
    assert read.id == created.id and read.outs["bundleId"] == created.outs["bundleId"]
    assert read.inputs == {k: created.outs[k] for k in ("project", "release", "dist", "urlPrefix", "path",
                                                        "bundleHash")}  # fmt: skip
    assert ls.api("DELETE", f"/api/0/projects/{ls.org}/{project}/files/artifact-bundles/",
                  params={"bundleId": created.outs["bundleId"]}).status_code == 204  # fmt: skip
    assert p.read(created.id, created.outs).id == ""
    p.delete(created.id, created.outs)  # leaves Sentry alone (nothing to check there: it is gone already)


def test_the_upload_token_is_the_one_used_and_never_shown(
    localsentry_session: LocalSentry, builds: dict[str, Build], tmp_path: Path
) -> None:
    ls = localsentry_session
    project = ls.create_project(name=unique("scoped"), platform="javascript")["slug"]
    elsewhere = ls.create_token(["org:ci"], kind="org", organization=ls.create_org())  # another org's token
    p = provider(ls, tmp_path / "uploads.jsonl", upload_token=elsewhere)
    with pytest.raises(SentryToolError) as failed:
        p.create(checked(p, **props(builds["a"], project, "shop@3.0")))
    assert "sentry-cli exited" in str(failed.value) and elsewhere not in str(failed.value)
    assert bundles(ls, project) == [] and not (tmp_path / "uploads.jsonl").exists()  # nothing recorded


def test_a_folder_rebuilt_after_the_program_read_it(localsentry_session: LocalSentry, builds: dict[str, Build],
                                                   tmp_path: Path) -> None:  # fmt: skip
    ls = localsentry_session
    project = ls.create_project(name=unique("rebuilt"), platform="javascript")["slug"]
    p = provider(ls, tmp_path / "uploads.jsonl")
    folder = tmp_path / "dist"
    shutil.copytree(builds["a"].dist, folder)
    inputs = checked(p, project=project, release="shop@4.0", path=str(folder), bundleHash=bundle_hash(folder))
    next(folder.rglob("*.map")).write_text("{}")
    ls.reset_stats()
    with pytest.raises(SentryToolError, match="changed after the program read them"):
        p.create(inputs)
    assert calls(ls) == {}


def test_check_names_every_bad_input(localsentry_session: LocalSentry, tmp_path: Path) -> None:
    p = provider(localsentry_session, tmp_path / "uploads.jsonl")
    result = p.check({}, {"project": "Not A Slug", "release": "a/b", "path": "", "bundleHash": "xyz",
                          "urlPrefix": "/static", "dist": "two words"})  # fmt: skip
    reasons = {f.property: f.reason for f in result.failures}
    assert set(reasons) == {"project", "release", "path", "bundleHash", "urlPrefix", "dist"}
    assert URL_PREFIX_RULE in reasons["urlPrefix"] and "SHA-256" in reasons["bundleHash"]


def test_through_the_plugin_with_the_upload_token_as_its_secret_input(
    localsentry_session: LocalSentry, builds: dict[str, Build], tmp_path: Path
) -> None:
    """The plugin process (as the engine runs it, in the project directory) uploads with its `uploadToken` input:
    another organization's token fails in one line without the token; the right one uploads once, and the state has
    neither token; read and an unchanged diff send no upload; delete leaves the bundle."""
    ls = localsentry_session
    project = ls.create_project(name=unique("plugged"), platform="javascript")["slug"]
    declared = props(builds["a"], project, "shop@5.0")
    elsewhere = ls.create_token(["org:ci"], kind="org", organization=ls.create_org())
    token = ls.create_token(["org:ci"], kind="org")
    connection = {"baseUrl": ls.url, "organization": ls.org, "token": ls.token}
    wrong = Plugin(tmp_path)
    try:
        wrong.configure({**connection, "uploadToken": elsewhere})
        with pytest.raises(PluginError) as failed:
            wrong.create("SourceMaps", wrong.check("SourceMaps", declared)[0])
        assert "sentry-cli exited" in failed.value.details and elsewhere not in failed.value.details
        assert "\n" not in failed.value.details.strip()
    finally:
        wrong.close()
    plugin = Plugin(tmp_path)
    try:
        plugin.configure({**connection, "uploadToken": token})
        inputs, failures = plugin.check("SourceMaps", declared)
        assert failures == []
        ls.reset_stats()
        id_, created = plugin.create("SourceMaps", inputs)
        assert calls(ls) == {UPLOAD[0]: 1, UPLOAD[1]: 1, UPLOAD[2]: 3}
        [bundle] = bundles(ls, project)
        state = {k: v.value for k, v in created.items()}
        assert state["bundleId"] == bundle["bundleId"] and token not in repr(state) and ls.token not in repr(state)
        assert (tmp_path / ".sentry-stacks" / "source-map-uploads.jsonl").exists()  # the project directory's record
        ls.reset_stats()
        assert plugin.read("SourceMaps", id_, state).id == id_
        assert plugin.diff("SourceMaps", id_, state, inputs).changes == proto.DiffResponse.DIFF_NONE
        plugin.delete("SourceMaps", id_, state)
        assert set(calls(ls)) == {"GET /api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/files/"
                                  "artifact-bundles/"} and len(bundles(ls, project)) == 1  # fmt: skip
    finally:
        plugin.close()
