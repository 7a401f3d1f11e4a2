"""Releases, deploys and Celery beat cron monitors of the dev stack, through the real CLI, containers and localsentry.

* `pulumi up` creates the release once in both projects and, once every container is healthy, one deploy of it to
  `development` whose start and finish bracket the containers' start; a rerun records nothing; a rollout whose
  containers never get healthy records no deploy; `destroy` leaves the (shared) releases in Sentry.
* The beat service's one-minute heartbeat shows an `ok` check-in under the monitor's slug, an `error` one while the
  task is made to fail, and a `missed` one within the margin once beat is stopped. This part needs localsentry's
  monitors and check-ins API (issue 13); without it, it skips (and fails with CI=true).

Images: the shared demo images (`scripts/build-images`). With SENTRY_STACKS_E2E_BACKEND_IMAGE set, that image
runs backend, worker and beat instead (a branch's own build, so as not to retag the shared ones).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import yaml

from tests.e2e.docker_support import demo_images, require_docker
from tests.e2e.stack_support import AppStack, copy_project
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.e2e
MONITORS = "/api/0/organizations/{organization_id_or_slug}/monitors/"


def _has_monitors() -> bool:
    try:
        from localsentry.routes import build_router  # where the router lives since issue 13
    except ImportError:
        from localsentry.api import build_router  # type: ignore[attr-defined,no-redef]

    return any(r.template == MONITORS and r.method == "POST" for r in build_router().routes)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def set_stack_config(stack: AppStack, key: str, value: Any, *path: str) -> None:
    """Set a structured value (at `path` inside `key`) in the copy's stack file: the CLI's `config set` reads
    every value as a string or a YAML scalar (`false` becomes a boolean)."""
    file = stack.workdir / f"Pulumi.{stack.stack}.yaml"
    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    node = data.setdefault("config", {})
    *parents, last = (key, *path)
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def when(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_docker()
    backend_image = os.environ.get("SENTRY_STACKS_E2E_BACKEND_IMAGE")
    if not backend_image:
        demo_images()
    tmp = tmp_path_factory.mktemp("releases")
    ls = LocalSentry.start(tmp / "ls")
    work = copy_project(tmp / "proj", ls)
    release = f"e2e-rel-{uuid.uuid4().hex[:8]}"
    stack = AppStack.create(work, "dev", release)
    stack.config_set("sentry-stacks:healthTimeout", "900")  # a loaded CI machine: healthchecks may time out a while
    if backend_image:
        for service in ("backend", "worker", "beat"):
            stack.run("config", "set", "--path", f"sentry-stacks:serviceOverrides.{service}.image", backend_image)
    if not _has_monitors():
        set_stack_config(stack, "sentry-stacks:cronMonitors", {})  # the release part runs without the monitors API
    try:
        started = time.time()
        stack.up()
        yield {"ls": ls, "stack": stack, "release": release, "started": started}
    finally:
        stack.run("destroy", "--yes", check=False)
        ls.stop()


def _deploys(ls: LocalSentry, version: str) -> list[dict[str, Any]]:
    response = ls.api("GET", f"/api/0/organizations/{ls.org}/releases/{version}/deploys/")
    assert response.status_code == 200, response.text
    return list(response.json())


def _release(ls: LocalSentry, version: str) -> dict[str, Any] | None:
    response = ls.api("GET", f"/api/0/organizations/{ls.org}/releases/{version}/")
    return dict(response.json()) if response.status_code == 200 else None


def test_release_in_both_projects_and_one_deploy_after_the_containers(dev: dict[str, Any]) -> None:
    ls, stack, release = dev["ls"], dev["stack"], dev["release"]
    outputs = stack.outputs()
    assert outputs["sentryRelease"] == release
    live = _release(ls, release)
    assert live is not None
    assert sorted(p["slug"] for p in live["projects"]) == sorted(outputs["sentryProjects"].values())
    [deploy] = _deploys(ls, release)
    assert deploy["environment"] == "development" and deploy["id"] == outputs["sentryDeploy"]
    assert deploy["name"].startswith("dev-")
    # the rollout began before the containers started, and was recorded once they were healthy
    containers = stack.wait_healthy()
    assert len(containers) == 5
    starts = [when(c["State"]["StartedAt"][:26] + "Z") for c in containers]
    assert dev["started"] - 1 <= when(deploy["dateStarted"]) <= min(starts) + 1
    assert when(deploy["dateFinished"]) >= max(starts)
    # a rerun with nothing new records nothing
    preview = stack.run("preview", "--diff", "--expect-no-changes")
    assert preview.returncode == 0
    stack.up()
    assert len(_deploys(ls, release)) == 1 and live["id"] == (_release(ls, release) or {}).get("id")


def _checkin_items(ls: LocalSentry, project: str, slug: str) -> list[dict[str, Any]]:
    """The check-ins of `slug` that reached ingest, oldest first, each with localsentry's `received` time."""
    items = ls.items(project, type="check_in")
    found = [{**i["payload"], "received": float(i["received"])} for i in items
             if isinstance(i.get("payload"), dict) and i["payload"].get("monitor_slug") == slug]
    return sorted(found, key=lambda c: c["received"])


