"""The reference app's dev and prod stacks through the real CLI, real containers and a real localsentry.

`pulumi up -s dev` and `-s prod` in one run: containers healthy with the rendered env; the debug endpoint's
error and the browser button's error arrive with the right environment, release and user; the SvelteKit
frontend's login flow (frontend_support.py: user on both sides, replay, shared trace, Node error); over 400 requests
the share of sampled transactions matches each stack's rate (binomial, 6 sigma); preview after up is empty;
destroy removes containers and files.
"""

from __future__ import annotations

import math
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.render import LIVE_DIR, LIVE_ENV_VAR, LIVE_KEYS
from tests.e2e.docker_support import demo_images, require_docker
from tests.e2e.frontend_support import FrontendTarget, check_login_flow
from tests.e2e.stack_support import DESKTOP_UA, AppStack, copy_project, wait_http
from tests.support.localsentry import CHROMIUM_ARGS, LocalSentry

pytestmark = pytest.mark.e2e
REQUESTS = 400


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_docker()
    demo_images()
    tmp = tmp_path_factory.mktemp("stacks")
    ls = LocalSentry.start(tmp / "ls")
    work = copy_project(tmp / "proj", ls)
    release = f"e2e-{uuid.uuid4().hex[:8]}"
    stacks = {name: AppStack.create(work, name, release) for name in ("dev", "prod")}
    try:
        for stack in stacks.values():
            preview = stack.run("preview", "--diff")  # a fresh stack previews cleanly (unknowns tolerated)
            assert "create" in preview.stdout
            stack.up()
        yield {"ls": ls, "stacks": stacks, "release": release, "work": work}
    finally:
        for stack in stacks.values():
            stack.run("destroy", "--yes", check=False)
        ls.stop()


