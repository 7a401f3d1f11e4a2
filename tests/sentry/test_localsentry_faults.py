"""localsentry fault injection and request stats."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry
ORG_TEMPLATE = "GET /api/0/organizations/{organization_id_or_slug}/"


def test_injected_errors_are_counted_and_spent(localsentry: LocalSentry) -> None:
    ls = localsentry
    org = f"/api/0/organizations/{ls.org}/"
    ls.set_faults(path="^/api/0/organizations/", status={"503": 1.0}, count=1)
    first, second = ls.api("GET", org), ls.api("GET", org)
    assert first.status_code == 503 and first.headers["Content-Type"] == "text/html"
    assert second.status_code == 200
    ls.set_faults(path="^/api/0/organizations/", status=[500], probability=1.0, count=1)
    error = ls.api("GET", org)
    assert error.status_code == 500 and error.json()["detail"] == "Internal Error"
    assert len(error.json()["errorId"]) == 32
    ls.set_faults(path="^/api/0/organizations/", rate_limit=1.0, count=1)
    limited = ls.api("GET", org, retry_429=False)
    assert limited.status_code == 429 and limited.json().startswith("You are attempting to use this endpoint")
    assert "Retry-After" not in limited.headers and limited.headers["X-Sentry-Rate-Limit-Remaining"] == "0"
    assert ls.api("GET", "/_localsentry/faults").json()["rules"][0]["injected"] == 1
    stats = ls.stats()
    assert stats["faults"] == {"503": 1, "500": 1, "rate_limit": 1}
    assert stats["by_route_status"][f"{ORG_TEMPLATE} 503"] == 1


def test_dropped_connections(localsentry: LocalSentry) -> None:
    ls = localsentry
    ls.set_faults(path="/teams/$", methods=["POST"], drop=1.0, count=1)
    slug = unique("dropped")
    with pytest.raises(requests.ConnectionError):
        ls.api("POST", f"/api/0/organizations/{ls.org}/teams/", json={"slug": slug})
    assert ls.api("GET", f"/api/0/teams/{ls.org}/{slug}/").status_code == 404  # dropped before the write
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/teams/").status_code == 200  # GET is not affected
    ls.set_faults(path="/teams/$", methods=["POST"], drop_after_commit=1.0, count=1)
    with pytest.raises(requests.ConnectionError):
        ls.api("POST", f"/api/0/organizations/{ls.org}/teams/", json={"slug": slug})
    assert ls.api("GET", f"/api/0/teams/{ls.org}/{slug}/").status_code == 200  # written, then dropped
    again = ls.api("POST", f"/api/0/organizations/{ls.org}/teams/", json={"slug": slug})
    assert again.status_code == 409


def test_seeded_faults_repeat(localsentry: LocalSentry) -> None:
    ls = localsentry
    spec = {"seed": 42, "rules": [{"path": "^/api/0/", "status": {"502": 0.5}}]}
    runs = []
    for _ in range(2):
        ls.set_faults(spec)
        runs.append([ls.api("GET", f"/api/0/organizations/{ls.org}/").status_code for _ in range(12)])
    assert runs[0] == runs[1] and {200, 502} == set(runs[0])
    ls.set_faults({})
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/").status_code == 200


def test_faults_from_the_command_line_hit_ingest(tmp_path: Path) -> None:
    faults = {"rules": [{"path": "/envelope/$", "status": {"503": 1.0}, "count": 1}]}
    with LocalSentry.start(tmp_path, faults=faults) as ls:
        project = ls.create_project()
        key = ls.keys(project["slug"])[0]["public"]
        url = f"{ls.url}/api/{project['id']}/envelope/"
        body = b'{}\n{"type":"event"}\n{"message":"x"}\n'
        assert requests.post(url, params={"sentry_key": key}, data=body, timeout=10).status_code == 503
        assert requests.post(url, params={"sentry_key": key}, data=body, timeout=10).status_code == 200


def test_control_endpoints_need_the_admin_token(localsentry: LocalSentry) -> None:
    ls = localsentry
    other = ls.create_token(["org:admin", "project:admin"])
    assert ls.api("PUT", "/_localsentry/faults", token=other, json={}).status_code == 403
    assert ls.api("GET", "/_localsentry/stats", token=None).status_code == 401
    bad = ls.api("PUT", "/_localsentry/faults", json={"rules": [{"status": {"418": 1}}]})
    assert bad.status_code == 400 and "418" in bad.json()["detail"]
    ls.set_faults(path=".*", status={"500": 1.0})
    assert ls.api("GET", "/_localsentry/stats").status_code == 200  # control paths are never faulted


def test_stats_count_by_template_and_reset(localsentry: LocalSentry) -> None:
    ls = localsentry
    ls.reset_stats()
    for _ in range(3):
        ls.api("GET", f"/api/0/organizations/{ls.org}/")
    ls.api("GET", "/api/0/organizations/nope/")
    stats = ls.stats()
    assert stats["by_route"][ORG_TEMPLATE] == 4
    assert stats["by_route_status"][f"{ORG_TEMPLATE} 404"] == 1
    assert stats["by_status"]["200"] >= 3
    ls.reset_stats()
    assert ls.stats()["by_route"].get(ORG_TEMPLATE, 0) == 0
