"""Readable browser stack traces, end to end: the real production build of the reference frontend (Vite with hidden
source maps, debug ids injected by the real sentry-cli, `scripts/build-frontend`), its real image, the dev stack's
`pulumi up` (real CLI, containers, localsentry) uploading the maps with the real `sentry-cli` and an `org:ci` token,
and a click on "Test Sentry" in Chromium: the issue shows `src/routes/+page.svelte`, `testSentry` and the line of
the `throw`, in the events API and on the localsentry page.

* The image serves no source map (none in its public folder; `…/*.js.map` answers 404; no `sourceMappingURL`).
* A second build of the same code is the same upload (same content hash, same image): `up` sends Sentry nothing but
  its one connection check (the preflight's read of the organization) and the next click is the same issue.
* A build with a change uploads once more (and records the new rollout's deploy), nothing else; its error is still
  the same issue, at the new line.
* The upload token never shows in the state or the CLI's output.

Runs under the shared e2e lock with this worktree's own images (SENTRY_STACKS_IMAGE_PREFIX): the test builds three
frontend images of its own (tags `sm-<run>-a|b|c`) from copies of `demo/frontend` and removes them afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.sentry.source_maps_upload import bundle_hash
from tests.e2e.docker_support import DemoImages, demo_images, docker, image_prefix, require_docker
from tests.e2e.stack_support import AppStack, copy_project, wait_http
from tests.support.localsentry import LocalSentry, chromium_path, needed
from tests.support.sourcemaps import in_page, issue_frame_on_page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "demo" / "frontend"
THROW = 'throw new Error("Sentry Stacks frontend test error");'
UPLOAD = {"GET /api/0/organizations/{organization_id_or_slug}/chunk-upload/",
          "POST /api/0/organizations/{organization_id_or_slug}/chunk-upload/",
          "POST /api/0/organizations/{organization_id_or_slug}/artifactbundle/assemble/"}  # fmt: skip
DEPLOY = "POST /api/0/organizations/{organization_id_or_slug}/releases/{version}/deploys/"
#: the provider's preflight (check_config, once per `up`): the organization, and one workflow listing (alerts)
PREFLIGHT = {"GET /api/0/organizations/{organization_id_or_slug}/": 1,
             "GET /api/0/organizations/{organization_id_or_slug}/workflows/": 1}


@dataclass(frozen=True)
class FrontendBuild:
    image: str
    maps: Path
    throw_line: int  # the line of the `throw` in the build's +page.svelte


def build_frontend(tmp: Path, images: DemoImages, name: str, run: str, *, change: bool = False) -> FrontendBuild:
    """A production build of a copy of demo/frontend (its node_modules and production deploy/ of the repository's
    `scripts/build-images`), with `change`: one statement more above the button's handler."""
    src = tmp / f"front-{name}"
    ignore = shutil.ignore_patterns("node_modules", "build", "deploy", ".svelte-kit", "vendor")
    shutil.copytree(FRONTEND, src, ignore=ignore)
    (src / "node_modules").symlink_to(FRONTEND / "node_modules")
    shutil.copytree(FRONTEND / "deploy", src / "deploy", symlinks=True)
    page = src / "src" / "routes" / "+page.svelte"
    if change:
        text = page.read_text()
        page.write_text(text.replace("  function testSentry() {", "  const clicks = [];\n\n  function testSentry() {\n"
                                     "    clicks.push(Date.now());", 1))  # fmt: skip
    throw_line = next(n for n, line in enumerate(page.read_text().splitlines(), 1) if THROW in line)
    maps = tmp / f"maps-{name}"
    subprocess.run([str(ROOT / "scripts" / "build-frontend"), "--src", str(src), "--maps", str(maps)],
                   check=True, capture_output=True, text=True, timeout=900)  # fmt: skip
    image = f"{image_prefix()}frontend:sm-{run}-{name}"
    docker("build", "--build-arg", f"BASE_IMAGE={images.node_base}", "--build-arg", "OFFLINE=1", "-t", image,
           str(src), timeout=900)  # fmt: skip
    return FrontendBuild(image, maps, throw_line)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        needed("Chromium is needed (apt-get install chromium)")
    return str(path)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_docker()
    images = demo_images()
    tmp = tmp_path_factory.mktemp("sourcemaps")
    run = uuid.uuid4().hex[:6]
    builds = {"a": build_frontend(tmp, images, "a", run)}
    ls = LocalSentry.start(tmp / "ls")
    stack = None
    try:  # a skip or failure while creating the stack stops localsentry too
        token = ls.create_token(["org:ci"], kind="org")  # the least an upload needs
        stack = AppStack.create(copy_project(tmp / "proj", ls), "dev", f"e2e-sm-{run}")
        stack.run("config", "set", "--path", "sentry-stacks:serviceOverrides.frontend.image", builds["a"].image)
        stack.run("config", "set", "--path", "sentry-stacks:serviceOverrides.frontend.sentry.sourceMaps.path",
                  str(builds["a"].maps))  # fmt: skip
        stack.config_set("sentry:uploadToken", token, secret=True)
        ls.reset_stats()
        first = stack.up()
        yield {"ls": ls, "stack": stack, "tmp": tmp, "run": run, "images": images, "builds": builds,
               "token": token, "first": {"calls": api_calls(ls), "output": first.stdout + first.stderr}}
    finally:
        if stack is not None:
            stack.run("destroy", "--yes", check=False)
        ls.stop()
        for build in builds.values():
            docker("rmi", build.image, check=False)


