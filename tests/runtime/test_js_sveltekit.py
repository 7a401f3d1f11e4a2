"""@sentry-stacks/runtime in the reference SvelteKit app (demo/frontend, built by scripts/build-images), run with
Node on the host: what the browser gets is the contract's public list read at run time, and a secret of the same
process (SENTRY_AUTH_TOKEN, and a prefixed copy that is not on the list) is in no page, script or config route.
SvelteKit itself publishes every PUBLIC_ variable of the process in `$env/dynamic/public`; the toolkit renders
only the list, so a PUBLIC_ secret never exists there (this test shows why that list matters)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import requests

from tests.runtime.support import App, free_port, running
from tests.support.localsentry import ROOT, needed

FRONTEND = ROOT / "demo" / "frontend"
SECRET = "sntrys_never_public_svelte_0123456789"


def test_sveltekit_serves_only_the_public_list(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (FRONTEND / "build" / "index.js").exists():
        needed("the built reference frontend is needed (scripts/build-images builds demo/frontend/build)")
    port, run = free_port(), uuid.uuid4().hex[:8]
    dsn = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/7"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "PUBLIC_"))}
    env.update(PORT=str(port), HOST="127.0.0.1", SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="staging", SENTRY_AUTH_TOKEN=SECRET,
               SENTRY_STACKS_LOG_EVENTS="true", PUBLIC_SENTRY_DSN=dsn, PUBLIC_SENTRY_RELEASE=f"web@{run}",
               PUBLIC_SENTRY_ENVIRONMENT="staging", PUBLIC_SENTRY_TRACES_SAMPLE_RATE="0.5")  # fmt: skip
    server = App([node, "build/index.js"], env, tmp_path / "frontend.log", port, cwd=FRONTEND)
    with running(server):
        server.wait_http("/health")
        page = requests.get(server.url + "/", timeout=10).text
        config = requests.get(server.url + "/runtime-config.json", timeout=10).json()
        script = requests.get(server.url + "/config.js", timeout=10).text
        paths = set(re.findall(r'"(\./_app/immutable/[^"]+\.js|/_app/immutable/[^"]+\.js)"', page))
        assets = [requests.get(f"{server.url}/{p.lstrip('./')}", timeout=10).text for p in paths]
    assert assets, page[:2000]
    for text in [page, script, str(config), *assets]:
        assert SECRET not in text, "a server secret reaches the browser"
    assert (config["dsn"], config["release"], config["tracesSampleRate"]) == (dsn, f"web@{run}", 0.5)
    assert f"web@{run}" not in "".join(assets), "the build holds no run-time value"
    assert "sentry-stacks: Sentry enabled, logging events instead of sending them" in server.output()
    assert "0123456789abcdef0123456789abcdef" not in server.output(), "the server logs the DSN without its key"
