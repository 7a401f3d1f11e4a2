"""@sentry-stacks/runtime (packed, installed from its tarball) with the real SDKs from npm against a real
localsentry, read back through Sentry's APIs:

- plain Node (`@sentry/node` 11 through `@sentry-stacks/runtime/node`): environment, release and rates from the
  environment and the env file; health checks never traced; development logs instead of sending;
- a Vite SPA built for real (`vite build`, `@sentry/browser` 11 through `@sentry-stacks/runtime/browser`) in
  headless Chromium: the page's config is written at "container start" by `sentry-stacks-public-config` from the
  VITE_SENTRY_* variables, so the same build sends with whatever DSN the environment has; a secret in the same
  environment (SENTRY_AUTH_TOKEN, also under the VITE_ prefix) is in nothing the browser gets."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.js_support import BROWSER_SDK, NODE_SDK, VITE, npm_project, static_site, tools
from tests.runtime.support import event_detail, project_events, wait_events, write_env_file
from tests.support.localsentry import CHROMIUM_ARGS, DESKTOP_UA, LocalSentry

pytestmark = pytest.mark.sentry
SECRET = "sntrys_never_public_0123456789"

NODE_APP = r"""
import { init, Sentry } from "@sentry-stacks/runtime/node";
const config = init();
for (const name of ["GET /health", "GET /orders"]) {
  await Sentry.startSpan({ name, op: "http.server", forceTransaction: true }, async () => {
    await Sentry.startSpan({ name: "db.query", op: "db" }, async () => new Promise((r) => setTimeout(r, 5)));
  });
}
Sentry.setUser({ id: "node-user" });
const eventId = Sentry.captureException(new Error(`node runtime failure ${process.env.RUN}`));
await Sentry.flush(10000);
console.log(JSON.stringify({ eventId, environment: config.environment, logEvents: config.logEvents }));
"""

SPA_MAIN = r"""
import { init, Sentry } from "@sentry-stacks/runtime/browser";

const config = init({ user: { id: "spa-user", username: "spa-name", email: "spa@example.com" } });
const eventId = Sentry.captureException(new Error("vite spa failure " + config.release));
Sentry.flush(10000).then((flushed) => { window.SPA_DONE = { eventId, flushed, dsn: config.dsn }; });
"""

SPA_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>spa</title>
<script src="/sentry-config.js"></script>
<script type="module" src="/main.js"></script></head>
<body><h1>spa</h1></body></html>
"""


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return npm_project(tmp_path_factory.mktemp("js-runtime") / "app", f"@sentry/node@{NODE_SDK}",
                       f"@sentry/browser@{BROWSER_SDK}", f"vite@{VITE}")  # fmt: skip


