"""@sentry-stacks/runtime in a Vue 3 single-page app built with Vite (`@sentry-stacks/runtime/vue`, `@sentry/vue` 11),
in headless Chromium against a real localsentry: the page's config is written at "container start" by
`sentry-stacks-public-config --framework vite`; an error thrown in a Vue event handler, which Vue catches before
window.onerror could see it (with `@sentry-stacks/runtime/browser` it is only logged to the console), arrives with the
environment, the release and the user. The build is `scripts/build-frontend` with the README's relative `--maps`
folder: the hidden source maps leave the served folder for that folder, under the directory it was run from."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.runtime.js_support import VITE, browser_page, npm_project, static_site
from tests.runtime.support import event_detail, wait_events
from tests.support.localsentry import ROOT, LocalSentry

pytestmark = pytest.mark.sentry
VUE, VUE_SDK = "3.5.47", "11.11.0"  # @sentry/vue: the Nuxt test's (shared npm cache)

FILES = {
    "index.html": """<!doctype html>
<html><head><meta charset="utf-8"><title>vue spa</title></head>
<body><div id="app"></div>
<script src="/sentry-config.js"></script>
<script type="module" src="/src/main.js"></script></body></html>
""",
    # the app's glue: the import and init(app) before mount
    "src/main.js": """import { init } from "@sentry-stacks/runtime/vue";
import { createApp, h } from "vue";

function boom() { throw new Error("vue handler failure " + window.__SENTRY_STACKS_CONFIG__.release); }
const app = createApp({ render: () => h("button", { id: "boom", onClick: boom }, "boom") });
init(app, { user: { id: "vue-user", email: "v@example.com" } });
app.mount("#app");
""",
    "public/sentry-config.js": "// written at start by sentry-stacks-public-config\n",
    "vite.config.js": 'export default { build: { outDir: "dist", emptyOutDir: true, sourcemap: "hidden" } };\n',
}


@pytest.fixture(scope="module")
def vue_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The SPA built by scripts/build-frontend run from another directory with a relative --maps: (dist, maps)."""
    tmp = tmp_path_factory.mktemp("vue")
    folder = npm_project(tmp / "web", f"vue@{VUE}", f"@sentry/vue@{VUE_SDK}", f"vite@{VITE}")
    package = json.loads((folder / "package.json").read_text())
    (folder / "package.json").write_text(json.dumps({**package, "scripts": {"build": "vite build"}}))
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    build = subprocess.run([str(ROOT / "scripts" / "build-frontend"), "--src", "web", "--client", "dist", "--maps",
                            "dist/sourcemaps/web"], cwd=tmp, capture_output=True, text=True, timeout=900,
                           check=False)  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    maps = tmp / "dist" / "sourcemaps" / "web"
    assert build.stdout.strip() == str(maps)
    return folder / "dist", maps


def test_build_frontend_takes_a_maps_folder_relative_to_where_it_runs(vue_build: tuple[Path, Path]) -> None:
    dist, maps = vue_build
    assert [p.name for p in maps.rglob("*.map")], "the maps are in the --maps folder"
    assert not list(dist.rglob("*.map")), "no map is left where the browser is served from"


def test_a_vue_handler_error_arrives_with_the_pages_config(
    localsentry: LocalSentry, vue_build: tuple[Path, Path], chromium: str
) -> None:
    dist, _ = vue_build
    ls = localsentry
    project = ls.create_project(platform="javascript-vue")
    run = uuid.uuid4().hex[:8]
    env = {"PATH": os.environ["PATH"], "VITE_SENTRY_DSN": ls.dsn(project["slug"]), "VITE_SENTRY_ENVIRONMENT": "prod",
           "VITE_SENTRY_RELEASE": f"vue@{run}", "VITE_SENTRY_DATA_COLLECTION": '{"userInfo": false}'}  # fmt: skip
    start = subprocess.run([str(dist.parent / "node_modules" / ".bin" / "sentry-stacks-public-config"), "--framework",
                            "vite", "--out", str(dist / "sentry-config.js")], env=env, capture_output=True,
                           text=True, timeout=60, check=False)  # fmt: skip
    assert start.returncode == 0, start.stderr
    with static_site(dist) as url, browser_page(chromium, url + "/") as (page, _):
        page.wait_for_selector("#boom")
        page.click("#boom")
        events = wait_events(ls, project["slug"], 1, timeout=60)
    [event] = [e for e in events if f"vue handler failure vue@{run}" in e["title"]]
    detail = event_detail(ls, project["slug"], event["id"])
    assert (detail["environment"], detail["release"]["version"]) == ("prod", f"vue@{run}")
    assert detail["user"]["id"] == "vue-user" and not detail["user"].get("email")  # no user info collected
