"""@sentry-stacks/runtime in a Nuxt 3 app built for real with `nuxt build` and run as Nitro's Node server,
`@sentry/vue` 11 in the browser, against a real localsentry: the page's config comes from the running server
(NUXT_PUBLIC_SENTRY_*, the package's Nitro plugin, never the build), so one build sends with whatever DSN the server's
environment has; a secret in that environment is in no page or script; an error thrown in a Vue event handler, which
Vue catches before window.onerror could see it, arrives with the environment, the release and the user; a bad value
stops the server at start naming the variable. The app's glue is the package README's: one line of Nitro plugin, two
of client plugin."""

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
NUXT, VUE_SDK = "3.21.11", "11.11.0"
SECRET = "sntrys_never_public_nuxt_0123456789"

FILES = {
    "nuxt.config.ts": """export default defineNuxtConfig({
  compatibilityDate: "2025-01-01", devtools: { enabled: false }, telemetry: false });
""",
    "server/plugins/sentry-stacks.js": 'export { default } from "@sentry-stacks/runtime/nuxt/server";\n',
    "plugins/sentry.client.js": """import { init } from "@sentry-stacks/runtime/nuxt/browser";
export default defineNuxtPlugin((nuxtApp) => { init(nuxtApp, { user: { id: "nuxt-user", email: "n@example.com" } }); });
""",
    "app.vue": """<script setup>
function boom() { throw new Error("nuxt handler failure " + window.__SENTRY_STACKS_CONFIG__.release); }
</script>
<template><main><h1 id="ready">nuxt</h1><button id="boom" @click="boom">boom</button></main></template>
""",
}


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "NUXT_"))}


@pytest.fixture(scope="module")
def nuxt_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = npm_project(tmp_path_factory.mktemp("nuxt") / "app", f"nuxt@{NUXT}", f"@sentry/vue@{VUE_SDK}")
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    build = subprocess.run([tools()[0], "exec", "--", "nuxt", "build"], cwd=folder, capture_output=True, text=True,
                           timeout=1200, env={**clean_env(), "NUXT_TELEMETRY_DISABLED": "1"}, check=False)  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return folder


def test_nuxt_pages_get_the_servers_public_config_and_vue_errors_arrive(
    localsentry: LocalSentry, nuxt_app: Path, chromium: str, tmp_path: Path
) -> None:
    ls = localsentry
    project = ls.create_project(platform="javascript-vue")
    run = uuid.uuid4().hex[:8]
    port = free_port()
    env = clean_env()
    env.update(PORT=str(port), HOST="127.0.0.1", SENTRY_AUTH_TOKEN=SECRET, NUXT_PUBLIC_SENTRY_AUTH_TOKEN=SECRET,
               NUXT_PUBLIC_SENTRY_DSN=ls.dsn(project["slug"]), NUXT_PUBLIC_SENTRY_ENVIRONMENT="staging",
               NUXT_PUBLIC_SENTRY_RELEASE=f"nuxt@{run}", NUXT_PUBLIC_SENTRY_TRACES_SAMPLE_RATE="0",
               NUXT_PUBLIC_SENTRY_DATA_COLLECTION='{"userInfo": false}')  # fmt: skip
    _, node = tools()
    server = App([node, ".output/server/index.mjs"], env, tmp_path / "nuxt.log", port, cwd=nuxt_app)
    with running(server):
        server.wait_http("/", timeout=120)
        page_html = requests.get(server.url + "/", timeout=10).text
        assert SECRET not in page_html and ls.dsn(project["slug"]) in page_html
        with browser_page(chromium, server.url + "/") as (page, scripts):
            page.wait_for_load_state("networkidle")
            page.click("#boom")
            events = wait_events(ls, project["slug"], 1, timeout=60)
        assert scripts and not any(SECRET in s or run in s for s in scripts), "no secret and no release in the bundles"
    [event] = [e for e in events if f"nuxt handler failure nuxt@{run}" in e["title"]]
    detail = event_detail(ls, project["slug"], event["id"])
    assert (detail["environment"], detail["release"]["version"]) == ("staging", f"nuxt@{run}")
    assert detail["user"]["id"] == "nuxt-user" and not detail["user"].get("email")  # no user info collected


def test_a_bad_public_value_stops_the_nuxt_server_naming_it(nuxt_app: Path) -> None:
    _, node = tools()
    env = {**clean_env(), "PORT": str(free_port()), "HOST": "127.0.0.1", "NUXT_PUBLIC_SENTRY_TRACES_SAMPLE_RATE": "2"}
    done = subprocess.run([node, ".output/server/index.mjs"], cwd=nuxt_app, env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "NUXT_PUBLIC_SENTRY_TRACES_SAMPLE_RATE must be a number between 0 and 1" in done.stderr