def run_node(folder: Path, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    _, node = tools()
    (folder / "server.mjs").write_text(NODE_APP)
    base = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    done = subprocess.run([node, "server.mjs"], cwd=folder, env={**base, **env}, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def span_names(ls: LocalSentry, project: dict[str, Any], release: str) -> list[str]:
    resp = ls.api("GET", f"/api/0/organizations/{ls.org}/events/",
                  params={"project": project["id"], "dataset": "spans", "field": ["span.name"],
                          "query": f"release:{release}"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    return [str(row["span.name"]) for row in resp.json()["data"]]


def test_node_server_configured_from_the_environment_and_env_file(
    localsentry: LocalSentry, project_dir: Path, tmp_path: Path
) -> None:
    ls = localsentry
    project = ls.create_project(platform="node")
    run = uuid.uuid4().hex[:8]
    env_file = tmp_path / "svc.env"  # dsnReload: file: the DSN comes from the mounted file
    write_env_file(env_file, {"SENTRY_DSN": ls.dsn(project["slug"]), "SENTRY_RELEASE": f"node@{run}"})
    sent, stderr = run_node(project_dir, {
        "SENTRY_STACKS_ENV_FILE": str(env_file), "SENTRY_ENVIRONMENT": "staging", "SENTRY_RELEASE": "ignored",
        "SENTRY_TRACES_SAMPLE_RATE": "1", "SENTRY_AUTH_TOKEN": SECRET, "RUN": run,
    })  # fmt: skip
    assert sent["environment"] == "staging" and sent["logEvents"] is False
    assert SECRET not in stderr and ls.dsn(project["slug"]).split("//")[1].split("@")[0] not in stderr
    (error,) = wait_events(ls, project["slug"], 1)
    detail = event_detail(ls, project["slug"], sent["eventId"])
    assert error["title"] == f"Error: node runtime failure {run}"
    assert (detail["environment"], detail["release"]["version"], detail["user"]["id"]) == ("staging", f"node@{run}",
                                                                                             "node-user")
    names: list[str] = []
    for _ in range(50):
        names = span_names(ls, project, f"node@{run}")
        if "GET /orders" in names:
            break
        subprocess.run(["sleep", "0.2"], check=True)
    assert "GET /orders" in names and "db.query" in names, names
    assert "GET /health" not in names, "health checks are never traced"


def test_node_in_development_logs_instead_of_sending(localsentry: LocalSentry, project_dir: Path) -> None:
    ls = localsentry
    project = ls.create_project(platform="node")
    sent, stderr = run_node(project_dir, {"SENTRY_DSN": ls.dsn(project["slug"]), "SENTRY_ENVIRONMENT": "development",
                                          "RUN": "dev"})  # fmt: skip
    assert sent["logEvents"] is True
    line = f"not sent (SENTRY_STACKS_LOG_EVENTS): error event {sent['eventId']}: Error: node runtime failure dev"
    assert line in stderr
    assert project_events(ls, project["slug"]) == []
    bad = subprocess.run([tools()[1], "server.mjs"], cwd=project_dir, capture_output=True, text=True, timeout=60,
                         env={"PATH": os.environ["PATH"], "SENTRY_TRACES_SAMPLE_RATE": "2"}, check=False)  # fmt: skip
    assert bad.returncode == 2 and "SENTRY_TRACES_SAMPLE_RATE must be a number between 0 and 1" in bad.stderr


@pytest.fixture(scope="module")
def spa_build(project_dir: Path) -> Path:
    """A Vite SPA, built once: its bundle holds no DSN, release or environment."""
    src = project_dir / "spa"
    src.mkdir(exist_ok=True)
    (src / "index.html").write_text(SPA_HTML)
    (src / "main.js").write_text(SPA_MAIN)
    (src / "public").mkdir(exist_ok=True)
    (src / "public" / "sentry-config.js").write_text("// written at start by sentry-stacks-public-config\n")
    build = subprocess.run([str(project_dir / "node_modules" / ".bin" / "vite"), "build", "--outDir", "../dist",
                            "--emptyOutDir"], cwd=src, capture_output=True, text=True, timeout=600,
                           check=False)  # fmt: skip
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    return project_dir / "dist"


def test_vite_spa_reads_its_config_at_start_and_never_a_secret(
    localsentry: LocalSentry, project_dir: Path, spa_build: Path, chromium: str
) -> None:
    from playwright.sync_api import sync_playwright

    ls = localsentry
    project = ls.create_project(platform="javascript")
    run = uuid.uuid4().hex[:8]
    env = {"PATH": os.environ["PATH"], "VITE_SENTRY_DSN": ls.dsn(project["slug"]), "VITE_SENTRY_ENVIRONMENT": "prod",
           "VITE_SENTRY_RELEASE": f"spa@{run}", "VITE_SENTRY_DATA_COLLECTION": '{"userInfo": false}',
           "SENTRY_AUTH_TOKEN": SECRET, "VITE_SENTRY_AUTH_TOKEN": SECRET}  # fmt: skip
    start = subprocess.run([str(project_dir / "node_modules" / ".bin" / "sentry-stacks-public-config"), "--framework",
                            "vite", "--out", str(spa_build / "sentry-config.js")], env=env, capture_output=True,
                           text=True, timeout=60, check=False)  # fmt: skip
    assert start.returncode == 0, start.stderr
    served = "".join(p.read_text(errors="replace") for p in spa_build.rglob("*") if p.is_file())
    assert SECRET not in served, "a secret never reaches what the browser gets"
    assets = "".join(p.read_text(errors="replace") for p in (spa_build / "assets").rglob("*.js"))
    key = env["VITE_SENTRY_DSN"].split("//")[1].split("@")[0]
    assert key not in assets and run not in assets, "no DSN or release in the build"

    with static_site(spa_build) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(user_agent=DESKTOP_UA)
            page.goto(url + "/")
            page.wait_for_function("window.SPA_DONE !== undefined", timeout=60_000)
            done = page.evaluate("window.SPA_DONE")
        finally:
            browser.close()
    assert done["flushed"] is True and done["dsn"] == env["VITE_SENTRY_DSN"]
    wait_events(ls, project["slug"], 1)
    detail = event_detail(ls, project["slug"], done["eventId"])
    assert detail["title"] == f"Error: vite spa failure spa@{run}"
    assert (detail["environment"], detail["release"]["version"]) == ("prod", f"spa@{run}")
    assert detail["user"]["id"] == "spa-user" and detail["user"].get("username") is None, "userInfo false: the id"
