"""Today's SDK telemetry with the real sentry-sdk: span-v2 batches (span streaming), logs, trace metrics,
check-ins, sessions and client reports; each stored with environment, release and time from where the
protocol puts them, and counted per record in its own category, as Relay counts them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from tests.support.localsentry import ROOT, LocalSentry
from tests.support.receiver import until

pytestmark = pytest.mark.sentry

SPANS, LOGS, METRICS, DROPPED = 5, 4, 3, 2  # root + 4 child spans; logs; metrics; events dropped in before_send

APP = r"""
import json, sys
import sentry_sdk
from sentry_sdk import logger, metrics, traces
from sentry_sdk.integrations.stdlib import StdlibIntegration

sentry_sdk.init(
    trace_lifecycle="stream", traces_sample_rate=1.0, enable_logs=True,
    disabled_integrations=[StdlibIntegration()],  # or the SDK traces its own envelope POSTs
    before_send=lambda event, hint: None if event.get("message") == "drop me" else event,
)
out = {}
with traces.start_span(name="GET /checkout") as root:
    out["trace_id"] = root.trace_id
    for name in ("db.query", "cache.get", "http.client", "render"):
        with traces.start_span(name=name, attributes={"sentry.op": name}):
            pass
logger.info("checkout for {user}", user="ada")
logger.warning("stock low")
logger.error("payment failed")
logger.info("done")
metrics.count("checkout.clicks", 2)
metrics.gauge("queue.depth", 7)
metrics.distribution("checkout.ms", 12.5)
with sentry_sdk.monitor(monitor_slug="nightly-report"):
    pass
scope = sentry_sdk.get_isolation_scope()
scope.start_session(session_mode="application")
scope.end_session()
for _ in range(2):
    sentry_sdk.capture_message("drop me")
