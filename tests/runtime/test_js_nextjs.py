"""@sentry-stacks/runtime in a Next.js 16 app (app router, Turbopack) built for real with `next build` and run with
`next start`, `@sentry/nextjs` 11 on both sides, against a real localsentry: the browser's config comes from the
running server (NEXT_PUBLIC_SENTRY_* read per request by the package's server component, never inlined into the
build), so one build sends with whatever DSN the server's environment has; a secret in that environment is in no
page or script; a server render error is captured with the server's environment and release."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from tests.runtime.js_support import browser_page, npm_project, tools
from tests.runtime.support import App, event_detail, free_port, running, wait_events
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.sentry
NEXT, REACT, NEXTJS_SDK = "16.5.0", "19.3.1", "11.11.0"
SECRET = "sntrys_never_public_next_0123456789"

FILES = {
    "next.config.mjs": """import { withSentryConfig } from "@sentry/nextjs/config";
export default withSentryConfig({}, { silent: true, telemetry: false, sourcemaps: { disable: true } });
""",
    "instrumentation.js": """export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") (await import("@sentry-stacks/runtime/nextjs/server")).init();
}
export { onRequestError } from "@sentry-stacks/runtime/nextjs/server";
""",
    "instrumentation-client.js": """import { init, Sentry } from "@sentry-stacks/runtime/nextjs/browser";
init({ user: { id: "next-user" } });
window.NEXT_SENTRY = { ready: () => Boolean(Sentry.getClient()), capture: async (m) => {
  const id = Sentry.captureException(new Error(m)); await Sentry.flush(10000); return id; } };
export { onRouterTransitionStart } from "@sentry-stacks/runtime/nextjs/browser";
""",
    "app/layout.js": """import { SentryStacksConfig } from "@sentry-stacks/runtime/nextjs/config";
export default function RootLayout({ children }) {
  return (<html lang="en"><body><SentryStacksConfig />{children}</body></html>);
}
""",
    "app/page.js": "export default function Page() { return <h1 id=\"ready\">next</h1>; }\n",
    "app/fail/page.js": """import { connection } from "next/server";
export default async function Fail() { await connection(); throw new Error("next server render failure"); }
""",
}


@pytest.fixture(scope="module")
def next_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = npm_project(tmp_path_factory.mktemp("nextjs") / "app", f"next@{NEXT}", f"react@{REACT}",
                         f"react-dom@{REACT}", f"@sentry/nextjs@{NEXTJS_SDK}")  # fmt: skip
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "NEXT_PUBLIC_"))}
    build = subprocess.run([tools()[0], "exec", "--", "next", "build"], cwd=folder, capture_output=True, text=True,
                           timeout=1200, env={**env, "NEXT_TELEMETRY_DISABLED": "1"}, check=False)  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return folder


def test_nextjs_reads_the_public_config_per_request(localsentry: LocalSentry, next_app: Path, chromium: str,
                                                    tmp_path: Path) -> None:
    ls = localsentry
    browser_project = ls.create_project(platform="javascript-nextjs")
    server_project = ls.create_project(platform="node")
    run = uuid.uuid4().hex[:8]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "NEXT_PUBLIC_"))}
    env.update(NEXT_TELEMETRY_DISABLED="1", PORT=str(port), HOSTNAME="127.0.0.1", SENTRY_AUTH_TOKEN=SECRET,
               NEXT_PUBLIC_SENTRY_AUTH_TOKEN=SECRET, SENTRY_DSN=ls.dsn(server_project["slug"]),
               SENTRY_ENVIRONMENT="staging", SENTRY_RELEASE=f"next@{run}", SENTRY_STACKS_LOG_EVENTS="false",
               NEXT_PUBLIC_SENTRY_DSN=ls.dsn(browser_project["slug"]), NEXT_PUBLIC_SENTRY_ENVIRONMENT="staging",
               NEXT_PUBLIC_SENTRY_RELEASE=f"next@{run}", NEXT_PUBLIC_SENTRY_TRACES_SAMPLE_RATE="0")  # fmt: skip
    server = App([tools()[0], "exec", "--", "next", "start", "-p", str(port), "-H", "127.0.0.1"], env,
                 tmp_path / "next.log", port, cwd=next_app)  # fmt: skip
    with running(server):
        server.wait_http("/", timeout=120)
        page_html = requests.get(server.url + "/", timeout=10).text
        assert SECRET not in page_html and ls.dsn(browser_project["slug"]) in page_html
        assert requests.get(server.url + "/fail", timeout=10).status_code == 500
        with browser_page(chromium, server.url + "/") as (page, scripts):
            page.wait_for_function("window.NEXT_SENTRY !== undefined && window.NEXT_SENTRY.ready()", timeout=60_000)
            config = page.evaluate("window.__SENTRY_STACKS_CONFIG__")
            event_id = page.evaluate(f"window.NEXT_SENTRY.capture('next browser failure {run}')")
        assert config["dsn"] == ls.dsn(browser_project["slug"]) and config["release"] == f"next@{run}"
        assert scripts and not any(SECRET in s or run in s for s in scripts), "no secret and no release in the bundles"
        wait_events(ls, browser_project["slug"], 1, timeout=60)
        server_errors = wait_events(ls, server_project["slug"], 1, timeout=60)
    detail = event_detail(ls, browser_project["slug"], event_id)
    assert (detail["environment"], detail["release"]["version"], detail["user"]["id"]) == (
        "staging", f"next@{run}", "next-user")  # fmt: skip
    failure = [e for e in server_errors if "next server render failure" in e["title"]]
    assert failure, [e["title"] for e in server_errors]
    server_detail = event_detail(ls, server_project["slug"], failure[0]["id"])
    assert (server_detail["environment"], server_detail["release"]["version"]) == ("staging", f"next@{run}")
