"""JavaScript symbolication at ingest, end to end: a real app (the real `@sentry/browser`, esbuild, hidden maps, debug
ids injected and uploaded by the real sentry-cli) throws in headless Chromium, and the event read back through
Sentry's events API has Sentry's shape for a resolved frame; frames without a map stay as they were and the event
says why; a bundle without debug ids resolves by release and URL; two builds of the same code group into one issue;
the localsentry page shows the original lines.

Needs npm, the pinned sentry-cli and Chromium; without them it skips locally and fails with CI=true.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.js_support import static_site
from tests.support.localsentry import LocalSentry, chromium_path, needed, unique
from tests.support.sourcemaps import Build, SentryCli, Toolchain, in_page, issue_frame_on_page, write_page

pytestmark = [pytest.mark.sentry, pytest.mark.browser]
THROW_LINE = '    throw new Error("payment declined: " + total);'


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        needed("Chromium is needed for the symbolication test (apt-get install chromium)")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("symbolication"), rate_limit=0)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Toolchain:
    return Toolchain.install(tmp_path_factory.mktemp("js-toolchain"))


@contextmanager
def served(build: Build, ls: LocalSentry, project: str, release: str) -> Iterator[str]:
    with static_site(build.site) as url:
        write_page(build, json.dumps({"dsn": ls.dsn(project), "release": release}))
        yield url


def click_pay(chromium: str, url: str) -> None:
    def act(page: Any) -> None:
        page.wait_for_function("window.SENTRY_READY === true")
        page.click("#pay")
        page.wait_for_timeout(300)

    in_page(chromium, url, act)


def wait_event(ls: LocalSentry, project: str, count: int = 1) -> dict[str, Any]:
    """The newest error event of the project once `count` have arrived (as stored: the event JSON)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = ls.items(project, type="event")
        if len(items) >= count:
            return dict(items[0])
        time.sleep(0.2)
    raise AssertionError(f"no error event in {project}")


def event_api(ls: LocalSentry, project: str, event_id: str) -> dict[str, Any]:
    return dict(ls.get_json(f"/api/0/projects/{ls.org}/{project}/events/{event_id}/"))


def frames(event: dict[str, Any]) -> list[dict[str, Any]]:
    [entry] = [e for e in event["entries"] if e["type"] == "exception"]
    return list(entry["data"]["values"][-1]["stacktrace"]["frames"])


def thrower(event: dict[str, Any]) -> dict[str, Any]:
    return frames(event)[-1]  # the innermost frame: where the error was thrown


def symbolicated(ls: LocalSentry, tools: Toolchain, chromium: str, tmp: Path, *, variant: str = "a",
                 inject: bool = True) -> tuple[str, dict[str, Any], Build]:  # fmt: skip
    """A project, a build uploaded to it with the real CLI, a click; (project, the stored event, the build)."""
    project = ls.create_project(name=unique("shop"), platform="javascript")["slug"]
    build = tools.build(tmp / variant, variant=variant, inject=inject)
    SentryCli(ls).upload(build.dist, project=project, release="shop@1.0")
    with served(build, ls, project, "shop@1.0") as url:
        click_pay(chromium, url)
    return project, wait_event(ls, project), build


