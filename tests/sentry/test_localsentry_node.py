"""The real `@sentry/node` 11 (npm, installed into a temp dir) against localsentry with its defaults (span
streaming, logs on): known numbers of spans, logs, trace metrics and check-ins are read back through Sentry's
APIs and counted per record in their own categories. Skipped without npm or when the registry cannot be
reached; with CI=true either is a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.localsentry import LocalSentry, needed

pytestmark = pytest.mark.sentry
NODE_SDK = "11.12.0"
SPANS, LOGS, METRICS = 4, 3, 2  # a root span and 3 children

APP = r"""
import * as Sentry from "@sentry/node";
Sentry.init({ dsn: process.env.SENTRY_DSN, environment: "staging", release: "node@1.0.0", tracesSampleRate: 1.0 });
let traceId;
await Sentry.startSpan({ name: "GET /orders", op: "http.server" }, async (root) => {
  traceId = root.spanContext().traceId;
  for (const name of ["db.query", "cache.get", "render"]) {
    await Sentry.startSpan({ name, op: name }, async () => { await new Promise(r => setTimeout(r, 5)); });
  }
  Sentry.logger.info("orders listed");
  Sentry.logger.warn("slow cache");
  Sentry.logger.error("render failed");
});
Sentry.metrics.count("orders.listed", 1);
Sentry.metrics.gauge("queue.depth", 3);
const id = Sentry.captureCheckIn({ monitorSlug: "node-job", status: "in_progress" },
  { schedule: { type: "crontab", value: "0 * * * *" }, checkinMargin: 2, maxRuntime: 10 });
await Sentry.flush(10000);  // the SDK sends envelopes in parallel: the upserting check-in must land first
Sentry.captureCheckIn({ checkInId: id, monitorSlug: "node-job", status: "ok" });
await Sentry.flush(10000);
console.log(JSON.stringify({ traceId }));
"""


@pytest.fixture(scope="module")
def node_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        needed("Node.js and npm are needed for the @sentry/node test (apt-get install nodejs npm)")
    folder = tmp_path_factory.mktemp("node-sdk")
    proc = subprocess.run(
        [str(npm), "install", "--no-audit", "--no-fund", "--prefix", str(folder), f"@sentry/node@{NODE_SDK}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        needed(f"npm could not install @sentry/node@{NODE_SDK}: {proc.stderr[-500:]}")
    app = folder / "app.mjs"
    app.write_text(APP)
    return app


def _accepted(ls: LocalSentry, slug: str, key: str, category: str) -> int:
    stats = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/keys/{key}/stats/",
                   params={"resolution": "1h", "category": category}).json()  # fmt: skip
    return sum(int(b["accepted"]) for b in stats)


def test_node_sdk_telemetry_reads_back_with_relays_counts(localsentry: LocalSentry, node_app: Path) -> None:
    ls = localsentry
    project = ls.create_project(platform="node")
    key = ls.keys(project["slug"])[0]
    env = dict(os.environ, SENTRY_DSN=key["dsn"]["public"])
    done = subprocess.run([str(shutil.which("node")), str(node_app)], env=env, capture_output=True, text=True,
                          timeout=120, cwd=node_app.parent, check=True)  # fmt: skip
    trace_id: Any = json.loads(done.stdout.strip().splitlines()[-1])["traceId"]
    deadline = time.monotonic() + 15
    while _accepted(ls, project["slug"], key["id"], "span") < SPANS and time.monotonic() < deadline:
        time.sleep(0.2)
    counted = {c: _accepted(ls, project["slug"], key["id"], c) for c in ("span", "log_item", "trace_metric", "monitor")}
    assert counted == {"span": SPANS, "log_item": LOGS, "trace_metric": METRICS, "monitor": 2}
    assert _accepted(ls, project["slug"], key["id"], "transaction") == 0  # 11.x streams spans, no transactions
    spans = ls.api("GET", f"/api/0/organizations/{ls.org}/events/", params={
        "dataset": "spans", "field": ["span.name", "is_transaction", "environment", "release"],
        "query": f"trace:{trace_id}", "project": project["id"], "environment": "staging"}).json()["data"]  # fmt: skip
    assert sorted(s["span.name"] for s in spans) == ["GET /orders", "cache.get", "db.query", "render"]
    assert {(s["environment"], s["release"]) for s in spans} == {("staging", "node@1.0.0")}
    logs = ls.api("GET", f"/api/0/organizations/{ls.org}/events/", params={
        "dataset": "logs", "field": ["message", "severity"], "project": project["id"], "sort": "message",
        "query": "release:node@1.0.0"}).json()["data"]  # fmt: skip
    assert logs == [{"message": "orders listed", "severity": "info"}, {"message": "render failed", "severity": "error"},
                    {"message": "slow cache", "severity": "warn"}]  # fmt: skip
    checkins = ls.api("GET", f"/api/0/organizations/{ls.org}/monitors/node-job/checkins/").json()
    assert [c["status"] for c in checkins] == ["ok"] and checkins[0]["environment"] == "staging"
