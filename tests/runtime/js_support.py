"""A scratch npm project with the packed @sentry-stacks/runtime (scripts/build-packages) and real @sentry/* SDKs from
the registry, for the JavaScript runtime package's tests. npm's cache keeps the downloads between runs."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.localsentry import CHROMIUM_ARGS, DESKTOP_UA, ROOT, needed

NODE_SDK = "11.12.0"  # the versions tests/sentry already installs (shared npm cache)
BROWSER_SDK = "11.12.0"
VITE = "8.4.0"  # the reference frontend's Vite


def tools() -> tuple[str, str]:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        needed("Node.js and npm are needed for the JavaScript runtime package's tests (apt-get install nodejs npm)")
    return str(npm), str(node)


def packed_runtime() -> Path:
    """The package as a team installs it: `npm pack` of packages/js."""
    result = subprocess.run([str(ROOT / "scripts" / "build-packages"), "--js-only"], capture_output=True, text=True,
                            timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def npm_project(folder: Path, *packages: str) -> Path:
    """`npm install` of the packed runtime and `packages` into `folder` (an ESM project)."""
    npm, _ = tools()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text('{"name": "scratch", "private": true, "type": "module"}\n')
    cmd = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", str(packed_runtime()), *packages]
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    if proc.returncode != 0:
        needed(f"npm could not install {' '.join(packages)}: {proc.stderr[-800:]}")
    return folder


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """A static server of `folder` on a free loopback port (another origin than localsentry)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def browser_page(chromium: str, url: str) -> Iterator[tuple[Any, list[str]]]:
    """`url` open in headless Chromium (a desktop user agent), with the text of every script the page loaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(user_agent=DESKTOP_UA)
            scripts: list[str] = []
            page.on("response", lambda r: scripts.append(r.text()) if r.url.endswith(".js") else None)
            page.goto(url)
            yield page, scripts
        finally:
            browser.close()
