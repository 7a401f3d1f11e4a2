"""Issues from the real sentry-sdk: grouping by the SDK's fingerprint, else exception type and top in-app
frames, else the message template; events carry `groupID`; issues have first/last seen, count, users, level;
the organization and project issue lists, an issue's events, and status changes (resolve, regress)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

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
