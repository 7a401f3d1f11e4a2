"""The notes example (examples/notes: FastAPI + a Vite/React SPA, its own Pulumi project using the toolkit as a
dependency, only the runtime packages as glue) deployed by the real CLI on Docker against a real localsentry.

One prod stack for the module: healthy containers with their framework's variables (VITE_SENTRY_* for the SPA,
written into the page at container start, no secret); the API's and the browser's errors arrive with environment,
release and user, the browser's frames resolved to src/App.jsx by the build's hidden source maps, which the stack
uploaded and the site never serves; the share of traced requests matches the stack's rate; a DSN rotation of both
services under traffic loses no event and restarts no API container; the alert proof reads the project's own
namespace (notes:) and its alert fires and emails; preview after all of it is empty; destroy removes everything.
"""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from infra.render import parse_dotenv
from tests.e2e.example_support import MAPS, NotesStack
from tests.e2e.pulumi_support import ROOT
from tests.e2e.stack_support import DESKTOP_UA, refused, wait_http
from tests.support.localsentry import CHROMIUM_ARGS, LocalSentry

pytestmark = pytest.mark.e2e
REQUESTS = 200


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("notes")
    ls = LocalSentry.start(tmp / "ls", extra_args=["--smtp-port", "0"])  # its SMTP server takes the alert's email
    release = f"notes-{uuid.uuid4().hex[:8]}"
    stack = None
    try:  # a skip or failure while creating the stack stops localsentry too
        stack = NotesStack.create(tmp / "proj", ls, "prod", release)
        assert "create" in stack.run("preview").stdout
        stack.up()
        project = stack.outputs()["composeProject"]
        yield {"ls": ls, "stack": stack, "release": release, "project": project}
    finally:
        if stack is not None:
            stack.run("destroy", "--yes", check=False)
        ls.stop()


def containers(project: str) -> list[dict[str, Any]]:
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    if not ids:
        return []
    return list(json.loads(subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True,
                                          check=True).stdout))  # fmt: skip