def api_calls(ls: LocalSentry) -> dict[str, int]:
    return {k: v for k, v in ls.stats()["by_route"].items() if " /api/0/" in k}


def click_test_sentry(chromium: str, url: str) -> None:
    def act(page: Any) -> None:
        # generous waits (Playwright's default is 30 s): on a loaded 2-core machine the page's first load, the SDK's
        # start and the handler can take longer; the assertions are on what arrives, not on how fast
        page.wait_for_selector("body[data-ready=true]", timeout=120_000)
        # the load's backend call has answered (the page shows the newest action's outcome either way:
        # test_images.py's test_a_late_backend_answer_never_overwrites_a_newer_status)
        page.wait_for_function("document.getElementById('status').textContent.length > 0", timeout=120_000)
        page.click("#test-sentry", timeout=120_000)
        page.wait_for_function("document.getElementById('status').textContent.includes('threw')", timeout=120_000)
        page.wait_for_timeout(500)

    in_page(chromium, url, act)


def clicked(ls: LocalSentry, project: str) -> list[dict[str, Any]]:
    """The button's errors stored so far, newest first."""
    return [i for i in ls.items(project, type="event") if "frontend test error" in json.dumps(i["payload"])]


def button_events(ls: LocalSentry, project: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = clicked(ls, project)
        if len(found) >= count:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{count} button errors did not arrive in {project}")


def thrower(ls: LocalSentry, project: str, event_id: str) -> dict[str, Any]:
    event = ls.get_json(f"/api/0/projects/{ls.org}/{project}/events/{event_id}/")
    [entry] = [e for e in event["entries"] if e["type"] == "exception"]
    return dict(entry["data"]["values"][-1]["stacktrace"]["frames"][-1])


def test_the_build_serves_no_source_map(deployed: dict[str, Any]) -> None:
    build = deployed["builds"]["a"]
    found = docker("run", "--rm", "--entrypoint", "find", build.image, "/app/build/client", "-name", "*.map")
    assert found.stdout.strip() == ""
    maps = sorted(p.relative_to(build.maps) for p in build.maps.rglob("*.map"))
    assert maps and all(str(p).startswith("_app/immutable/") for p in maps)
    url = deployed["stack"].outputs()["serviceUrls"]["frontend"]
    script = next(p for p in build.maps.rglob("nodes/*.js") if "frontend test error" in p.read_text())
    served = wait_http(f"{url}/{script.relative_to(build.maps)}")
    assert "//# debugId=" in served.text and "sourceMappingURL" not in served.text
    assert requests.get(f"{url}/{script.relative_to(build.maps)}.map", timeout=10).status_code == 404


def test_one_upload_and_the_issue_shows_the_source(deployed: dict[str, Any], chromium: str) -> None:
    ls, stack = deployed["ls"], deployed["stack"]
    calls = deployed["first"]["calls"]
    assert calls["GET /api/0/organizations/{organization_id_or_slug}/chunk-upload/"] == 1
    assert calls["POST /api/0/organizations/{organization_id_or_slug}/artifactbundle/assemble/"] == 3
    outputs = stack.outputs()
    project = outputs["sentryProjects"]["frontend"]
    [bundle] = ls.get_json(f"/api/0/projects/{ls.org}/{project}/files/artifact-bundles/")
    assert outputs["sourceMaps"] == {"frontend": bundle["bundleId"]}
    assert bundle["associations"] == [{"release": outputs["release"], "dist": None}]
    token = deployed["token"]
    assert token not in stack.state_text() and token not in deployed["first"]["output"]

    click_test_sentry(chromium, outputs["serviceUrls"]["frontend"])
    [event] = button_events(ls, project, 1)
    frame = thrower(ls, project, event["eventId"])
    line = deployed["builds"]["a"].throw_line
    assert frame["filename"].endswith("src/routes/+page.svelte") and frame["function"] == "testSentry"
    assert frame["lineNo"] == line and frame["inApp"] is True and frame["map"].endswith(".js.map")
    assert dict(frame["context"])[line].strip() == THROW
    [issue] = ls.get_json(f"/api/0/projects/{ls.org}/{project}/issues/")
    deployed["issue"] = issue["id"]
    summary, hit = issue_frame_on_page(chromium, ls, issue["id"])
    assert "src/routes/+page.svelte in testSentry at line " + str(line) in summary, summary
    assert THROW in hit


def test_the_same_code_again_uploads_nothing_and_is_the_same_issue(deployed: dict[str, Any], chromium: str) -> None:
    ls, stack, builds = deployed["ls"], deployed["stack"], deployed["builds"]
    builds["b"] = build_frontend(deployed["tmp"], deployed["images"], "b", deployed["run"])
    assert bundle_hash(builds["b"].maps) == bundle_hash(builds["a"].maps)  # a reproducible build
    ids = {docker("image", "inspect", "--format", "{{.Id}}", builds[n].image).stdout.strip() for n in "ab"}
    assert len(ids) == 1  # and the same image
    stack.run("config", "set", "--path", "sentry-stacks:serviceOverrides.frontend.sentry.sourceMaps.path",
              str(builds["b"].maps))  # fmt: skip
    ls.reset_stats()
    stack.up()
    assert api_calls(ls) == PREFLIGHT  # nothing to upload, nothing else to do
    outputs = stack.outputs()
    project = outputs["sentryProjects"]["frontend"]
    before = len(clicked(ls, project))  # 1 after the test above (counted, so that this test stands on its own)
    click_test_sentry(chromium, outputs["serviceUrls"]["frontend"])
    button_events(ls, project, before + 1)
    [issue] = ls.get_json(f"/api/0/projects/{ls.org}/{project}/issues/")
    assert issue["count"] == str(before + 1) and issue["id"] == deployed.get("issue", issue["id"])


def test_a_changed_build_uploads_once_more_and_stays_one_issue(deployed: dict[str, Any], chromium: str) -> None:
    ls, stack, builds = deployed["ls"], deployed["stack"], deployed["builds"]
    builds["c"] = build_frontend(deployed["tmp"], deployed["images"], "c", deployed["run"], change=True)
    assert bundle_hash(builds["c"].maps) != bundle_hash(builds["a"].maps)
    stack.run("config", "set", "--path", "sentry-stacks:serviceOverrides.frontend.image", builds["c"].image)
    stack.run("config", "set", "--path", "sentry-stacks:serviceOverrides.frontend.sentry.sourceMaps.path",
              str(builds["c"].maps))  # fmt: skip
    ls.reset_stats()
    stack.up()
    calls = api_calls(ls)
    writes = {k for k in calls if not k.startswith("GET ")}
    # one upload (its options, chunk and assembly) and the deploy record of the new rollout; nothing else written
    assert writes <= UPLOAD | {DEPLOY} and calls[DEPLOY] == 1
    assert calls["GET /api/0/organizations/{organization_id_or_slug}/chunk-upload/"] == 1
    assert calls["POST /api/0/organizations/{organization_id_or_slug}/chunk-upload/"] >= 1
    outputs = stack.outputs()
    project = outputs["sentryProjects"]["frontend"]
    assert len(ls.get_json(f"/api/0/projects/{ls.org}/{project}/files/artifact-bundles/")) == 2
    stack.wait_healthy(timeout=300)
    before = len(clicked(ls, project))  # 2 after the tests above
    click_test_sentry(chromium, outputs["serviceUrls"]["frontend"])
    events = button_events(ls, project, before + 1)
    frame = thrower(ls, project, events[0]["eventId"])
    assert (frame["function"], frame["lineNo"]) == ("testSentry", builds["c"].throw_line)
    assert builds["c"].throw_line == builds["a"].throw_line + 3
    raws = {e["payload"]["exception"]["values"][-1]["raw_stacktrace"]["frames"][-1]["abs_path"] for e in events}
    assert len(raws) == (2 if before else 1)  # the changed build serves its handler from another content-hashed file
    [issue] = ls.get_json(f"/api/0/projects/{ls.org}/{project}/issues/")
    assert issue["count"] == str(before + 1)
