"""The real `@sentry/browser` 11 (npm, bundled with esbuild) in headless Chromium against localsentry, with the
SDK's defaults: no `traceLifecycle` (span streaming is the default) and no logs option (11.x has none: logs are
always on). A page served from another origin makes a pageload span, a custom trace of known spans, known logs
and two errors (one captured, one uncaught); every envelope it posts is read off the wire, and what was sent is
read back through Sentry's APIs: spans and logs of the organization events endpoint (with environment, release and
time filled), the errors as issues with the browser's stack trace, and key stats counted per record.

Skipped without npm, when the registry cannot be reached, or without Chromium; with CI=true those fail."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.localsentry import CHROMIUM_ARGS, DESKTOP_UA, LocalSentry, needed

pytestmark = [pytest.mark.sentry, pytest.mark.browser]
BROWSER_SDK = "11.12.0"
ESBUILD = "0.28.2"
SPAN_V2 = "application/vnd.sentry.items.span.v2+json"
LOG_CONTENT = "application/vnd.sentry.items.log+json"
ENVIRONMENT, RELEASE = "staging", "browser@1.0.0"
CUSTOM_SPANS = ["checkout", "validate cart", "charge card", "render receipt"]  # a root span and 3 children
LOGS = [("cart validated", "info"), ("card declined once", "warn"), ("receipt failed", "error")]

PAGE_SCRIPT = r"""
import * as Sentry from "@sentry/browser";

const cfg = window.SENTRY_TEST;
Sentry.init({
  dsn: cfg.dsn, environment: cfg.environment, release: cfg.release, tracesSampleRate: 1.0,
  integrations: [Sentry.browserTracingIntegration()],
});
const client = Sentry.getClient();
const pageload = Sentry.getActiveSpan();
const pageloadEnded = new Promise((resolve) => client.on("spanEnd", (span) => { if (span === pageload) resolve(); }));

function chargeCard(amount) {
  if (amount > 100) { throw new Error("card declined: amount " + amount); }
}

