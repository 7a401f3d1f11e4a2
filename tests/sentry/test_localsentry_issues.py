"""Issues from the real sentry-sdk: grouping by the SDK's fingerprint, else exception type and top in-app
frames, else the message template; events carry `groupID`; issues have first/last seen, count, users, level;
the organization and project issue lists, an issue's events, and status changes (resolve, regress)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
import requests

from tests.support.localsentry import ROOT, LocalSentry

pytestmark = pytest.mark.sentry

APP = r"""
import json, logging, sys
import sentry_sdk

sentry_sdk.init()
out = {}

def charge(amount):
    raise ValueError(f"cannot charge {amount}")

def refund(amount):
    raise ValueError(f"cannot refund {amount}")

def capture(key, func, arg, user, **scope_fields):
    try:
        func(arg)
    except ValueError as exc:
        with sentry_sdk.new_scope() as scope:
            scope.set_user({"id": user})
            for name, value in scope_fields.items():
                setattr(scope, name, value)
            out.setdefault(key, []).append(sentry_sdk.capture_exception(exc))

capture("charge", charge, 10, "u1")
capture("charge", charge, 99, "u2")          # other message, same type and frames: same issue
capture("charge", charge, 5, "u1")           # a returning user
capture("refund", refund, 10, "u1")          # another function: another issue
capture("pinned", charge, 1, "u3", fingerprint=["payments", "pinned"])
capture("pinned", refund, 2, "u3", fingerprint=["payments", "pinned"])  # the fingerprint wins
log = logging.getLogger("shop")
for name in ("ada", "bob"):
    log.error("checkout failed for %s", name)  # grouped by the message template
