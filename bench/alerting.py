"""Alert evaluation and delivery cost at ingest: events/s of one project with no workflow against the same project
with 10 firing workflows (each a webhook to a slow receiver, frequency 0, so every event fires all ten), and the
lag from the last event to its last delivery. Prints ratios; never asserts times.

    venv/bin/python bench/alerting.py [--events 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from tests.support.localsentry import LocalSentry


class Slow(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(0.05)  # a receiver that takes 50 ms: ingest must not wait for it
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def ingest(ls: LocalSentry, slug: str, events: int) -> float:
    project_id, key = ls.dsn(slug).rsplit("/", 1)[1], ls.dsn(slug).split("//")[1].split("@")[0]
    url = f"{ls.url}/api/{project_id}/store/?sentry_key={key}&sentry_version=7"
    session, start = requests.Session(), time.perf_counter()
    for i in range(events):
        body = {"event_id": uuid.uuid4().hex, "message": f"bench {i % 5}", "level": "error", "platform": "python"}
        assert session.post(url, data=json.dumps(body), timeout=10).status_code == 200
    return events / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=300)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with tempfile.TemporaryDirectory() as tmp, LocalSentry.start(Path(tmp), rate_limit=0) as ls:
        quiet, busy = ls.create_project(), ls.create_project()
        base = f"/api/0/projects/{ls.org}/{busy['slug']}/plugins/webhooks/"
        ls.api("PUT", base, json={"urls": hook})
        ls.api("POST", base)
        [stream] = ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/",
                          params={"query": "type:issue_stream", "project": busy["id"]}).json()
        action = {"type": "webhook", "config": {"targetType": "specific", "targetIdentifier": "webhooks"}}
        for n in range(10):
            ls.api("POST", f"/api/0/organizations/{ls.org}/workflows/", json={
                "name": f"bench {n}", "detectorIds": [stream["id"]], "config": {"frequency": 0},
                "triggers": {"logicType": "any-short", "conditions": []},
                "actionFilters": [{"logicType": "all", "conditions": [], "actions": [action]}]})  # fmt: skip
        plain = ingest(ls, quiet["slug"], args.events)
        firing = ingest(ls, busy["slug"], args.events)
        sent_at = time.perf_counter()
        while ls.api("GET", "/_localsentry/deliveries", params={"status": "pending", "limit": 1}).json():
            time.sleep(0.2)
        lag = time.perf_counter() - sent_at
    server.shutdown()
    deliveries = args.events * 10
    print(f"events/s without workflows: {plain:.0f}; with 10 firing workflows: {firing:.0f} "
          f"(ratio {firing / plain:.2f}); {deliveries} deliveries to a 50 ms receiver finished {lag:.1f}s after "
          f"the last event ({deliveries / max(lag, 0.001):.0f}/s)")


if __name__ == "__main__":
    main()