async function checkout() {
  await pageloadEnded;  // the custom trace is its own trace, not a child of the pageload
  let traceId;
  let eventId;
  await Sentry.startNewTrace(() => Sentry.startSpan({ name: "checkout", op: "ui.action" }, async (root) => {
    traceId = root.spanContext().traceId;
    await Sentry.startSpan({ name: "validate cart", op: "function" }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      Sentry.logger.info("cart validated");
    });
    await Sentry.startSpan({ name: "charge card", op: "http.client" }, async () => {
      Sentry.logger.warn("card declined once");
      try { chargeCard(250); } catch (err) { eventId = Sentry.captureException(err); }
    });
    await Sentry.startSpan({ name: "render receipt", op: "ui.render" }, async () => {
      Sentry.logger.error("receipt failed");
    });
  }));
  setTimeout(() => { throw new TypeError("receipt template missing"); }, 0);  // uncaught: the global handler
  await new Promise((r) => setTimeout(r, 200));
  const flushed = await Sentry.flush(10000);
  window.SENTRY_DONE = { traceId, pageloadTraceId: pageload.spanContext().traceId, eventId, flushed };
}
checkout();
"""

PAGE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>checkout</title>
<script>window.SENTRY_TEST = {config};</script>
<script src="/page.js"></script></head>
<body><h1>checkout</h1></body></html>
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page script bundled with the real SDK: `page.js` in a folder served as the page's origin."""
    npm = shutil.which("npm")
    if npm is None:
        needed("Node.js and npm are needed for the @sentry/browser test (apt-get install nodejs npm)")
    folder = tmp_path_factory.mktemp("browser-sdk")
    proc = subprocess.run(
        [str(npm), "install", "--no-audit", "--no-fund", "--prefix", str(folder),
         f"@sentry/browser@{BROWSER_SDK}", f"esbuild@{ESBUILD}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        needed(f"npm could not install @sentry/browser@{BROWSER_SDK}: {proc.stderr[-500:]}")
    (folder / "app.mjs").write_text(PAGE_SCRIPT)
    site = folder / "site"
    site.mkdir()
    subprocess.run(
        [str(folder / "node_modules" / ".bin" / "esbuild"), "app.mjs", "--bundle", "--format=iife",
         "--target=es2020", f"--outfile={site / 'page.js'}"],
        cwd=folder, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return site


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(bundle: Path) -> Iterator[tuple[str, Path]]:
    """The page's origin: a static server on a free port of 127.0.0.1 (another origin than localsentry)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(bundle)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bundle
    finally:
        server.shutdown()
        server.server_close()


def parse_envelope(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """(envelope header, [(item header, payload)]) as the protocol frames them (`length` or up to a newline)."""
    head, _, rest = body.partition(b"\n")
    items: list[tuple[dict[str, Any], bytes]] = []
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        if not line.strip():
            continue
        header = json.loads(line)
        if isinstance(header.get("length"), int):
            payload, rest = rest[: header["length"]], rest[header["length"] :]
            rest = rest[1:] if rest.startswith(b"\n") else rest
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return json.loads(head), items


def _accepted(ls: LocalSentry, slug: str, key: str, category: str) -> int:
    stats = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/keys/{key}/stats/",
                   params={"resolution": "1h", "category": category}).json()  # fmt: skip
    return sum(int(b["accepted"]) for b in stats)


def _events(ls: LocalSentry, project: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    resp = ls.api("GET", f"/api/0/organizations/{ls.org}/events/", params={"project": project["id"], **params})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


def _run_page(chromium: str, url: str) -> tuple[dict[str, Any], list[tuple[int, bytes]]]:
    """Open the page, wait for its flush; return what it reported and every envelope it posted (status, body)."""
    from playwright.sync_api import sync_playwright

    posted: list[tuple[int, bytes]] = []
    started: list[Any] = []

    def envelope(request: Any) -> bool:
        return bool(request.method == "POST" and "/envelope/" in request.url)

    def finished(request: Any) -> None:
        if envelope(request):
            response = request.response()
            posted.append((response.status if response else 0, request.post_data_buffer or b""))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(user_agent=DESKTOP_UA)
            page.on("request", lambda r: started.append(r) if envelope(r) else None)
            page.on("requestfinished", finished)
            page.on("requestfailed", lambda r: posted.append((-1, r.post_data_buffer or b"")) if envelope(r) else None)
            page.goto(url)
            page.wait_for_function("window.SENTRY_DONE !== undefined", timeout=60_000)
            done = page.evaluate("window.SENTRY_DONE")
            deadline = time.monotonic() + 15
            while len(posted) < len(started) and time.monotonic() < deadline:  # every envelope answered
                page.wait_for_timeout(50)
            assert len(posted) == len(started), "an envelope got no answer"
        finally:
            browser.close()
    return done, posted


def test_the_sdk_defaults_are_span_streaming_and_logs(bundle: Path) -> None:
    """What this test relies on, from the SDK's own type definitions: `traceLifecycle` defaults to "stream"
    and 11.x has no option to turn logs on (they are always sent; `beforeSendLog` may drop them)."""
    core = bundle.parent / "node_modules" / "@sentry" / "core"
    assert json.loads((core / "package.json").read_text())["version"] == BROWSER_SDK
    options = (core / "build" / "types" / "types" / "options.d.ts").read_text()
    lifecycle = options[: options.index("traceLifecycle?: 'static' | 'stream';")]
    assert lifecycle[lifecycle.rindex("/**") :].count("@default 'stream'") == 1
    assert "enableLogs" not in options and "beforeSendLog?:" in options


def test_browser_sdk_defaults_read_back_through_sentry_apis(
    localsentry: LocalSentry, chromium: str, site: tuple[str, Path], tmp_path: Path
) -> None:
    ls = localsentry
    project = ls.create_project(platform="javascript")
    key = ls.keys(project["slug"])[0]
    origin, folder = site
    config = {"dsn": key["dsn"]["public"], "environment": ENVIRONMENT, "release": RELEASE}
    (folder / "index.html").write_text(PAGE_HTML.format(config=json.dumps(config)))
    done, posted = _run_page(chromium, f"{origin}/index.html")
    (tmp_path / "envelopes.txt").write_bytes(b"\n\n".join(body for _, body in posted))  # for a failure's reader
    assert done["flushed"] is True and done["traceId"] != done["pageloadTraceId"]

    # -- what the SDK sent with its defaults, off the wire
    assert posted and {status for status, _ in posted} == {200}
    sent: Counter[str] = Counter()
    content_types: dict[str, set[str]] = {}
    for _, body in posted:
        header, items = parse_envelope(body)
        assert header["sdk"] == {"name": "sentry.javascript.browser", "version": BROWSER_SDK}
        for item_header, payload in items:
            kind = item_header["type"]
            content_types.setdefault(kind, set()).add(str(item_header.get("content_type")))
            if kind in ("span", "log"):
                records = json.loads(payload)["items"]
                assert item_header["item_count"] == len(records)
                sent[kind] += len(records)
            else:
                sent[kind] += 1
    assert "transaction" not in sent, "11.x streams spans: no transactions"
    assert content_types["span"] == {SPAN_V2} and content_types["log"] == {LOG_CONTENT}
    assert sent["log"] == len(LOGS) and sent["event"] == 2 and sent["span"] > len(CUSTOM_SPANS)

    # -- key stats count every span and log record, each in its own category
    deadline = time.monotonic() + 15
    while _accepted(ls, project["slug"], key["id"], "span") < sent["span"] and time.monotonic() < deadline:
        time.sleep(0.2)
    counted = {c: _accepted(ls, project["slug"], key["id"], c) for c in ("span", "log_item", "error", "transaction")}
    assert counted == {"span": sent["span"], "log_item": len(LOGS), "error": 2, "transaction": 0}

    # -- spans: the custom trace exactly, with environment, release and time; the pageload as its own segment
    fields = ["span.name", "span.op", "is_transaction", "parent_span", "span_id", "environment", "release",
              "timestamp", "precise.start_ts", "precise.finish_ts"]  # fmt: skip
    spans = _events(ls, project, dataset="spans", field=fields, query=f"trace:{done['traceId']}",
                    environment=ENVIRONMENT, statsPeriod="1h")  # fmt: skip
    # a loaded machine may block the page's main thread: the SDK then adds its own long-frame spans to the trace
    made = [s for s in spans if not str(s["span.op"]).startswith(("ui.long_animation_frame", "ui.long-task"))]
    assert sorted(s["span.name"] for s in made) == sorted(CUSTOM_SPANS), spans
    assert {(s["environment"], s["release"]) for s in spans} == {(ENVIRONMENT, RELEASE)}
    assert all(s["timestamp"] and s["precise.finish_ts"] >= s["precise.start_ts"] > 0 for s in spans)
    root = next(s for s in spans if s["span.name"] == "checkout")
    assert root["is_transaction"] is True and root["span.op"] == "ui.action"
    assert {s["parent_span"] for s in made if s is not root} == {root["span_id"]}
    assert {s["parent_span"] for s in spans if s is not root} <= {s["span_id"] for s in spans}
    by_release = _events(ls, project, dataset="spans", field=["span.name"], query=f"release:{RELEASE}",
                         per_page=100)  # fmt: skip
    assert len(by_release) == sent["span"]  # every span the browser sent, found by its release
    assert _events(ls, project, dataset="spans", field=["span.name"], environment="production") == []
    pageload = _events(ls, project, dataset="transactions", field=["span.op", "transaction", "trace"],
                       query=f"trace:{done['pageloadTraceId']}")  # fmt: skip
    assert [p["span.op"] for p in pageload] == ["pageload"]

    # -- logs, with their bodies and levels, in the custom trace
    logs = _events(ls, project, dataset="logs", field=["message", "severity", "trace", "span_id", "environment"],
                   query=f"release:{RELEASE}", sort="message")  # fmt: skip
    assert [(log["message"], log["severity"]) for log in logs] == sorted(LOGS)
    assert {(log["trace"], log["environment"]) for log in logs} == {(done["traceId"], ENVIRONMENT)}
    # the SDK names the active span in the attribute sentry.trace.parent_span_id; it reads back as span_id
    assert {log["span_id"] for log in logs} <= {s["span_id"] for s in spans}, logs

    # -- errors: grouped into issues, with the browser's stack trace
    issues = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/",
                    params={"project": project["id"], "environment": ENVIRONMENT, "query": ""}).json()  # fmt: skip
    titles = {i["title"]: i for i in issues}
    assert set(titles) == {"Error: card declined: amount 250", "TypeError: receipt template missing"}
    captured = titles["Error: card declined: amount 250"]
    assert captured["count"] == "1" and captured["level"] == "error"
    event = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{captured['id']}/events/latest/").json()
    assert event["groupID"] == captured["id"] and event["eventID"] == done["eventId"]
    assert event["environment"] == ENVIRONMENT and event["release"]["version"] == RELEASE
    exception = next(e for e in event["entries"] if e["type"] == "exception")["data"]["values"][0]
    frames = exception["stacktrace"]["frames"]
    assert exception["type"] == "Error" and exception["mechanism"]["handled"] is True
    assert any(f["function"] == "chargeCard" and f["filename"].endswith("/page.js") and f["lineNo"] for f in frames)
    assert event["contexts"]["trace"]["trace_id"] == done["traceId"]
    uncaught = titles["TypeError: receipt template missing"]
    latest = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{uncaught['id']}/events/latest/").json()
    mechanism = next(e for e in latest["entries"] if e["type"] == "exception")["data"]["values"][0]["mechanism"]
    assert mechanism["handled"] is False and latest["groupID"] == uncaught["id"]
    errors = _events(ls, project, dataset="errors", field=["title", "issue.id", "release"], query=f"release:{RELEASE}")
    assert {(e["title"], e["issue.id"]) for e in errors} == {(t, i["id"]) for t, i in titles.items()}

    # -- release health: one session (sent as updates); an unhandled error in a browser is no crash in SDK 11
    health = ls.api("GET", f"/api/0/organizations/{ls.org}/sessions/", params={
        "project": project["id"], "environment": ENVIRONMENT, "statsPeriod": "1h", "interval": "1h",
        "field": ["sum(session)", "crash_free_rate(session)"], "query": f"release:{RELEASE}"}).json()  # fmt: skip
    [totals] = [g["totals"] for g in health["groups"]]
    assert totals == {"sum(session)": 1, "crash_free_rate(session)": 1.0} and sent["session"] >= 1
