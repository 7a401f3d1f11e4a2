"""The real sentry-sdk against localsentry: errors, transactions and sessions read back with environment and
release; a disabled key answers 403 while the SDK reports success; concurrent ingest and restarts lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest
import requests

from tests.support.localsentry import ROOT, LocalSentry

pytestmark = pytest.mark.sentry

APP = r"""
import json, sys
import sentry_sdk

sentry_sdk.init(traces_sample_rate=1.0)  # DSN, environment and release come from SENTRY_* variables
out = {}
try:
    1 / 0
except ZeroDivisionError as exc:
    out["error"] = sentry_sdk.capture_exception(exc)
out["message"] = sentry_sdk.capture_message("hello from the sdk")
with sentry_sdk.start_transaction(name="GET /checkout", op="http.server") as tx:
    with sentry_sdk.start_span(op="db", name="SELECT 1"):
        pass
    out["transaction"] = tx.trace_id
scope = sentry_sdk.get_isolation_scope()
scope.start_session(session_mode="application")
scope.end_session()
sentry_sdk.flush(timeout=10)
print(json.dumps(out))
"""


def run_app(dsn: str, environment: str, release: str) -> dict[str, Any]:
    env = dict(os.environ, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT=environment, SENTRY_RELEASE=release)
    done = subprocess.run([sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=60,
                          cwd=ROOT, check=True)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_sdk_errors_transactions_sessions_read_back(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    project = ls.create_project(platform="python")
    sent = run_app(ls.dsn(project["slug"]), "staging", "shop@1.4.2")
    assert sent["error"] and sent["message"]
    events = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/events/",
                    params={"query": "environment:staging"}).json()  # fmt: skip
    assert sorted(e["eventID"] for e in events) == sorted([sent["error"], sent["message"]])
    detail = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/events/{sent['error']}/").json()
    tags = {t["key"]: t["value"] for t in detail["tags"]}
    assert (tags["environment"], tags["release"]) == ("staging", "shop@1.4.2")
    assert detail["title"] == "ZeroDivisionError: division by zero"
    assert detail["sdk"]["name"].startswith("sentry.python")
    transactions = ls.items(project["slug"], type="transaction", environment="staging")
    assert [t["payload"]["transaction"] for t in transactions] == ["GET /checkout"]
    assert transactions[0]["release"] == "shop@1.4.2"
    sessions = ls.wait_items(project["slug"], 1, type=["session", "sessions"])
    assert sessions and {(s["environment"], s["release"]) for s in sessions} == {("staging", "shop@1.4.2")}
    envs = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/environments/").json()
    assert [e["name"] for e in envs] == ["staging"]


def test_disabled_key_answers_403_while_the_sdk_reports_success(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    project = ls.create_project(platform="python")
    key = ls.keys(project["slug"])[0]
    path = f"/api/0/projects/{ls.org}/{project['slug']}/keys/{key['id']}/"
    assert ls.api("PUT", path, json={"isActive": False}).json()["isActive"] is False
    before = ls.stats()["by_route_status"].get("POST /api/{project_id}/envelope/ 403", 0)
    sent = run_app(key["dsn"]["public"], "production", "shop@2.0.0")
    assert len(sent["error"]) == 32  # the SDK hands out an event id: from its side, all went well
    after = ls.stats()["by_route_status"].get("POST /api/{project_id}/envelope/ 403", 0)
    assert after - before >= 3  # error, message, transaction (and session) envelopes were all refused
    assert ls.items(project["slug"]) == []
    stats = ls.api("GET", path + "stats/").json()
    assert sum(b["dropped"] for b in stats) >= 2 and sum(b["accepted"] for b in stats) == 0
    probe = requests.post(f"{ls.url}/api/{project['id']}/envelope/", params={"sentry_key": key["public"]},
                          data=b'{}\n{"type":"event"}\n{}\n', timeout=10)  # fmt: skip
    assert (probe.status_code, probe.json()) == (403, {"detail": "event submission rejected with_reason: ProjectId"})


def test_eight_threads_ingesting_lose_nothing(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    project = ls.create_project()
    key = ls.keys(project["slug"])[0]["public"]
    url = f"{ls.url}/api/{project['id']}/envelope/"
    per_thread, ids, failures = 40, [], []
    lock = threading.Lock()

    def worker(n: int) -> None:
        session = requests.Session()
        for i in range(per_thread):
            event_id = uuid.uuid4().hex
            body = json.dumps({"event_id": event_id, "message": f"t{n}-{i}", "environment": f"thread-{n}"})
            data = f'{{"event_id":"{event_id}"}}\n{{"type":"event"}}\n{body}\n'.encode()
            resp = session.post(url, params={"sentry_key": key}, data=data, timeout=30)
            with lock:
                (ids if resp.status_code == 200 else failures).append(event_id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    stored = ls.items(project["slug"], type="event", limit=10000)
    assert sorted(i["eventId"] for i in stored) == sorted(ids) and len(ids) == 8 * per_thread
    envs = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/environments/").json()
    assert len(envs) == 8


def test_restart_keeps_events_keys_and_settings(localsentry: LocalSentry) -> None:
    ls = localsentry
    ls.set_features(None, {"projects:rate-limits": True})
    project = ls.create_project(platform="python")
    sent = run_app(ls.dsn(project["slug"]), "production", "r1")
    team = ls.api("POST", f"/api/0/organizations/{ls.org}/teams/", json={"slug": "kept"}).json()
    before = {p: ls.api("GET", p).json() for p in (
        f"/api/0/projects/{ls.org}/{project['slug']}/keys/", f"/api/0/organizations/{ls.org}/workflows/",
        f"/api/0/organizations/{ls.org}/detectors/", f"/api/0/projects/{ls.org}/{project['slug']}/events/",
        f"/api/0/teams/{ls.org}/{team['slug']}/")}  # fmt: skip
    ls.restart()
    for path, body in before.items():
        assert ls.api("GET", path).json() == body, path
    assert "projects:rate-limits" in ls.api("GET", f"/api/0/organizations/{ls.org}/").json()["features"]
    again = run_app(ls.dsn(project["slug"]), "production", "r1")
    events = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/events/").json()
    assert {sent["error"], again["error"]} <= {e["eventID"] for e in events}