sentry_sdk.flush(timeout=10)
sentry_sdk.get_client().close(timeout=10)  # sends the client report of the two dropped events
print(json.dumps(out))
"""


def run_app(dsn: str, environment: str, release: str) -> dict[str, Any]:
    env = dict(os.environ, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT=environment, SENTRY_RELEASE=release)
    done = subprocess.run([sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=90,
                          cwd=ROOT, check=True)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _accepted(ls: LocalSentry, slug: str, key: str, category: str) -> int:
    path = f"/api/0/projects/{ls.org}/{slug}/keys/{key}/stats/"
    stats = ls.api("GET", path, params={"resolution": "1h", "category": category}).json()
    return sum(int(b["accepted"]) for b in stats)


def _wait(check: Any, timeout: float = 15) -> Any:
    return until(check, timeout)


@pytest.fixture(scope="module")
def sent(localsentry_session: LocalSentry) -> dict[str, Any]:
    ls = localsentry_session
    project = ls.create_project(platform="python")
    key = ls.keys(project["slug"])[0]
    result = run_app(key["dsn"]["public"], "staging", "shop@3.1.0")
    _wait(lambda: ls.items(project["slug"], type="client_report"))
    return {"project": project, "key": key, **result}


def test_every_record_counts_in_its_own_category(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    ls, slug, key = localsentry_session, sent["project"]["slug"], sent["key"]["id"]
    counted = {c: _accepted(ls, slug, key, c) for c in ("span", "log_item", "trace_metric", "monitor", "session")}
    assert counted == {"span": SPANS, "log_item": LOGS, "trace_metric": METRICS, "monitor": 2, "session": 1}
    assert _accepted(ls, slug, key, "error") == 0  # the default counts errors only, like Sentry
    batches = ls.items(slug, type=["span", "log", "trace_metric"])
    assert sum(int(b["headers"]["item_count"]) for b in batches if b["type"] == "log") == LOGS
    assert len(batches) < SPANS + LOGS + METRICS  # the SDK batches: fewer items than records


def test_client_reports_become_outcomes(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    ls = localsentry_session
    body = ls.api("GET", f"/api/0/organizations/{ls.org}/stats_v2/", params={
        "field": "sum(quantity)", "groupBy": ["outcome", "category"], "statsPeriod": "1h", "interval": "1h",
        "project": sent["project"]["id"]}).json()  # fmt: skip
    totals = {(g["by"]["outcome"], g["by"]["category"]): g["totals"]["sum(quantity)"] for g in body["groups"]}
    assert totals[("client_discard", "error")] == DROPPED
    assert totals[("accepted", "span")] == SPANS
    assert totals[("accepted", "log_item")] == LOGS
    assert totals[("accepted", "trace_metric")] == METRICS


def test_environment_release_and_time_come_from_the_records(
    localsentry_session: LocalSentry, sent: dict[str, Any]
) -> None:
    ls, slug = localsentry_session, sent["project"]["slug"]
    items = ls.items(slug, type=["span", "log", "trace_metric", "check_in", "session"])
    assert {i["type"] for i in items} == {"span", "log", "trace_metric", "check_in", "session"}
    for item in items:
        assert (item["environment"], item["release"]) == ("staging", "shop@3.1.0"), item["type"]
        assert item["timestamp"] is not None and abs(item["timestamp"] - time.time()) < 600, item["type"]
    assert [i["type"] for i in ls.items(slug, environment="staging", release="shop@3.1.0", type="span")]


def test_span_batches_are_read_back_per_span_by_trace(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    ls = localsentry_session
    resp = ls.api("GET", f"/api/0/organizations/{ls.org}/events/", params={
        "dataset": "spans", "field": ["id", "span.name", "span.op", "trace", "is_transaction", "environment"],
        "query": f"trace:{sent['trace_id']}", "project": sent["project"]["id"], "statsPeriod": "1h",
        "environment": "staging"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    rows = resp.json()["data"]
    assert len(rows) == SPANS
    assert sorted(r["span.name"] for r in rows) == sorted(["GET /checkout", "db.query", "cache.get", "http.client",
                                                           "render"])  # fmt: skip
    assert sum(1 for r in rows if r["is_transaction"]) == 1
    assert {r["trace"] for r in rows} == {sent["trace_id"]} and {r["environment"] for r in rows} == {"staging"}
    other = ls.api(
        "GET",
        f"/api/0/organizations/{ls.org}/events/",
        params={"dataset": "spans", "field": ["id"], "project": sent["project"]["id"], "environment": "production"},
    )
    assert other.json()["data"] == []


def test_logs_are_read_back_like_sentry_cli_reads_them(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    ls = localsentry_session
    fields = ["sentry.item_id", "trace", "severity", "timestamp", "message", "project.id"]
    resp = ls.api("GET", f"/api/0/organizations/{ls.org}/events/", params={
        "dataset": "logs", "field": fields, "project": sent["project"]["id"], "per_page": 100,
        "statsPeriod": "90d", "sort": "-timestamp", "query": "severity:error OR severity:warn"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    rows = body["data"]
    assert sorted(r["message"] for r in rows) == ["payment failed", "stock low"]
    assert all(set(r) == set(fields) for r in rows)
    assert body["meta"]["fields"]["timestamp"] == "date"
    everything = ls.api(
        "GET",
        f"/api/0/organizations/{ls.org}/events/",
        params={"dataset": "logs", "field": ["message"], "query": f"project:{sent['project']['slug']}"},
    ).json()["data"]
    assert len(everything) == LOGS


def test_ourlogs_is_the_older_name_of_logs(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    """Sentry accepts `dataset=ourlogs` (the logs dataset's older name, still used by tools) like `logs`."""
    ls = localsentry_session
    params = {"field": ["message", "severity"], "project": sent["project"]["id"], "sort": "message"}
    logs = ls.api("GET", f"/api/0/organizations/{ls.org}/events/", params={**params, "dataset": "logs"})
    ourlogs = ls.api("GET", f"/api/0/organizations/{ls.org}/events/", params={**params, "dataset": "ourlogs"})
    assert ourlogs.status_code == 200, ourlogs.text
    assert ourlogs.json()["data"] == logs.json()["data"] and len(ourlogs.json()["data"]) == LOGS
    unknown = ls.api("GET", f"/api/0/organizations/{ls.org}/events/", params={**params, "dataset": "ourlog"})
    assert unknown.status_code == 400 and "ourlogs" in unknown.json()["detail"]


def test_store_of_a_batch_without_item_count_counts_its_records(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    key = ls.keys(project["slug"])[0]
    header = {"trace": {"trace_id": "a" * 32, "environment": "from-trace", "release": "r9", "public_key": "x"}}
    logs = {"version": 2, "items": [{"timestamp": time.time(), "level": "info", "body": f"l{i}",
                                     "trace_id": "a" * 32} for i in range(3)]}  # fmt: skip
    body = "\n".join(
        json.dumps(p) for p in (header, {"type": "log", "content_type": "application/vnd.sentry.items.log+json"}, logs)
    ).encode()
    url = f"{ls.url}/api/{project['id']}/envelope/"
    assert requests.post(url, data=body, params={"sentry_key": key["public"]}, timeout=10).status_code == 200
    assert _accepted(ls, project["slug"], key["id"], "log_item") == 3
    [item] = ls.items(project["slug"], type="log")
    assert (item["environment"], item["release"]) == ("from-trace", "r9")


def test_sessions_read_back_as_release_health(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    ls = localsentry_session
    params = {"field": ["sum(session)", "count_unique(user)"], "groupBy": ["session.status", "release"],
              "project": sent["project"]["id"], "statsPeriod": "1h", "environment": "staging"}  # fmt: skip
    body = ls.api("GET", f"/api/0/organizations/{ls.org}/sessions/", params=params).json()
    assert [(g["by"], g["totals"]["sum(session)"]) for g in body["groups"]] == [
        ({"session.status": "healthy", "release": "shop@3.1.0"}, 1)
    ]
    assert sum(body["groups"][0]["series"]["sum(session)"]) == 1


def test_session_updates_and_aggregates_count_once_by_final_status(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    key = ls.keys(project["slug"])[0]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    attrs = {"release": "app@1", "environment": "prod"}
    items = [
        ({"type": "session"}, {"sid": "s1", "did": "u1", "init": True, "started": now, "status": "ok", "attrs": attrs}),
        ({"type": "session"}, {"sid": "s1", "did": "u1", "started": now, "status": "crashed", "errors": 1,
                               "attrs": attrs}),
        ({"type": "session"}, {"sid": "s2", "did": "u2", "init": True, "started": now, "status": "exited",
                               "errors": 2, "attrs": attrs}),
        ({"type": "session"}, {"sid": "s3", "started": now, "status": "exited", "attrs": attrs}),  # no init
        ({"type": "sessions"}, {"aggregates": [{"started": now, "exited": 5, "errored": 1}], "attrs": attrs}),
    ]  # fmt: skip
    body = (
        "\n".join(json.dumps(part) for pair in [({}, None)] for part in [pair[0]])
        + "\n"
        + "\n".join(json.dumps(h) + "\n" + json.dumps(p) for h, p in items)
    )
    url = f"{ls.url}/api/{project['id']}/envelope/"
    assert requests.post(url, data=body.encode(), params={"sentry_key": key["public"]}, timeout=10).status_code == 200
    result = ls.api("GET", f"/api/0/organizations/{ls.org}/sessions/", params={
        "field": ["sum(session)", "crash_free_rate(session)"], "groupBy": "session.status",
        "project": project["id"]}).json()  # fmt: skip
    totals = {g["by"]["session.status"]: g["totals"]["sum(session)"] for g in result["groups"]}
    assert totals == {"crashed": 1, "errored": 2, "healthy": 5}
    overall = ls.api("GET", f"/api/0/organizations/{ls.org}/sessions/", params={
        "field": ["sum(session)", "crash_free_rate(session)", "count_unique(user)"], "project": project["id"],
        "query": "release:app@1"}).json()  # fmt: skip
    assert overall["groups"][0]["totals"] == {"sum(session)": 8, "crash_free_rate(session)": 1 - 1 / 8,
                                              "count_unique(user)": 2}  # fmt: skip
    bad = ls.api("GET", f"/api/0/organizations/{ls.org}/sessions/", params={"field": "sum(nope)"})
    assert (bad.status_code, bad.json()) == (400, {"detail": 'Invalid field: "sum(nope)"'})
