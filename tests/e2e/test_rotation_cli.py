"""Zero-downtime DSN rotation of the dev stack, verified by real ingest.

Under continuous traffic (backend errors and transactions at about 20 per second, and the frontend page open
in headless Chromium sending messages), `rotate-dsn start` → `verify` → `finish` loses no event: every event
the test caused is found in Sentry, accepted by the old or the new key; after `finish` the old DSN gets 403.
The backend refuses no request: it re-reads its env file (`dsnReload: file`), nothing replaces its container.
`finish` refuses while the old key still receives events. A rotation killed mid-way converges on rerun.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.docker_support import demo_images, require_docker
from tests.e2e.pulumi_support import ROOT
from tests.e2e.stack_support import DESKTOP_UA, AppStack, BackendTraffic, copy_project, item_tags, wait_http
from tests.support.localsentry import CHROMIUM_ARGS, LocalSentry

pytestmark = pytest.mark.e2e
ROTATE = str(ROOT / "scripts" / "rotate-dsn")


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[tuple[AppStack, LocalSentry]]:
    require_docker()
    demo_images()
    ls = LocalSentry.start(tmp_path / "ls")
    work = copy_project(tmp_path / "proj", ls)
    stack = AppStack.create(work, "dev", f"rot-{uuid.uuid4().hex[:6]}")
    project = ""
    try:
        stack.up()
        project = stack.outputs()["composeProject"]
        stack.wait_healthy()
        yield stack, ls
        stack.run("destroy", "--yes")
        assert stack.containers(project) == [], "destroy must remove every container"
    finally:
        if project and stack.containers(project):
            stack.run("destroy", "--yes", check=False)
        ls.stop()


def rotate(stack: AppStack, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(ROOT / "venv" / "bin" / "python"), ROTATE, "--stack", stack.stack, "--cwd", str(stack.workdir), *args],
        env=stack.env(), capture_output=True, text=True, timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"rotate-dsn {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def _post_with_dsn(dsn: str) -> int:
    """POST one event envelope with `dsn` the way an SDK does; returns the ingest status."""
    scheme, rest = dsn.split("://", 1)
    key, rest = rest.split("@", 1)
    host, project_id = rest.rsplit("/", 1)
    event_id = uuid.uuid4().hex
    body = "\n".join([
        json.dumps({"event_id": event_id, "dsn": dsn}),
        json.dumps({"type": "event"}),
        json.dumps({"event_id": event_id, "message": "after finish", "level": "info", "platform": "python"}),
    ]).encode()
    response = requests.post(
        f"{scheme}://{host}/api/{project_id}/envelope/", data=gzip.compress(body), timeout=10,
        headers={"Content-Type": "application/x-sentry-envelope", "Content-Encoding": "gzip",
                 "X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7, sentry_client=e2e/1.0"},
    )
    return response.status_code


def _backend_containers(stack: AppStack) -> list[tuple[str, str, int]]:
    """(id, start time, restart count) of the stack's backend containers: a replacement or restart changes it."""
    return sorted((c["Id"], c["State"]["StartedAt"], int(c.get("RestartCount") or 0)) for c in stack.containers()
                  if c["Config"]["Labels"].get("com.docker.compose.service") == "backend")