def _wait_checkin_item(
    ls: LocalSentry, project: str, slug: str, status: str, after: float, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen: list[Any] = []
    while time.monotonic() < deadline:
        found = _checkin_items(ls, project, slug)
        seen = [c.get("status") for c in found]
        ours = [c for c in found if c.get("status") == status and c["received"] >= after]
        if ours:
            return ours[-1]
        time.sleep(2)
    raise AssertionError(f"no {status!r} check-in of {slug} reached ingest within {timeout:.0f} s; seen: {seen}")


def test_beat_check_ins_reach_ingest_under_the_monitor_slug(dev: dict[str, Any]) -> None:
    """The SDK side of cron monitoring, real beat + worker + sentry-sdk + ingest (no monitors API needed)."""
    ls, stack = dev["ls"], dev["stack"]
    project = stack.outputs()["sentryProjects"]["backend"]
    slug = "heartbeat-dev"
    ok = _wait_checkin_item(ls, project, slug, "ok", 0, timeout=150)
    assert ok["environment"] == "development" and ok["release"] == dev["release"]
    assert ok.get("monitor_config", {}).get("schedule") == {"type": "crontab", "value": "* * * * *"}
    worker = _container(stack, "worker")
    subprocess.run(["docker", "exec", worker, "touch", "/tmp/demo-heartbeat-fail"], check=True, timeout=30)
    since = time.time()
    failed = _wait_checkin_item(ls, project, slug, "error", since, timeout=150)
    assert failed["check_in_id"] in {c.get("check_in_id") for c in _checkin_items(ls, project, slug)
                                     if c.get("status") == "in_progress"}  # beat opened it, the worker closed it
    subprocess.run(["docker", "exec", worker, "rm", "-f", "/tmp/demo-heartbeat-fail"], check=True, timeout=30)


def test_failed_rollout_records_no_deploy_and_destroy_keeps_shared_releases(dev: dict[str, Any]) -> None:
    ls, stack, release = dev["ls"], dev["stack"], dev["release"]
    broken = f"{release}-broken"
    stack.config_set("sentry-stacks:release", broken)
    stack.config_set("sentry-stacks:healthTimeout", "20")
    never_healthy = ["CMD", "node", "-e", "process.exit(1)"]  # the frontend image has Node, no Python
    set_stack_config(stack, "sentry-stacks:serviceOverrides", never_healthy, "frontend", "healthcheck", "test")
    failed = stack.run("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0, failed.stdout[-2000:]
    assert "not healthy" in failed.stdout + failed.stderr
    assert _release(ls, broken) is not None  # the release exists (events of the new containers point at it) ...
    assert _deploys(ls, broken) == []  # ... but it was never deployed
    assert len(_deploys(ls, release)) == 1
    stack.run("destroy", "--yes")
    # shared projects: other stacks' history points at these releases; destroy never deletes them
    assert _release(ls, release) is not None and _release(ls, broken) is not None


@pytest.fixture(scope="module")
def crons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not _has_monitors():
        message = "localsentry has no cron monitors / check-ins API yet (issue 13): the check-in e2e cannot run"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    require_docker()
    backend_image = os.environ.get("SENTRY_STACKS_E2E_BACKEND_IMAGE")
    if not backend_image:
        demo_images()
    tmp = tmp_path_factory.mktemp("crons")
    ls = LocalSentry.start(tmp / "ls")
    stack = AppStack.create(copy_project(tmp / "proj", ls), "dev", f"e2e-cron-{uuid.uuid4().hex[:8]}")
    stack.config_set("sentry-stacks:healthTimeout", "900")  # a loaded CI machine: healthchecks may time out a while
    if backend_image:
        for service in ("backend", "worker", "beat"):
            stack.run("config", "set", "--path", f"sentry-stacks:serviceOverrides.{service}.image", backend_image)
    try:
        stack.up()
        yield {"ls": ls, "stack": stack, "slug": stack.outputs()["cronMonitors"]["heartbeat"]}
    finally:
        stack.run("destroy", "--yes", check=False)
        ls.stop()


def _wait_checkin(ls: LocalSentry, slug: str, status: str, after: float, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        response = ls.api("GET", f"/api/0/organizations/{ls.org}/monitors/{slug}/checkins/")
        if response.status_code == 200:
            checkins = list(response.json())
            seen = [str(c.get("status")) for c in checkins]
            for checkin in checkins:
                if checkin.get("status") == status and when(str(checkin.get("dateCreated"))) >= after:
                    return dict(checkin)
        time.sleep(2)
    raise AssertionError(f"no {status!r} check-in of {slug} within {timeout:.0f} s; seen: {seen}")


def _container(stack: AppStack, service: str) -> str:
    for c in stack.containers():
        if c["Config"]["Labels"].get("com.docker.compose.service") == service:
            return str(c["Name"]).lstrip("/")
    raise AssertionError(f"no {service} container")


def test_beat_heartbeat_checks_in_ok_error_and_missed(crons: dict[str, Any]) -> None:
    ls, stack, slug = crons["ls"], crons["stack"], crons["slug"]
    monitor = ls.api("GET", f"/api/0/organizations/{ls.org}/monitors/{slug}/").json()
    assert monitor["config"]["schedule"] == "* * * * *" and monitor["config"]["checkin_margin"] == 1
    ok = _wait_checkin(ls, slug, "ok", 0, timeout=150)
    assert ok["environment"] == "development"
    worker = _container(stack, "worker")
    subprocess.run(["docker", "exec", worker, "touch", "/tmp/demo-heartbeat-fail"], check=True, timeout=30)
    failing_since = time.time()
    _wait_checkin(ls, slug, "error", failing_since, timeout=150)
    subprocess.run(["docker", "exec", worker, "rm", "-f", "/tmp/demo-heartbeat-fail"], check=True, timeout=30)
    subprocess.run(["docker", "stop", _container(stack, "beat")], check=True, timeout=60, capture_output=True)
    stopped = time.time()
    # the next run was due within a minute; Sentry marks it missed once the 1-minute margin has passed
    missed = _wait_checkin(ls, slug, "missed", stopped, timeout=60 + 60 + 45)
    assert when(str(missed["dateCreated"])) - stopped <= 60 + 60 + 45