def _env_text(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = value.strip('"').strip("'")
    return out


def _env_file(path: str) -> dict[str, str]:
    return _env_text(Path(path).read_text())


def test_containers_are_healthy_and_carry_the_rendered_env(deployed: dict[str, Any]) -> None:
    for name, stack in deployed["stacks"].items():
        containers = stack.wait_healthy()
        assert len(containers) == 5, [c["Name"] for c in containers]
        outputs = stack.outputs(show_secrets=True)
        backend_env = _env_file(outputs["files"]["backend.env"])
        assert backend_env["SENTRY_ENVIRONMENT"] == {"dev": "development", "prod": "production"}[name]
        assert backend_env["SENTRY_RELEASE"] == deployed["release"]
        assert backend_env["SENTRY_DSN"] == outputs["dsns"]["backend"]
        assert float(backend_env["SENTRY_TRACES_SAMPLE_RATE"]) == outputs["sampleRates"]["traces"]
        backend = next(c for c in containers if c["Config"]["Labels"].get("com.docker.compose.service") == "backend")
        container_env = dict(item.split("=", 1) for item in backend["Config"]["Env"])
        # dsnReload: file - the DSN is not inline: the app reads it from the env file mounted read-only in the
        # container, the same file the stack rendered (so a rotation changes the file and restarts nothing)
        assert container_env.get(LIVE_ENV_VAR) == f"{LIVE_DIR}/backend.env"
        mounted = subprocess.run(["docker", "exec", backend["Id"], "cat", f"{LIVE_DIR}/backend.env"],
                                 capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert _env_text(mounted) == backend_env
        for key, value in backend_env.items():
            assert container_env.get(key) == (None if key in LIVE_KEYS else value), key
        assert Path(outputs["files"]["backend.env"]).stat().st_mode & 0o777 == 0o600
    dev_dsns = deployed["stacks"]["dev"].outputs(show_secrets=True)["dsns"]
    prod_dsns = deployed["stacks"]["prod"].outputs(show_secrets=True)["dsns"]
    assert dev_dsns["backend"] != prod_dsns["backend"], "each environment has its own DSN"


def test_debug_error_arrives_with_environment_release_and_user(deployed: dict[str, Any]) -> None:
    ls: LocalSentry = deployed["ls"]
    for name, stack in deployed["stacks"].items():
        user = f"user-{name}-{uuid.uuid4().hex[:6]}"
        response = requests.get(f"{stack.url('backend')}/api/core/sentry-debug/", headers={"X-User-Id": user},
                                timeout=10)
        assert response.status_code == 500
        event_id = response.headers["X-Sentry-Event-Id"]
        project = stack.outputs()["sentryProjects"]["backend"]
        found = _wait_event(ls, project, event_id)
        assert found["environment"] == {"dev": "development", "prod": "production"}[name]
        release = found["release"]["version"] if isinstance(found["release"], dict) else found["release"]
        assert release == deployed["release"]
        assert found["user"]["id"] == user
        assert "ZeroDivisionError" in str(found.get("exception") or found.get("entries"))


def _wait_event(ls: LocalSentry, project: str, event_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = ls.api("GET", f"/api/0/projects/{ls.org}/{project}/events/{event_id}/")
        if response.status_code == 200:
            return dict(response.json())
        assert time.monotonic() < deadline, f"event {event_id} not in Sentry after {timeout}s"
        time.sleep(0.3)


def test_sampled_transaction_share_matches_each_stacks_rate(deployed: dict[str, Any]) -> None:
    ls: LocalSentry = deployed["ls"]
    for name, stack in deployed["stacks"].items():
        rate = float(stack.outputs()["sampleRates"]["traces"])
        run = f"sampling-{name}-{uuid.uuid4().hex[:6]}"
        session = requests.Session()
        for i in range(REQUESTS):
            assert session.get(f"{stack.url('backend')}/api/core/hello/", headers={"X-Request-Id": f"{run}-{i}"},
                               timeout=10).status_code == 200
        session.get(f"{stack.url('backend')}/api/health/", timeout=10)  # never sampled
        project = stack.outputs()["sentryProjects"]["backend"]
        env = {"dev": "development", "prod": "production"}[name]
        sigma = math.sqrt(REQUESTS * rate * (1 - rate))
        low, high = max(0.0, REQUESTS * rate - 6 * sigma), REQUESTS * rate + 6 * sigma
        count, last_change, previous = 0, time.monotonic(), -1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            items = ls.items(project, type="transaction", environment=env, limit=5000)
            mine = [i for i in items if str(_tags(i["payload"]).get("request_id", "")).startswith(run)]
            count = len(mine)
            if count != previous:
                previous, last_change = count, time.monotonic()
            elif count >= low and time.monotonic() - last_change > 3:
                break
            time.sleep(0.5)
        assert low <= count <= high, f"{name}: {count}/{REQUESTS} sampled; rate {rate} allows [{low:.0f}, {high:.0f}]"
        health = [i for i in ls.items(project, type="transaction", environment=env, limit=5000)
                  if i["payload"].get("transaction") == "/api/health/"]
        assert health == [], "health checks are never sampled"


def _tags(payload: dict[str, Any]) -> dict[str, Any]:
    tags = payload.get("tags") or {}
    return tags if isinstance(tags, dict) else {t[0]: t[1] for t in tags}


def test_frontend_button_error_arrives_with_environment_release_and_user(
    deployed: dict[str, Any], chromium: str
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ls: LocalSentry = deployed["ls"]
    for name, stack in deployed["stacks"].items():
        user = f"browser-{name}-{uuid.uuid4().hex[:6]}"
        project = stack.outputs()["sentryProjects"]["frontend"]
        env = {"dev": "development", "prod": "production"}[name]
        wait_http(f"{stack.url('frontend')}/health")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(user_agent=DESKTOP_UA)
                page.goto(f"{stack.url('frontend')}/?user={user}")
                page.wait_for_selector("body[data-ready=true]")
                page.click("#test-sentry")
                found: list[dict[str, Any]] = []
                deadline = time.monotonic() + 30
                while not found and time.monotonic() < deadline:
                    found = [i["payload"] for i in ls.items(project, type="event", environment=env)
                             if (i["payload"].get("user") or {}).get("id") == user]
                    time.sleep(0.3)
            finally:
                browser.close()
        assert found, f"{name}: the button's error did not arrive"
        assert found[0]["release"] == deployed["release"]


def test_frontend_login_user_replay_trace_and_server_error_on_both_stacks(
    deployed: dict[str, Any], chromium: str
) -> None:
    """The SvelteKit flow of tests/e2e/frontend_support.py on the deployed dev and prod stacks: prod collects no
    user info (dataCollection userInfo false), so its events carry the user's id and no username."""
    sync_api = pytest.importorskip("playwright.sync_api")
    for name, stack in deployed["stacks"].items():
        projects = stack.outputs()["sentryProjects"]
        wait_http(f"{stack.url('frontend')}/health")
        target = FrontendTarget(
            url=stack.url("frontend"), sentry=deployed["ls"], project=projects["frontend"],
            backend_project=projects["backend"], environment={"dev": "development", "prod": "production"}[name],
            release=deployed["release"], user_info=name == "dev", logs=lambda: "",
        )
        with sync_api.sync_playwright() as playwright:
            check_login_flow(playwright, chromium, target, f"sk-{name}-{uuid.uuid4().hex[:6]}")


def test_preview_after_up_shows_no_changes(deployed: dict[str, Any]) -> None:
    for stack in deployed["stacks"].values():
        stack.run("preview", "--expect-no-changes")


def test_zz_destroy_removes_containers_and_files(deployed: dict[str, Any]) -> None:
    for stack in deployed["stacks"].values():
        outputs = stack.outputs()
        files = list(outputs["files"].values())
        assert all(Path(f).exists() for f in files)
        assert stack.containers(outputs["composeProject"])
        stack.run("destroy", "--yes")
        assert stack.containers(outputs["composeProject"]) == []
        assert not any(Path(f).exists() for f in files)