def test_rotation_under_traffic_loses_no_event(dev: tuple[AppStack, LocalSentry], chromium: str) -> None:
    stack, ls = dev
    sync_api = pytest.importorskip("playwright.sync_api")
    outputs = stack.outputs(show_secrets=True)
    old_backend = outputs["sentryKeys"]["backend"]["g1"]
    old_frontend = outputs["sentryKeys"]["frontend"]["g1"]
    projects = outputs["sentryProjects"]
    run = f"rot-{uuid.uuid4().hex[:6]}"
    traffic = BackendTraffic(stack.url("backend"), run)
    frontend_ids: list[str] = []
    backend_before = _backend_containers(stack)
    stack_file = stack.workdir / "Pulumi.dev.yaml"  # a comment of the user's, which `pulumi config set` would drop
    commented = stack_file.read_text(encoding="utf-8").replace("config:\n", "config:\n  # kept by rotate-dsn\n", 1)
    stack_file.write_text(commented, encoding="utf-8")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        # a desktop browser's user agent: the project's web-crawlers filter drops HeadlessChrome, like Sentry
        page = browser.new_page(user_agent=DESKTOP_UA)
        page.goto(f"{stack.url('frontend')}/?user={run}")
        page.wait_for_selector("body[data-ready=true]")

        def browser_message(i: int) -> None:
            frontend_ids.append(str(page.evaluate(f"window.__sentryStacks.captureMessage('{run}-fe-{i}')")))

        traffic.start()
        try:
            for i in range(5):
                browser_message(i)
                time.sleep(0.2)
            started = rotate(stack, "--service", "backend", "--service", "frontend", "--verify-timeout", "30",
                             "start")
            assert "verified" in started.stdout, started.stdout
            new = stack.outputs(show_secrets=True)["sentryKeys"]
            assert new["backend"]["g2"]["dsn"] != old_backend["dsn"]
            # rotate-dsn recorded its state in the stack file as text: the user's comment and lines stay
            written = stack_file.read_text(encoding="utf-8")
            assert written.startswith(commented.split("  sentry-stacks:keys:")[0]), written
            assert "sentry-stacks:rotation:" in written

            # The open page still sends with the old DSN: finish must refuse and say so.
            for i in range(5, 10):
                browser_message(i)
                time.sleep(0.2)
            refused = rotate(stack, "--all", "--grace", "0s", "--quiet", "20s", "finish", check=False)
            assert refused.returncode == 3, refused.stdout + refused.stderr
            assert "old key g1 still receives events" in refused.stderr, refused.stderr

            # Users reload: the page takes the new DSN from its runtime config (no rebuild).
            page.reload()
            page.wait_for_selector("body[data-ready=true]")
            for i in range(10, 15):
                browser_message(i)
                time.sleep(0.2)
            assert new["frontend"]["g2"]["id"] in page.evaluate("JSON.stringify(window.__SENTRY_STACKS_CONFIG__)")
            # the old keys go quiet for the quiet window (20 s) while traffic continues on the new ones; key stats
            # come in 10 s buckets and the last event counts as the end of its bucket, hence 20 + 10 + margin
            time.sleep(33)
            rotate(stack, "--all", "--grace", "0s", "--quiet", "20s", "finish")
            for i in range(15, 20):
                browser_message(i)
                time.sleep(0.2)
            time.sleep(2)
        finally:
            traffic.stop.set()
            traffic.join()
            browser.close()

    # After finish the old DSNs are rejected; the new ones are accepted.
    assert _post_with_dsn(old_backend["dsn"]) == 403
    assert _post_with_dsn(old_frontend["dsn"]) == 403
    final = stack.outputs(show_secrets=True)["sentryKeys"]
    assert _post_with_dsn(final["backend"]["g2"]["dsn"]) == 200
    assert final["backend"]["g1"]["active"] is False

    # Every event the test caused is in Sentry, accepted by the old or the new key.
    assert traffic.errors and traffic.transactions and len(frontend_ids) == 20
    keys = {old_backend["id"]: "old", final["backend"]["g2"]["id"]: "new",
            old_frontend["id"]: "old", final["frontend"]["g2"]["id"]: "new"}
    deadline = time.monotonic() + 60
    while True:
        backend_items = ls.items(projects["backend"], environment="development", limit=10000)
        frontend_items = ls.items(projects["frontend"], environment="development", limit=10000)
        errors = {i["payload"].get("event_id", "").replace("-", ""): i["key"] for i in backend_items
                  if i["type"] == "event"}
        transactions = {str(item_tags(i["payload"]).get("request_id")): i["key"] for i in backend_items
                        if i["type"] == "transaction"}
        messages = {i["payload"].get("event_id", "").replace("-", ""): i["key"] for i in frontend_items
                    if i["type"] == "event"}
        lost = ([e for e in traffic.errors if e not in errors] + [t for t in traffic.transactions
                if t not in transactions] + [m for m in frontend_ids if m.replace("-", "") not in messages])
        if not lost or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert lost == [], f"{len(lost)} events lost, e.g. {lost[:5]}"
    used = {keys.get(k) for k in [*errors.values(), *transactions.values(), *messages.values()]}
    assert used == {"old", "new"}, used
    print(f"rotation under traffic: {len(traffic.errors)} errors, {len(traffic.transactions)} transactions, "
          f"{len(frontend_ids)} browser events, 0 lost; {traffic.refused} requests refused, {traffic.timeouts} "
          f"timed out (load), {len(traffic.dropped)} kept-alive connections closed by the server and retried")
    # the backend re-reads its env file (dsnReload: file): compose replaces no backend container, refuses nothing
    assert _backend_containers(stack) == backend_before, "the rotation replaced or restarted a backend container"
    assert traffic.refused == 0, f"{traffic.refused} backend requests refused during the rotation"
    assert traffic.failures == [], traffic.failures[:5]


