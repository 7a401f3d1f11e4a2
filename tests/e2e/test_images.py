"""The local base image and the reference app's images on a real Docker engine.

1. A container from the base image (built by scripts/build-base-image without any registry) runs
   Python, creates a virtualenv and finds redis-server, with no network at all.
2. Redis, backend, worker and frontend containers on the host network, on free ports, reporting to a
   real localsentry: every HEALTHCHECK turns healthy; the health endpoints answer; the debug endpoint
   answers 500 and its ZeroDivisionError arrives with the environment, release and user given by the
   environment; a task runs on the worker; health checks are never traced; development noise is
   dropped; the frontend's runtime config mirrors its environment (PUBLIC_* variables, read at run time,
   no DSN in the built bundle); and in headless Chromium the "Test Sentry" button's error arrives with the
   page's user while the page's trace continues in the backend.
3. The SvelteKit frontend in Chromium: a real login against the backend (Django session) sets the Sentry
   user in the browser, in the Node server and in the backend; the button's error arrives with it, a
   replay follows (replaysOnErrorSampleRate 1), a backend error reached through the page shares the
   page's trace id, a failing server load arrives from Node with the logged-in user, and the page's logs
   (enableLogs) arrive; after logout the user is gone.

Without a Docker engine these tests skip with what to install (fail when CI=true).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from infra.privacy import DEFAULT, env_json, python_options
from tests.e2e.docker_support import Containers, DemoImages, demo_images, free_port, require_docker, wait_http
from tests.e2e.frontend_support import FrontendTarget, check_login_flow, wait_for
from tests.support.localsentry import CHROMIUM_ARGS, DESKTOP_UA, LocalSentry, unique

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def images() -> DemoImages:
    require_docker()
    return demo_images()


def test_base_image_runs_python_without_network(images: DemoImages) -> None:
    containers = Containers("ss-base")
    try:
        script = (
            "import ssl, sqlite3, sys, venv, shutil; "
            "venv.create('/tmp/v', with_pip=False); "
            "print('base-ok', sum(range(10)), '%d.%d' % sys.version_info[:2], "
            "bool(shutil.which('redis-server')), bool(shutil.which('tini')), ssl.OPENSSL_VERSION.split()[0])"
        )
        container = containers.run(images.base, "python3", "-c", script, role="smoke", network="none")
        state = container.wait_exit()
        output = container.logs()
        assert state.get("ExitCode") == 0, output
        words = output.split()
        assert words[:2] == ["base-ok", "45"], output
        assert words[2].startswith("3."), output
        assert words[3:] == ["True", "True", "OpenSSL"], output
    finally:
        containers.close()


def test_node_base_image_runs_node_without_network(images: DemoImages) -> None:
    containers = Containers("ss-base")
    try:
        script = (
            "const [a, b] = process.versions.node.split('.').map(Number);"
            "console.log('node-ok', a > 20 || (a === 20 && b >= 19), typeof fetch, process.versions.node)"
        )
        container = containers.run(images.node_base, "node", "-e", script, role="smoke-node", network="none")
        state = container.wait_exit()
        output = container.logs()
        assert state.get("ExitCode") == 0, output
        assert output.split()[:3] == ["node-ok", "true", "function"], output  # Node >= 20.19 (SvelteKit, SDK)
    finally:
        containers.close()


@dataclass
class Stack:
    backend_url: str
    frontend_url: str
    backend_project: str
    frontend_project: str
    environment: str
    release: str
    frontend_env: dict[str, str]
    sentry: LocalSentry
    containers: Containers


@pytest.fixture(scope="module")
def stack(images: DemoImages, localsentry_session: LocalSentry) -> Iterator[Stack]:
    ls = localsentry_session
    backend_project = ls.create_project(unique("demo-backend"), platform="python-django")["slug"]
    frontend_project = ls.create_project(unique("demo-frontend"), platform="javascript")["slug"]
    redis_port, web_port, front_port = free_port(), free_port(), free_port()
    release = unique("demo@1.0.0+e2e")
    environment = "development"
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    backend_env = {
        "PORT": str(web_port),
        "BIND": "127.0.0.1",
        "REDIS_URL": redis_url,
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "WEB_CONCURRENCY": "1",  # one process: its events reach Sentry in request order
        "SENTRY_DSN": ls.dsn(backend_project),
        "SENTRY_ENVIRONMENT": environment,
        "SENTRY_RELEASE": release,
        "SENTRY_TRACES_SAMPLE_RATE": "1.0",
        "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "1.0",
        "SENTRY_PROFILE_LIFECYCLE": "trace",
        # what the prod stack renders: no user info (sentry-stacks:dataCollection, docs/privacy.md)
        "SENTRY_DATA_COLLECTION": env_json(python_options(DEFAULT)),
    }
    # the SvelteKit server reads SENTRY_*, the browser PUBLIC_* (what infra/templates/frontend.env.j2 renders)
    server_sentry = {
        "SENTRY_DSN": ls.dsn(frontend_project),
        "SENTRY_ENVIRONMENT": environment,
        "SENTRY_RELEASE": release,
        "SENTRY_TRACES_SAMPLE_RATE": "1.0",
        "SENTRY_SEND_DEFAULT_PII": "true",
    }
    frontend_env = {
        "PORT": str(front_port),
        "BIND": "127.0.0.1",
        **server_sentry,
        **{f"PUBLIC_{k}": v for k, v in server_sentry.items()},
        "PUBLIC_SENTRY_REPLAYS_SESSION_SAMPLE_RATE": "0.1",
        "PUBLIC_SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE": "1.0",
        "PUBLIC_BACKEND_URL": f"http://127.0.0.1:{web_port}",
    }
    containers = Containers("ss-demo")
    try:
        redis = containers.run(
            images.redis, "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
            role="redis",
        )  # fmt: skip
        web = containers.run(images.backend, role="web", env=backend_env)
        worker = containers.run(images.backend, "/app/bin/worker", role="worker", env=backend_env)
        front = containers.run(images.frontend, role="frontend", env=frontend_env)
        for container in (redis, web, worker, front):
            container.wait_healthy(timeout=120)
        yield Stack(
            backend_url=f"http://127.0.0.1:{web_port}",
            frontend_url=f"http://127.0.0.1:{front_port}",
            backend_project=backend_project,
            frontend_project=frontend_project,
            environment=environment,
            release=release,
            frontend_env=frontend_env,
            sentry=ls,
            containers=containers,
        )
    finally:
        containers.close()


def events(stack: Stack, project: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    items = stack.sentry.wait_items(project, count, timeout=timeout, type="event")
    return [item["payload"] for item in items]


def exception_type(event: dict[str, Any]) -> str | None:
    values = (event.get("exception") or {}).get("values") or []
    return str(values[-1]["type"]) if values else None


def test_health_endpoints_answer(stack: Stack) -> None:
    body = wait_http(f"{stack.backend_url}/api/health/").json()
    assert body == {"status": "ok", "service": "backend", "release": stack.release}
    deep = wait_http(f"{stack.backend_url}/api/health/?deep=1").json()
    assert deep["redis"] == "ok"
    assert wait_http(f"{stack.frontend_url}/health").json()["status"] == "ok"


def test_debug_endpoint_error_arrives_with_environment_release_and_user(stack: Stack) -> None:
    user = unique("user")
    # noise first: if the development filter let it through it would arrive before the debug error
    assert requests.get(f"{stack.backend_url}/api/core/noise/", timeout=10).status_code == 200
    bad_host = requests.get(f"{stack.backend_url}/api/core/hello/", headers={"Host": "evil.example"}, timeout=10)
    assert bad_host.status_code == 400
    response = requests.get(
        f"{stack.backend_url}/api/core/sentry-debug/", headers={"X-User-Id": user, "X-Request-Id": user}, timeout=10
    )
    assert response.status_code == 500
    event_id = response.headers.get("X-Sentry-Event-Id")
    assert event_id and len(event_id) == 32, response.headers

    found = events(stack, stack.backend_project, 1)
    mine = [e for e in found if (e.get("user") or {}).get("id") == user]
    assert len(mine) == 1, f"{found}\n{stack.containers.logs()}"
    event = mine[0]
    assert event["event_id"].replace("-", "") == event_id
    tags = event["tags"] if isinstance(event["tags"], dict) else {t["key"]: t["value"] for t in event["tags"]}
    assert tags["request_id"] == user
    assert exception_type(event) == "ZeroDivisionError"
    assert (event["environment"], event["release"]) == (stack.environment, stack.release)
    assert event["transaction"] == "/api/core/sentry-debug/"
    assert "ip_address" not in event["user"]  # SENTRY_DATA_COLLECTION: user_info false
    loggers = {e.get("logger") for e in found}
    assert "demoapp.noise" not in loggers and "django.security.DisallowedHost" not in loggers
    assert all(exception_type(e) != "DisallowedHost" for e in found)


def test_task_runs_on_the_worker_and_its_error_keeps_the_user(stack: Stack) -> None:
    user = unique("user")
    headers = {"X-User-Id": user}
    enqueued = requests.post(f"{stack.backend_url}/api/tasks/", json={"x": 20, "y": 22}, headers=headers, timeout=10)
    assert enqueued.status_code == 202
    task_id = enqueued.json()["task_id"]
    deadline = time.monotonic() + 60
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = requests.get(f"{stack.backend_url}/api/tasks/{task_id}/", timeout=10).json()
        if status["state"] in ("SUCCESS", "FAILURE"):
            break
        time.sleep(0.2)
    assert status.get("state") == "SUCCESS" and status.get("result") == 42, f"{status}\n{stack.containers.logs()}"

    failing = requests.post(f"{stack.backend_url}/api/tasks/", json={"fail": True}, headers=headers, timeout=10)
    assert failing.status_code == 202
    deadline = time.monotonic() + 30
    mine: list[dict[str, Any]] = []
    while not mine and time.monotonic() < deadline:
        mine = [
            e
            for e in events(stack, stack.backend_project, 1)
            if exception_type(e) == "DemoTaskError" and (e.get("user") or {}).get("id") == user
        ]
        time.sleep(0.2)
    assert mine, stack.containers.logs()
    assert (mine[0]["environment"], mine[0]["release"]) == (stack.environment, stack.release)


def test_health_checks_are_never_traced(stack: Stack) -> None:
    for _ in range(5):
        assert requests.get(f"{stack.backend_url}/api/health/", timeout=10).status_code == 200
    marker = requests.get(f"{stack.backend_url}/api/core/hello/", timeout=10)
    assert marker.status_code == 200
    deadline = time.monotonic() + 30
    names: list[str] = []
    while "/api/core/hello/" not in names and time.monotonic() < deadline:
        items = stack.sentry.items(stack.backend_project, type="transaction")
        names = [item["payload"].get("transaction") for item in items]
        time.sleep(0.2)
    assert "/api/core/hello/" in names  # traced at rate 1.0 ...
    assert "/api/health/" not in names  # ... while health checks (ours and Docker's) never are


def test_frontend_runtime_config_reflects_its_environment(stack: Stack) -> None:
    env = stack.frontend_env
    config = wait_http(f"{stack.frontend_url}/runtime-config.json").json()
    assert config == {
        "dsn": env["PUBLIC_SENTRY_DSN"],
        "environment": env["PUBLIC_SENTRY_ENVIRONMENT"],
        "release": env["PUBLIC_SENTRY_RELEASE"],
        "sampleRate": 1.0,
        "tracesSampleRate": 1.0,
        "replaysSessionSampleRate": 0.1,
        "replaysOnErrorSampleRate": 1.0,
        "sendDefaultPii": True,
        "debug": False,
        "dataCollection": None,
        "backendUrl": env["PUBLIC_BACKEND_URL"],
        "tracePropagationTargets": [env["PUBLIC_BACKEND_URL"]],
    }
    script = requests.get(f"{stack.frontend_url}/config.js", timeout=10)
    assert script.headers["Cache-Control"] == "no-store"
    assert script.text.startswith("window.__SENTRY_STACKS_CONFIG__ = {")
    assert env["SENTRY_DSN"] in script.text
    page = requests.get(f"{stack.frontend_url}/", timeout=10)
    assert page.status_code == 200 and 'id="test-sentry"' in page.text  # rendered by the Node server
    # the DSN reaches the browser with the page ($env/dynamic/public), never inside the built bundle
    assert env["PUBLIC_SENTRY_DSN"] in page.text
    scripts = set(re.findall(r'"(\./_app/immutable/[^"]+\.js|/_app/immutable/[^"]+\.js)"', page.text))
    assert scripts, page.text[:2000]
    key = env["PUBLIC_SENTRY_DSN"].split("//")[1].split("@")[0]
    for script_path in scripts:
        asset = requests.get(f"{stack.frontend_url}/{script_path.lstrip('./')}", timeout=10)
        assert asset.status_code == 200, script_path
        assert key not in asset.text and stack.release not in asset.text, script_path


@pytest.mark.browser
def test_browser_button_error_and_connected_trace(stack: Stack, chromium: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    user = unique("browser")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(user_agent=DESKTOP_UA)
            page.goto(f"{stack.frontend_url}/?user={user}")
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_function("document.getElementById('status').textContent.includes('200')")
            page.click("#test-sentry")
            found: list[dict[str, Any]] = []
            deadline = time.monotonic() + 30
            while not found and time.monotonic() < deadline:
                found = [
                    e
                    for e in events(stack, stack.frontend_project, 1)
                    if (e.get("user") or {}).get("id") == user
                    and "Sentry Stacks frontend test error" in str(e.get("exception"))
                ]
                time.sleep(0.2)
        finally:
            browser.close()
    assert found, stack.containers.logs()
    event = found[0]
    assert (event["environment"], event["release"]) == (stack.environment, stack.release)
    assert exception_type(event) == "Error"

    # the pageload's fetch to the backend carried sentry-trace: the backend transaction joins that trace
    trace_id = event["contexts"]["trace"]["trace_id"]
    deadline = time.monotonic() + 30
    joined: list[dict[str, Any]] = []
    while not joined and time.monotonic() < deadline:
        joined = [
            item["payload"]
            for item in stack.sentry.items(stack.backend_project, type="transaction")
            if item["payload"]["contexts"]["trace"]["trace_id"] == trace_id
        ]
        time.sleep(0.2)
    assert joined, "no backend transaction in the page's trace"
    assert joined[0]["transaction"] == "/api/core/hello/"
    assert joined[0]["user"]["id"] == user  # the page sends X-User-Id


@pytest.mark.browser
def test_a_late_backend_answer_never_overwrites_a_newer_status(stack: Stack, chromium: str) -> None:
    """The page's load calls the backend; its answer is held until after the "Test Sentry" click, then let through:
    the status line keeps the click's outcome (the newest action), not the older call's."""
    sync_api = pytest.importorskip("playwright.sync_api")
    held: list[Any] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(user_agent=DESKTOP_UA)
            page.route("**/api/core/hello/", lambda route: held.append(route))  # not answered until continued below
            page.goto(f"{stack.frontend_url}/?user={unique('late')}")
            page.wait_for_selector("body[data-ready=true]")
            deadline = time.monotonic() + 30
            while not held and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            assert held, "the page's load did not call the backend"
            page.click("#test-sentry")
            page.wait_for_function("document.getElementById('status').textContent.includes('threw')")
            with page.expect_response("**/api/core/hello/") as answered:
                held[0].continue_()
            assert answered.value.status == 200
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)  # the page has read the answer (it shows it at once when it does)
            assert "threw" in (page.text_content("#status") or "")
        finally:
            browser.close()


@pytest.mark.browser
def test_browser_login_user_replay_trace_and_server_load_error(stack: Stack, chromium: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    project = stack.frontend_project
    target = FrontendTarget(
        url=stack.frontend_url, sentry=stack.sentry, project=project, backend_project=stack.backend_project,
        environment=stack.environment, release=stack.release, user_info=True, logs=stack.containers.logs,
    )
    with sync_api.sync_playwright() as playwright:
        check_login_flow(playwright, chromium, target, unique("sk"))

    # performance on the server: Node's http.server transactions (SvelteKit's own spans), none for /health
    def server_transactions() -> list[dict[str, Any]]:
        found = [i["payload"] for i in stack.sentry.items(project, type="transaction")]
        return [t for t in found if t["contexts"]["trace"].get("op") == "http.server"]
    served = wait_for(lambda: [t for t in server_transactions() if "/fail" in str(t.get("transaction"))],
                      "the server transaction of /fail", target)
    assert served[0].get("platform") == "node"
    assert not [t for t in server_transactions() if "/health" in str(t.get("transaction"))]
