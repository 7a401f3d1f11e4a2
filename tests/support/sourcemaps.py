"""A real JavaScript app with hidden source maps, for the source-map tests: the real `@sentry/browser` bundled and
minified by esbuild (`--sourcemap=external`: maps beside the files, no `sourceMappingURL` in them), debug ids
injected by the real `sentry-cli sourcemaps inject`, uploaded by the real `sentry-cli sourcemaps upload`.

    tools = Toolchain.install(tmp)                  # npm: @sentry/browser + esbuild (npm's cache keeps them)
    build = tools.build(tmp / "a", variant="a")     # build/  (site/ is what a browser gets: no .map)
    cli = SentryCli(ls); cli.upload(build.dist, release="shop@1")

Variants are the same checkout code in different builds: `b` bundles one more module before it, so the minified
names, line/column positions and the file's content hash differ; `changed` adds a line before the throw.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tests.support.localsentry import CHROMIUM_ARGS, DESKTOP_UA, ROOT, LocalSentry, needed

T = TypeVar("T")

BROWSER_SDK = "11.12.0"  # the versions the browser test installs (one npm cache)
ESBUILD = "0.28.2"

CHECKOUT = """\
export function payOrder(total) {
  validateTotal(total);
  return total;
}

function validateTotal(total) {
  if (total > 100) {%(pad)s
    throw new Error("payment declined: " + total);
  }
}
"""
NOISE = """\
export const noise = [];
export function remember(value) { noise.push(value); return noise.length; }
export function forget() { noise.length = 0; return noise; }
remember(forget().length);
"""
APP = """\
import * as Sentry from "@sentry/browser";
%(extra)simport { payOrder } from "./checkout.mjs";

const cfg = window.SENTRY_TEST;
Sentry.init({ dsn: cfg.dsn, release: cfg.release, environment: "production" });
document.getElementById("pay").addEventListener("click", function onPay() { payOrder(250); });
window.SENTRY_READY = true;
"""
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title>
<script>window.SENTRY_TEST = %(config)s;</script>
<script defer src="/assets/%(script)s"></script></head>
<body><button id="pay">Pay</button></body></html>
"""
DEBUG_ID = re.compile(r"//# debugId=([0-9a-f-]{36})")


def write_page(build: Build, config: str) -> None:
    """Write the page of `build` with the SDK config (a JSON object: dsn, release)."""
    (build.site / "index.html").write_text(PAGE % {"config": config, "script": build.script})