def _processes_in(folder: Path) -> list[str]:
    """Command lines of the processes working in `folder` (their cwd or their arguments name it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cmdline and (str(folder) in cmdline or cwd == str(folder) or cwd.startswith(f"{folder}/")):
            found.append(f"{entry.name}: {cmdline[:160]}")
    return found


def test_killed_rotation_converges_without_duplicate_keys(dev: tuple[AppStack, LocalSentry]) -> None:
    stack, ls = dev
    project = stack.outputs()["sentryProjects"]["backend"]
    proc = subprocess.Popen(
        [str(ROOT / "venv" / "bin" / "python"), ROTATE, "--stack", "dev", "--cwd", str(stack.workdir),
         "--service", "backend", "start"],
        env=stack.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # kill the whole process group (script, pulumi CLI, plugins) inside `pulumi up`
        if "pulumi up" in line:
            time.sleep(2.5)
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # the plugins the killed CLI had started (language host, program, providers) notice and exit: no orphans
    deadline = time.monotonic() + 60
    while (left := _processes_in(stack.workdir)) and time.monotonic() < deadline:
        time.sleep(1)
    assert left == [], f"processes of the killed run still running: {left}"

    status = rotate(stack, "status")
    assert "rotation g1 -> g2: started" in status.stdout, status.stdout
    rotate(stack, "--service", "backend", "--verify-timeout", "30", "start")
    names = sorted(k["name"] for k in ls.keys(project))
    assert names.count("dev-g1") == 1 and names.count("dev-g2") == 1, names
    outputs = stack.outputs(show_secrets=True)
    assert outputs["currentKeys"]["backend"] == "g2"
    assert outputs["sentryKeys"]["backend"]["g2"]["id"] in Path(outputs["files"]["backend.env"]).read_text()

    rotate(stack, "--service", "backend", "abort")
    outputs = stack.outputs(show_secrets=True)
    assert outputs["currentKeys"]["backend"] == "g1"
    env_text = Path(outputs["files"]["backend.env"]).read_text()
    assert outputs["sentryKeys"]["backend"]["g1"]["id"] in env_text
    assert outputs["sentryKeys"]["backend"]["g2"]["id"] not in env_text
    assert outputs["sentryKeys"]["backend"]["g2"]["active"] is False
    wait_http(f"{stack.url('backend')}/api/health/")
    for container in stack.wait_healthy():
        env = " ".join(container["Config"]["Env"])
        assert outputs["sentryKeys"]["backend"]["g2"]["id"] not in env, "no container may carry a disabled key"
    stack.run("preview", "--expect-no-changes")
    names = sorted(k["name"] for k in ls.keys(project))
    assert names.count("dev-g2") == 1, names


def test_config_that_would_render_a_disabled_key_is_refused(dev: tuple[AppStack, LocalSentry]) -> None:
    stack, _ = dev
    stack.run("config", "set", "--path", "sentry-stacks:keys.backend.generations.g1.active", "false")
    preview = stack.run("preview", check=False)
    assert preview.returncode != 0
    assert "disabled" in preview.stdout + preview.stderr and "keys.backend.current" in preview.stdout + preview.stderr
