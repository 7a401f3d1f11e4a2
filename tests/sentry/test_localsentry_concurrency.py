"""No lost writes: concurrent updates of different parts of one stored record all land.

Sentry keeps each inbound filter and project option in its own row, so two clients changing two of them at the
same moment both win. localsentry keeps a project's settings in one JSON record; every change reads and writes
it inside one transaction, so many concurrent PUTs of different filters, settings, key loader options and
organization settings against one object all answer success and are all found afterwards.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.sentry
PROJECTS = 6
ROUNDS = 3

FILTERS: list[tuple[str, dict[str, Any], Any]] = [
    ("browser-extensions", {"active": True}, True),
    ("localhost", {"active": True}, True),
    ("web-crawlers", {"active": True}, True),
    ("filtered-transaction", {"active": False}, False),
    ("legacy-browsers", {"subfilters": ["ie", "opera"]}, ["ie", "opera"]),
]
SETTINGS: list[dict[str, Any]] = [
    {"subjectPrefix": "[shop]"},
    {"resolveAge": 48},
    {"scrubIPAddresses": True},
    {"sensitiveFields": ["card"]},
    {"safeFields": ["order_id"]},
    {"allowedDomains": ["shop.example"]},
    {"digestsMaxDelay": 3000},
    {"dataScrubberDefaults": False},
    {"verifySSL": True},
    {"highlightTags": ["tenant"]},
]


def _updates(ls: LocalSentry, slug: str, round_: int) -> list[tuple[str, str, dict[str, Any]]]:
    base = f"/api/0/projects/{ls.org}/{slug}"
    calls = [("PUT", f"{base}/filters/{fid}/", body) for fid, body, _ in FILTERS]
    calls += [("PUT", f"{base}/", body) for body in SETTINGS]
    calls.append(("PUT", f"{base}/", {"subjectTemplate": f"$title round {round_}"}))
    return calls


def test_concurrent_updates_of_one_project_all_land(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    ls.set_limits(rate_limit=0, concurrent_limit=0)
    try:
        slugs = [ls.create_project()["slug"] for _ in range(PROJECTS)]
        for round_ in range(ROUNDS):
            for slug in slugs:  # reset, so every round has something to lose
                for fid, _, _ in FILTERS:
                    body = {"subfilters": []} if fid == "legacy-browsers" else {"active": fid == "filtered-transaction"}
                    ls.api("PUT", f"/api/0/projects/{ls.org}/{slug}/filters/{fid}/", json=body)
            calls = [c for slug in slugs for c in _updates(ls, slug, round_)]
            with ThreadPoolExecutor(max_workers=24) as pool:
                statuses = list(pool.map(lambda c: ls.api(c[0], c[1], json=c[2]).status_code, calls))
            assert set(statuses) <= {200, 204}, statuses
            for slug in slugs:
                _assert_all_landed(ls, slug, round_)
    finally:
        ls.set_limits(rate_limit=40, concurrent_limit=25)


def _assert_all_landed(ls: LocalSentry, slug: str, round_: int) -> None:
    filters = {f["id"]: f["active"] for f in ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/filters/").json()}
    assert filters == {fid: want for fid, _, want in FILTERS}, (slug, filters)
    project = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/").json()
    for body in SETTINGS:
        for name, value in body.items():
            assert project[name] == value, (slug, name, project[name])
    assert project["subjectTemplate"] == f"$title round {round_}"


def test_concurrent_updates_of_keys_and_the_organization_all_land(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    ls.set_limits(rate_limit=0, concurrent_limit=0)
    try:
        slug = ls.create_project()["slug"]
        key = ls.keys(slug)[0]["id"]
        org = ls.create_org()
        options = ["hasReplay", "hasPerformance", "hasDebug", "hasFeedback", "hasLogsAndMetrics"]
        wanted = {"hasReplay": False, "hasPerformance": False, "hasDebug": True, "hasFeedback": True,
                  "hasLogsAndMetrics": True}  # fmt: skip
        features = [f"feature-{n}" for n in range(8)]
        calls: list[tuple[str, dict[str, Any]]] = [
            (f"/api/0/projects/{ls.org}/{slug}/keys/{key}/", {"dynamicSdkLoaderOptions": {o: wanted[o]}})
            for o in options
        ]
        calls += [(f"/_localsentry/organizations/{org}/features", {f: True}) for f in features]
        calls += [(f"/api/0/organizations/{org}/", {"relayDsnEndpoint": "https://relay.example"}),
                  (f"/_localsentry/organizations/{org}/legacy-alerts", {"mode": "works"})]  # fmt: skip
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda c: ls.api("PUT", c[0], json=c[1]).status_code, calls))
        assert set(statuses) == {200}, statuses
        loader = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/keys/{key}/").json()["dynamicSdkLoaderOptions"]
        assert loader == wanted
        body = ls.api("GET", f"/api/0/organizations/{org}/").json()
        assert set(features) <= set(body["features"]) and body["relayDsnEndpoint"] == "https://relay.example"
        mode = ls.api("GET", f"/api/0/organizations/{org}/alert-rules/")
        assert mode.status_code != 410, "the legacy-alerts mode was lost"
    finally:
        ls.set_limits(rate_limit=40, concurrent_limit=25)