def sentry_cli() -> str:
    """The pinned real sentry-cli (scripts/install-sentry-cli, cached per user)."""
    proc = subprocess.run([str(ROOT / "scripts" / "install-sentry-cli")], capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    if proc.returncode != 0:
        needed(f"sentry-cli could not be installed (scripts/install-sentry-cli): {proc.stderr.strip()[-400:]}")
    return proc.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class Build:
    dist: Path  # the build output: assets/*.js with debug ids and their hidden maps
    site: Path  # what the browser gets: the page and the assets without maps
    script: str  # the bundle's file name (content-hashed)

    def debug_id(self) -> str:
        found = DEBUG_ID.search((self.dist / "assets" / self.script).read_text())
        assert found, "no debug id injected"
        return found.group(1)


class Toolchain:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def install(cls, folder: Path) -> Toolchain:
        npm = shutil.which("npm")
        if npm is None:
            needed("Node.js and npm are needed for the source map tests (apt-get install nodejs npm)")
        folder.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [str(npm), "install", "--no-audit", "--no-fund", "--prefix", str(folder),
             f"@sentry/browser@{BROWSER_SDK}", f"esbuild@{ESBUILD}"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            needed(f"npm could not install @sentry/browser and esbuild: {proc.stderr[-500:]}")
        return cls(folder)

    def build(self, out: Path, *, variant: str = "a", inject: bool = True, config: str = "{}") -> Build:
        """Bundle and minify the app into `out` (a fresh folder), inject debug ids unless told not to."""
        src = out / "src"
        src.mkdir(parents=True)
        pad = '\n    console.debug("declined", total);' if variant == "changed" else ""
        (src / "checkout.mjs").write_text(CHECKOUT % {"pad": pad})
        (src / "noise.mjs").write_text(NOISE)
        extra = 'import { remember } from "./noise.mjs";\nremember(1);\n' if variant == "b" else ""
        (src / "app.mjs").write_text(APP % {"extra": extra})
        os.symlink(self.folder / "node_modules", out / "node_modules")
        dist = out / "dist"
        subprocess.run(
            [str(self.folder / "node_modules" / ".bin" / "esbuild"), "src/app.mjs", "--bundle", "--minify",
             "--format=iife", "--target=es2020", "--sourcemap=external", "--entry-names=[name].[hash]",
             f"--outdir={dist / 'assets'}"],
            cwd=out, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        if inject:
            subprocess.run([sentry_cli(), "sourcemaps", "inject", str(dist)], capture_output=True, text=True,
                           timeout=120, check=True, env={**os.environ, "SENTRY_DISABLE_UPDATE_CHECK": "1"})  # fmt: skip
        script = next(p.name for p in (dist / "assets").glob("app.*.js"))
        site = out / "site"
        (site / "assets").mkdir(parents=True)
        shutil.copy(dist / "assets" / script, site / "assets" / script)
        built = Build(dist, site, script)
        write_page(built, config)
        return built



class SentryCli:
    """The real sentry-cli against a localsentry (token in its environment only, never on the command line)."""

    def __init__(self, ls: LocalSentry, token: str | None = None) -> None:
        self.binary = sentry_cli()
        self.env = {"PATH": os.environ.get("PATH", ""), "HOME": str(ls.workdir), "SENTRY_URL": ls.url,
                    "SENTRY_AUTH_TOKEN": token or ls.token, "SENTRY_ORG": ls.org,
                    "SENTRY_DISABLE_UPDATE_CHECK": "1"}  # fmt: skip

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True, timeout=300,
                              check=False)  # fmt: skip
        if ok:
            assert proc.returncode == 0, f"sentry-cli {' '.join(args)}: {proc.returncode}\n{proc.stdout[-1500:]}"
        return proc

    def upload(self, folder: Path, *, project: str, release: str | None = None, dist: str | None = None,
               ok: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
        args = ["sourcemaps", "upload", "--project", project, "--url-prefix", "~/", "--wait"]
        args += ["--release", release] if release else []
        args += ["--dist", dist] if dist else []
        return self(*args, str(folder), ok=ok)


def in_page(chromium: str, url: str, act: Callable[[Any], T], *, user_agent: str | None = DESKTOP_UA) -> T:
    """Open `url` in headless Chromium and return what `act(page)` returns (a desktop user agent by default: Sentry's
    web-crawlers filter drops HeadlessChrome's events)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(user_agent=user_agent) if user_agent else browser.new_page()
            page.goto(url)
            return act(page)
        finally:
            browser.close()


def issue_frame_on_page(chromium: str, ls: LocalSentry, issue_id: str) -> tuple[str, str]:
    """The innermost in-app frame of an issue on the localsentry page: its summary and its highlighted line."""

    def read(page: Any) -> tuple[str, str]:
        page.wait_for_selector(".frame.in-app .context .hit")
        summary = page.text_content(".frame.in-app summary") or ""
        return summary, page.text_content(".frame.in-app .context .hit") or ""

    return in_page(chromium, f"{ls.url}/#/issue/{ls.org}/{issue_id}", read, user_agent=None)


def bundle_id(output: str) -> str:
    """The bundle id sentry-cli printed (`> Bundle ID: …`)."""
    found = re.search(r"Bundle ID: ([0-9a-f-]{36})", output)
    assert found, output[-1500:]
    return found.group(1)