def wait_payloads(ls: LocalSentry, project: str, match: Callable[[dict[str, Any]], bool], count: int = 1,
                  timeout: float = 30, **filters: Any) -> list[dict[str, Any]]:  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        found = [i["payload"] for i in ls.items(project, limit=10000, **filters) if match(i["payload"])]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def mentions(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda payload: text in json.dumps(payload.get("exception") or {})


def test_each_service_gets_its_frameworks_names_and_the_page_no_secret(notes: dict[str, Any]) -> None:
    stack: NotesStack = notes["stack"]
    running = containers(notes["project"])
    assert sorted(c["Config"]["Labels"]["com.docker.compose.service"] for c in running) == ["api", "web"]
    assert all(c["State"]["Health"]["Status"] == "healthy" for c in running)
    outputs = stack.outputs(show_secrets=True)
    files = outputs["files"]
    api = parse_dotenv(open(files["api.env"]).read())
    web = parse_dotenv(open(files["web.env"]).read())
    assert api["SENTRY_ENVIRONMENT"] == "production" and api["SENTRY_DSN"] == outputs["dsns"]["api"]
    assert json.loads(api["SENTRY_DATA_COLLECTION"])["user_info"] is False  # sentry-python's shape
    assert not [k for k in api if k.startswith(("VITE_", "PUBLIC_", "NEXT_PUBLIC_"))]
    assert web["VITE_SENTRY_DSN"] == outputs["dsns"]["web"] and web["VITE_SENTRY_TRACES_SAMPLE_RATE"] == "0.25"
    assert "userInfo" in json.loads(web["VITE_SENTRY_DATA_COLLECTION"])  # the JavaScript SDK's shape
    page_config = wait_http(f"{stack.url('web')}/sentry-config.js").text
    config = json.loads(page_config[page_config.index("{"):page_config.rindex("}") + 1])
    assert (config["dsn"], config["environment"], config["release"], config["tracesSampleRate"]) == (
        outputs["dsns"]["web"], "production", notes["release"], 0.25)
    assert api["SENTRY_DSN"] not in page_config  # only the web's own public list reaches the page
    assets = requests.get(f"{stack.url('web')}/", timeout=10).text
    assert outputs["dsns"]["web"] not in assets
    # the page's scripts carry debug ids and no source map reference; their maps were uploaded, never served
    script = next(MAPS.rglob("*.js")).relative_to(MAPS)
    served = wait_http(f"{stack.url('web')}/{script}").text
    assert "//# debugId=" in served and "sourceMappingURL" not in served
    assert '"mappings"' not in requests.get(f"{stack.url('web')}/{script}.map", timeout=10).text  # the SPA's page
    assert list(outputs["sourceMaps"]) == ["web"]


def test_api_and_browser_errors_arrive_with_environment_release_and_user(notes: dict[str, Any],
                                                                         chromium: str) -> None:  # fmt: skip
    sync_api = pytest.importorskip("playwright.sync_api")
    stack: NotesStack = notes["stack"]
    ls: LocalSentry = notes["ls"]
    projects = stack.outputs()["sentryProjects"]
    run = uuid.uuid4().hex[:8]
    failed = requests.get(f"{stack.url('api')}/api/fail", params={"run": run}, headers={"X-User-Id": f"api-{run}"},
                          timeout=10)  # fmt: skip
    assert failed.status_code == 500
    [event] = wait_payloads(ls, projects["api"], mentions(f"notes api failure {run}"), type="event")
    assert (event["environment"], event["release"], event["user"]["id"]) == ("production", notes["release"],
                                                                             f"api-{run}")
    assert "email" not in event["user"] and "ip_address" not in event["user"]  # prod collects no user info
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(user_agent=DESKTOP_UA)  # the web-crawlers filter drops HeadlessChrome
            page.goto(f"{stack.url('web')}/?user=web-{run}&run={run}")
            page.wait_for_selector("main[data-status=ready]")
            page.click("#fail")
            page.wait_for_function("window.NOTES_DONE !== undefined", timeout=30_000)
            assert page.evaluate("window.NOTES_DONE.flushed") is True
        finally:
            browser.close()
    [browser_event] = wait_payloads(ls, projects["web"], mentions(f"notes web failure {run}"), type="event")
    assert (browser_event["environment"], browser_event["release"], browser_event["user"]["id"]) == (
        "production", notes["release"], f"web-{run}")
    event = ls.get_json(f"/api/0/projects/{ls.org}/{projects['web']}/events/{browser_event['event_id']}/")
    [entry] = [e for e in event["entries"] if e["type"] == "exception"]
    frame = entry["data"]["values"][-1]["stacktrace"]["frames"][-1]
    assert frame["filename"].endswith("src/App.jsx") and frame["function"] == "fail", frame


def test_the_share_of_traced_requests_is_the_stacks_rate(notes: dict[str, Any]) -> None:
    stack: NotesStack = notes["stack"]
    ls: LocalSentry = notes["ls"]
    rate = float(stack.outputs()["sampleRates"]["traces"])
    assert rate == 0.25
    run = f"rate-{uuid.uuid4().hex[:6]}"
    session = requests.Session()
    for i in range(REQUESTS):
        assert session.get(f"{stack.url('api')}/api/notes", params={"run": f"{run}-{i}"}, timeout=10).ok
    assert session.get(f"{stack.url('api')}/api/health", timeout=10).ok  # never traced
    project = stack.outputs()["sentryProjects"]["api"]
    sigma = math.sqrt(REQUESTS * rate * (1 - rate))
    low, high = REQUESTS * rate - 6 * sigma, REQUESTS * rate + 6 * sigma

    def mine(payload: dict[str, Any]) -> bool:
        return f"run={run}-" in str((payload.get("request") or {}).get("query_string"))

    time.sleep(3)
    count = len(wait_payloads(ls, project, mine, count=int(high) + 1, timeout=10, type="transaction"))
    assert low <= count <= high, f"{count}/{REQUESTS} traced; rate {rate} allows [{low:.0f}, {high:.0f}]"
    health = wait_payloads(ls, project, lambda p: p.get("transaction") == "/api/health", timeout=0.1,
                           type="transaction")  # fmt: skip
    assert health == []


class Failures(threading.Thread):
    """API requests that fail on purpose, each with its own message, about ten a second. A kept-alive connection the
    server closed is retried once on a new one (as HTTP clients do); a refused connection (nothing listens: the
    container is being replaced) is counted."""

    def __init__(self, base: str, run: str) -> None:
        super().__init__(daemon=True)
        self.base, self.run_id, self.stop = base, run, threading.Event()
        self.sent: list[str] = []
        self.refused = 0
        self.dropped: list[str] = []

    def run(self) -> None:
        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            marker = f"{self.run_id}-{i}"
            i += 1
            for attempt in (1, 2):
                try:
                    status = session.get(f"{self.base}/api/fail", params={"run": marker}, timeout=10).status_code
                except requests.ConnectionError as exc:
                    if refused(exc) or attempt == 2:
                        self.refused += 1
                        break
                    self.dropped.append(f"{type(exc).__name__}: {exc}")
                    session.close()
                    continue
                if status == 500:
                    self.sent.append(marker)
                break
            time.sleep(0.1)


def test_a_dsn_rotation_under_traffic_loses_nothing(notes: dict[str, Any]) -> None:
    stack: NotesStack = notes["stack"]
    ls: LocalSentry = notes["ls"]
    before = stack.outputs(show_secrets=True)
    api_containers = [c["Id"] for c in containers(notes["project"])
                      if c["Config"]["Labels"]["com.docker.compose.service"] == "api"]  # fmt: skip
    rotate = [str(ROOT / "venv" / "bin" / "python"), str(ROOT / "scripts" / "rotate-dsn"), "--stack", "prod",
              "--cwd", str(stack.workdir), "--all"]  # fmt: skip
    traffic = Failures(stack.url("api"), f"rot-{uuid.uuid4().hex[:6]}")
    traffic.start()
    try:
        time.sleep(2)
        started = subprocess.run([*rotate, "--verify-timeout", "30", "start"], env=stack.env(), capture_output=True,
                                 text=True, timeout=900)  # fmt: skip
        assert started.returncode == 0, started.stdout + started.stderr
        assert "verified" in started.stdout and "driver none" not in started.stdout
        time.sleep(33)  # the old keys go quiet for the quiet window (20 s) plus a key-stats bucket (10 s)
        finished = subprocess.run([*rotate, "--grace", "0s", "--quiet", "20s", "finish"], env=stack.env(),
                                  capture_output=True, text=True, timeout=900)  # fmt: skip
        assert finished.returncode == 0, finished.stdout + finished.stderr
        time.sleep(2)
    finally:
        traffic.stop.set()
        traffic.join()
    after = stack.outputs(show_secrets=True)
    assert after["dsns"]["api"] != before["dsns"]["api"] and after["dsns"]["web"] != before["dsns"]["web"]
    project = after["sentryProjects"]["api"]
    found = wait_payloads(ls, project, lambda p: traffic.run_id in json.dumps(p.get("exception") or {}),
                          count=len(traffic.sent), timeout=60, type="event")  # fmt: skip
    seen = {m for m in traffic.sent if any(f"notes api failure {m}\"" in json.dumps(p["exception"]) for p in found)}
    lost = sorted(set(traffic.sent) - seen)
    assert traffic.sent and lost == [], f"{len(lost)} of {len(traffic.sent)} events lost, e.g. {lost[:5]}"
    assert traffic.refused == 0, f"the API refused {traffic.refused} requests (dropped and retried: {traffic.dropped})"
    assert [c["Id"] for c in containers(notes["project"])
            if c["Config"]["Labels"]["com.docker.compose.service"] == "api"] == api_containers  # fmt: skip
    # the restarted web container wrote its page's config from the new DSN: no rebuild
    assert after["dsns"]["web"] in wait_http(f"{stack.url('web')}/sentry-config.js").text
    print(f"notes rotation under traffic: {len(traffic.sent)} API errors, 0 lost, 0 refused, "
          f"{len(traffic.dropped)} kept-alive connections closed by the server and retried")


def test_the_alert_proof_of_the_project_fires_its_alert(notes: dict[str, Any]) -> None:
    stack: NotesStack = notes["stack"]
    proof = subprocess.run([str(ROOT / "venv" / "bin" / "python"), str(ROOT / "scripts" / "verify-alerts"), "--stack",
                            "prod", "--cwd", str(stack.workdir), "--timeout", "30"], env=stack.env(),
                           capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proof.returncode == 0, proof.stdout + proof.stderr
    [line] = [x for x in proof.stdout.splitlines() if x.startswith("alert") and "new-issues" in x]
    assert "fired after" in line
    assert "email: sent to" in proof.stdout and proof.stdout.rstrip().endswith("1 of 1 proven")


def test_zz_preview_is_empty_and_destroy_removes_everything(notes: dict[str, Any]) -> None:
    stack: NotesStack = notes["stack"]
    stack.run("preview", "--expect-no-changes")
    stack.run("destroy", "--yes")
    assert containers(notes["project"]) == []