def test_a_resolved_frame_has_sentrys_shape(ls: LocalSentry, tools: Toolchain, chromium: str, tmp_path: Path) -> None:
    project, stored, build = symbolicated(ls, tools, chromium, tmp_path)
    event = event_api(ls, project, stored["eventId"])
    frame = thrower(event)
    assert (frame["filename"], frame["function"], frame["lineNo"]) == ("../../src/checkout.mjs", "validateTotal", 8)
    assert frame["absPath"].endswith("/src/checkout.mjs") and frame["absPath"].startswith("http://127.0.0.1:")
    assert (frame["module"], frame["colNo"], frame["inApp"]) == ("src/checkout", 11, True)
    assert [line for no, line in frame["context"] if no == 8] == [THROW_LINE]
    assert [no for no, _ in frame["context"]] == list(range(3, 12))  # 5 lines before, the line, 3 to the end
    assert frame["map"] == f"{build.script}.map" and frame["mapUrl"].endswith(f"/assets/{build.script}.map")
    caller = frames(event)[-2]
    assert (caller["function"], caller["filename"]) == ("payOrder", "../../src/checkout.mjs")
    sdk = [f for f in frames(event) if "node_modules/@sentry" in (f["absPath"] or "")]
    assert sdk and not any(f["inApp"] for f in sdk)  # the SDK's own frames: resolved, not the app's code
    assert event["errors"] == []

    raw = ls.get_json(f"/api/0/projects/{ls.org}/{project}/events/{stored['eventId']}/json/")
    resolved = raw["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert resolved["data"] == {"symbolicated": True, "resolved_with": "debug-id", "sourcemap": frame["mapUrl"]}
    assert (resolved["context_line"], resolved["pre_context"][-1]) == (THROW_LINE, "  if (total > 100) {")
    minified = raw["exception"]["values"][-1]["raw_stacktrace"]["frames"][-1]
    assert minified["abs_path"].endswith(f"/assets/{build.script}") and minified["colno"] > 1000  # one long line
    assert minified["function"] != "validateTotal" and "data" not in minified
    assert build.debug_id() in [i["debug_id"] for i in raw["debug_meta"]["images"]]


def test_frames_without_a_map_stay_and_say_why(ls: LocalSentry, tools: Toolchain, chromium: str,
                                               tmp_path: Path) -> None:  # fmt: skip
    project = ls.create_project(name=unique("nomaps"), platform="javascript")["slug"]
    build = tools.build(tmp_path / "a")  # built, never uploaded
    with served(build, ls, project, "shop@1.0") as url:
        click_pay(chromium, url)
    stored = wait_event(ls, project)
    event = event_api(ls, project, stored["eventId"])
    frame = thrower(event)
    assert frame["absPath"].endswith(f"/assets/{build.script}") and frame["filename"] == f"/assets/{build.script}"
    assert frame["function"] != "validateTotal" and frame["colNo"] > 1000 and "map" not in frame
    assert event["errors"] == [{"type": "js_no_source", "message": "Source code was not found",
                                "data": {"url": frame["absPath"], "symbolicator_type": "missing_source"}}]  # fmt: skip
    assert "raw_stacktrace" not in stored["payload"]["exception"]["values"][-1]


def test_a_bundle_without_debug_ids_resolves_by_release_and_url(ls: LocalSentry, tools: Toolchain, chromium: str,
                                                                tmp_path: Path) -> None:  # fmt: skip
    project, stored, _ = symbolicated(ls, tools, chromium, tmp_path, inject=False)
    assert "debug_meta" not in stored["payload"] or not stored["payload"]["debug_meta"].get("images")
    raw = ls.get_json(f"/api/0/projects/{ls.org}/{project}/events/{stored['eventId']}/json/")
    frame = raw["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert (frame["function"], frame["lineno"], frame["data"]["resolved_with"]) == ("validateTotal", 8, "release")


def test_two_builds_of_the_same_code_are_one_issue(ls: LocalSentry, tools: Toolchain, chromium: str,
                                                  tmp_path: Path) -> None:  # fmt: skip
    project = ls.create_project(name=unique("builds"), platform="javascript")["slug"]
    cli = SentryCli(ls)
    seen: list[dict[str, Any]] = []
    for n, variant in enumerate(("a", "b", "changed"), start=1):
        build = tools.build(tmp_path / variant, variant=variant)
        cli.upload(build.dist, project=project, release=f"shop@{variant}")
        with served(build, ls, project, f"shop@{variant}") as url:
            click_pay(chromium, url)
        seen.append(ls.get_json(f"/_localsentry/projects/{ls.org}/{project}/items/", type="event")[0])
        assert len(ls.items(project, type="event")) == n
    raws = [s["payload"]["exception"]["values"][-1]["raw_stacktrace"]["frames"][-1] for s in seen]
    assert len({r["abs_path"] for r in raws}) == 3  # three content hashes
    assert len({(r["function"], r["lineno"], r["colno"]) for r in raws}) == 3  # and three minified positions
    issues = ls.get_json(f"/api/0/projects/{ls.org}/{project}/issues/")
    assert len(issues) == 1 and issues[0]["count"] == "3"
    lines = [s["payload"]["exception"]["values"][-1]["stacktrace"]["frames"][-1]["lineno"] for s in seen]
    assert lines == [8, 8, 9]  # the changed build's line moved; its issue did not


def test_the_page_shows_the_original_lines(ls: LocalSentry, tools: Toolchain, chromium: str, tmp_path: Path) -> None:
    project, _, _ = symbolicated(ls, tools, chromium, tmp_path)
    [issue] = ls.get_json(f"/api/0/projects/{ls.org}/{project}/issues/")
    summary, hit = issue_frame_on_page(chromium, ls, issue["id"])
    assert summary.startswith("../../src/checkout.mjs in validateTotal at line 8:11"), summary
    assert "source map" in summary and hit.strip().endswith(THROW_LINE.strip()), hit


def test_events_that_need_nothing_are_stored_as_sent(ls: LocalSentry) -> None:
    project = ls.create_project(name=unique("py"), platform="python")["slug"]
    key = ls.keys(project)[-1]
    frames_sent = [{"filename": "shop/pay.py", "abs_path": "/app/shop/pay.py", "function": "pay", "lineno": 12}]
    sent = {"event_id": uuid.uuid4().hex, "platform": "python", "level": "error", "release": "shop@1.0",
            "exception": {"values": [{"type": "ValueError", "value": "declined",
                                      "stacktrace": {"frames": frames_sent}}]}}  # fmt: skip
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={key['public']}, sentry_version=7"}
    assert ls.api("POST", f"/api/{key['projectId']}/store/", json=sent, headers=auth, token=None).status_code == 200
    assert wait_event(ls, project)["payload"] == sent  # not a byte changed: no JavaScript, nothing to do