sentry_sdk.flush(timeout=10)
print(json.dumps(out))
"""


def run_app(dsn: str, environment: str) -> dict[str, Any]:
    env = dict(os.environ, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT=environment, SENTRY_RELEASE="shop@2.0.0")
    done = subprocess.run([sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=60,
                          cwd=ROOT, check=True)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def sent(localsentry_session: LocalSentry) -> dict[str, Any]:
    ls = localsentry_session
    project = ls.create_project(platform="python")
    result = run_app(ls.dsn(project["slug"]), "staging")
    ls.wait_items(project["slug"], 8, type="event")
    return {"project": project, **result}


def _issues(ls: LocalSentry, project: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    resp = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/", params={"project": project["id"], **params})
    assert resp.status_code == 200, resp.text
    issues: list[dict[str, Any]] = resp.json()
    return issues


def test_events_are_grouped_into_issues(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    ls, project = localsentry_session, sent["project"]
    issues = _issues(ls, project, sort="freq")
    by_title = {i["title"]: i for i in issues}
    assert len(issues) == 4, sorted(by_title)
    charge = next(i for i in issues if i["culprit"] and "charge" in i["culprit"] and i["count"] == "3")
    assert (charge["count"], charge["userCount"], charge["level"], charge["status"]) == ("3", 2, "error", "unresolved")
    assert charge["firstSeen"] <= charge["lastSeen"]
    assert charge["shortId"] == f"{project['slug'].upper()}-1"
    assert charge["metadata"]["type"] == "ValueError"
    logged = [i for i in issues if i["title"].startswith("checkout failed for")]
    assert len(logged) == 1 and logged[0]["count"] == "2"
    counts = sorted(int(i["count"]) for i in issues)
    assert counts == [1, 2, 2, 3]  # refund; pinned (two functions, one fingerprint); logged; charge
    assert issues[0]["id"] == charge["id"]  # sort=freq


def test_events_carry_their_group(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    ls, project = localsentry_session, sent["project"]
    base = f"/api/0/projects/{ls.org}/{project['slug']}/events/"
    groups = {key: {ls.api("GET", f"{base}{e}/").json()["groupID"] for e in ids} for key, ids in sent.items()
              if key in ("charge", "refund", "pinned")}  # fmt: skip
    assert all(len(g) == 1 and None not in g for g in groups.values())
    assert len(set.union(*groups.values())) == 3
    [charge_group] = groups["charge"]
    events = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{charge_group}/events/").json()
    assert sorted(e["eventID"] for e in events) == sorted(sent["charge"])
    assert all(e["groupID"] == charge_group for e in events)
    latest = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{charge_group}/events/latest/").json()
    oldest = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{charge_group}/events/oldest/").json()
    assert (latest["eventID"], oldest["eventID"]) == (sent["charge"][-1], sent["charge"][0])
    assert latest["fingerprints"] and latest["entries"][0]["type"] == "exception"
    detail = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{charge_group}/").json()
    assert detail["firstRelease"] == {"version": "shop@2.0.0"} and sum(n for _, n in detail["stats"]["24h"]) == 3


def test_issue_filters_and_status(localsentry_session: LocalSentry, sent: dict[str, Any]) -> None:
    ls, project = localsentry_session, sent["project"]
    assert _issues(ls, project, environment="production") == []
    assert len(_issues(ls, project, environment="staging")) == 4
    assert len(_issues(ls, project, query="checkout")) == 1
    [pinned_group] = {ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/events/{e}/").json()["groupID"]
                      for e in sent["pinned"]}  # fmt: skip
    url = f"/api/0/organizations/{ls.org}/issues/{pinned_group}/"
    resolved = ls.api("PUT", url, json={"status": "resolved"}).json()
    assert resolved["status"] == "resolved"
    assert pinned_group not in {i["id"] for i in _issues(ls, project)}  # default query is:unresolved
    assert pinned_group in {i["id"] for i in _issues(ls, project, query="is:resolved")}
    by_project = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/issues/", params={"query": ""}).json()
    assert len(by_project) == 4
    short = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{resolved['shortId']}/").json()
    assert short["id"] == pinned_group
    assert ls.api("PUT", url, json={"status": "bogus"}).status_code == 400


def _browser_error(origin: str) -> bytes:
    """An error envelope shaped as `@sentry/browser` 11 sends it: frames name their file by its URL."""
    frames = [
        {"filename": f"{origin}/assets/app.js", "function": "checkout", "in_app": True, "lineno": 40, "colno": 5},
        {"filename": f"{origin}/assets/app.js?v=3", "function": "chargeCard", "in_app": True, "lineno": 12,
         "colno": 9, "pre_context": ["function chargeCard(amount) {"], "context_line": "  throw new Error(amount);",
         "post_context": ["}"]},
    ]  # fmt: skip
    event = {"event_id": uuid.uuid4().hex, "platform": "javascript", "level": "error", "environment": "staging",
             "exception": {"values": [{"type": "Error", "value": "card declined", "stacktrace": {"frames": frames},
                                       "mechanism": {"type": "generic", "handled": True}}]}}  # fmt: skip
    header = {"event_id": event["event_id"], "sdk": {"name": "sentry.javascript.browser", "version": "11.12.0"}}
    return "\n".join(json.dumps(x) for x in (header, {"type": "event"}, event)).encode()


def test_browser_frames_group_by_path_and_read_back_in_sentrys_shape(localsentry: LocalSentry) -> None:
    """The same bundle served from two origins is one issue (a URL file counts by its path); the event API
    answers frames as Sentry does: camelCase, context as numbered lines, `hasSystemFrames`."""
    ls = localsentry
    project = ls.create_project(platform="javascript")
    key = ls.keys(project["slug"])[0]["public"]
    for origin in ("http://localhost:5173", "https://staging.example.com"):
        resp = requests.post(f"{ls.url}/api/{project['id']}/envelope/", params={"sentry_key": key},
                             data=_browser_error(origin), timeout=10)  # fmt: skip
        assert resp.status_code == 200, resp.text
    ls.wait_items(project["slug"], 2, type="event")
    [issue] = _issues(ls, project)
    assert issue["count"] == "2" and issue["title"] == "Error: card declined"
    latest = ls.api("GET", f"/api/0/organizations/{ls.org}/issues/{issue['id']}/events/latest/").json()
    data = next(e for e in latest["entries"] if e["type"] == "exception")["data"]
    [value] = data["values"]
    assert value["mechanism"] == {"type": "generic", "handled": True} and data["hasSystemFrames"] is False
    top = value["stacktrace"]["frames"][-1]
    # as Relay stores a frame that names its file by URL only: `absPath` the URL, `filename` its path
    assert (top["absPath"], top["filename"], top["function"], top["lineNo"], top["colNo"], top["inApp"]) == (
        "https://staging.example.com/assets/app.js?v=3", "/assets/app.js", "chargeCard", 12, 9, True)  # fmt: skip
    assert top["context"] == [[11, "function chargeCard(amount) {"], [12, "  throw new Error(amount);"], [13, "}"]]
    assert "lineno" not in top and "in_app" not in top
