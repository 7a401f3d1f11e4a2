"""Contract tests: organizations, teams, projects, keys, environments, filters and events, driven with Sentry's
documented request bodies, every response validated against Sentry's published schema (`check`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from localsentry import contract
from tests.support.localsentry import VALIDATED, LocalSentry, check, fill, unique

pytestmark = [pytest.mark.sentry, pytest.mark.schema]

O = "/api/0/organizations/{organization_id_or_slug}/"  # noqa: E741
T = "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}/"
P = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/"
K = P + "keys/{key_id}/"
OPERATIONS = [
    ("GET", "/api/0/organizations/"), ("GET", O), ("PUT", O), ("GET", O + "environments/"),
    ("GET", O + "project-keys/"), ("GET", O + "projects/"), ("POST", O + "projects/"), ("GET", O + "teams/"),
    ("POST", O + "teams/"), ("GET", T), ("PUT", T), ("DELETE", T), ("GET", T + "projects/"), ("POST", T + "projects/"),
    ("GET", P), ("PUT", P), ("DELETE", P), ("GET", P + "environments/"), ("PUT", P + "environments/"),
    ("GET", P + "environments/{environment}/"), ("PUT", P + "environments/{environment}/"), ("GET", P + "events/"),
    ("GET", P + "events/{event_id}/"), ("GET", P + "filters/"), ("PUT", P + "filters/{filter_id}/"),
    ("GET", P + "keys/"), ("POST", P + "keys/"), ("GET", K), ("PUT", K), ("DELETE", K), ("GET", P + "teams/"),
    ("POST", P + "teams/{team_id_or_slug}/"), ("DELETE", P + "teams/{team_id_or_slug}/"),
]  # fmt: skip


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("contract"), rate_limit=0, concurrent_limit=0)
    yield server
    server.stop()


def _project(ls: LocalSentry, **body: object) -> dict[str, object]:
    name = unique("The Spoiled Yoghurt")
    payload = {"name": name, "slug": name.lower().replace(" ", "-"), "platform": "javascript", "default_rules": True}
    payload.update(body)
    resp = ls.api("POST", fill(T + "projects/", org=ls.org, team=ls.team), json=payload)
    return dict(check(resp, T + "projects/", 201))


def _ingest(ls: LocalSentry, project: dict[str, object], environment: str) -> str:
    key = ls.keys(str(project["slug"]))[0]
    event_id = uuid.uuid4().hex
    event = {"event_id": event_id, "message": "contract", "environment": environment, "release": "1.0",
             "platform": "python", "user": {"id": "42", "email": "a@example.com"}, "tags": {"k": "v"}}  # fmt: skip
    body = b"\n".join([json.dumps({"event_id": event_id}).encode(), b'{"type":"event"}', json.dumps(event).encode()])
    resp = requests.post(f"{ls.url}/api/{project['id']}/envelope/?sentry_key={key['public']}&sentry_version=7",
                         data=body, timeout=10)  # fmt: skip
    assert resp.status_code == 200, resp.text
    return event_id


def test_organization_endpoints(ls: LocalSentry) -> None:
    orgs = check(ls.api("GET", "/api/0/organizations/"), "/api/0/organizations/", 200)
    assert ls.org in [o["slug"] for o in orgs]
    org = check(ls.api("GET", fill(O, org=ls.org)), O, 200)
    assert org["slug"] == ls.org and "features" in org
    updated = check(ls.api("PUT", fill(O, org=ls.org), json={"name": "The Interstellar Jurisdiction"}), O, 200)
    assert updated["name"] == "The Interstellar Jurisdiction"
    project = _project(ls)
    _ingest(ls, project, "production")
    envs = check(ls.api("GET", fill(O + "environments/", org=ls.org)), O + "environments/", 200)
    assert "production" in [e["name"] for e in envs]
    keys = check(ls.api("GET", fill(O + "project-keys/", org=ls.org), params={"team": ls.team}),
                 O + "project-keys/", 200)  # fmt: skip
    assert any(k["projectId"] == int(str(project["id"])) for k in keys)


def test_team_endpoints(ls: LocalSentry) -> None:
    slug = unique("the-interstellar-jurisdiction")
    created = check(ls.api("POST", fill(O + "teams/", org=ls.org), json={"slug": slug, "name": "Interstellar"}),
                    O + "teams/", 201)  # fmt: skip
    assert created["slug"] == slug
    listed = check(ls.api("GET", fill(O + "teams/", org=ls.org), params={"query": f"slug:{slug}"}), O + "teams/", 200)
    assert [t["slug"] for t in listed] == [slug]
    got = check(ls.api("GET", fill(T, org=ls.org, team=slug)), T, 200)
    assert got["id"] == created["id"]
    new_slug = unique("the-obese-philosophers")
    body = {"slug": new_slug, "name": "The Inflated Philosophers"}
    renamed = check(ls.api("PUT", fill(T, org=ls.org, team=slug), json=body), T, 200)
    assert renamed["slug"] == new_slug
    ls.api("POST", fill(T + "projects/", org=ls.org, team=new_slug), json={"name": unique("p")})
    projects = check(ls.api("GET", fill(T + "projects/", org=ls.org, team=new_slug)), T + "projects/", 200)
    assert len(projects) == 1
    check(ls.api("DELETE", fill(T, org=ls.org, team=new_slug)), T, 204)
    assert ls.api("GET", fill(T, org=ls.org, team=new_slug)).status_code == 404


def test_project_endpoints(ls: LocalSentry) -> None:
    project = _project(ls)
    slug = str(project["slug"])
    in_org = check(ls.api("POST", fill(O + "projects/", org=ls.org), json={"name": unique("org-level")}),
                   O + "projects/", 201)  # fmt: skip
    assert in_org["team"]["slug"] == "team-admin"
    listed = check(ls.api("GET", fill(O + "projects/", org=ls.org), params={"query": slug}), O + "projects/", 200)
    assert [p["slug"] for p in listed] == [slug]
    detail = check(ls.api("GET", fill(P, org=ls.org, project=slug)), P, 200)
    assert detail["allowedDomains"] == ["*"] and detail["subjectTemplate"] == "$shortID - $title"
    new_slug = unique("plane-proxy")
    body = {"name": "Plane Proxy", "slug": new_slug, "platform": "javascript", "isBookmarked": True,
            "subjectPrefix": "[Plane Proxy]", "subjectTemplate": "$title", "resolveAge": 720,
            "highlightTags": ["release"], "highlightContext": {"user": ["id", "email"]}}  # fmt: skip
    updated = check(ls.api("PUT", fill(P, org=ls.org, project=slug), json=body), P, 200)
    assert (updated["slug"], updated["resolveAge"], updated["isBookmarked"]) == (new_slug, 720, True)
    teams = check(ls.api("GET", fill(P + "teams/", org=ls.org, project=new_slug)), P + "teams/", 200)
    assert [t["slug"] for t in teams] == [ls.team]
    other = ls.api("POST", fill(O + "teams/", org=ls.org), json={"slug": unique("extra")}).json()["slug"]
    added = check(ls.api("POST", fill(P + "teams/{team_id_or_slug}/", org=ls.org, project=new_slug, team=other)),
                  P + "teams/{team_id_or_slug}/", 201)  # fmt: skip
    assert sorted(t["slug"] for t in added["teams"]) == sorted([ls.team, other])
    membership = fill(P + "teams/{team_id_or_slug}/", org=ls.org, project=new_slug, team=other)
    removed = check(ls.api("DELETE", membership), P + "teams/{team_id_or_slug}/", 200)
    assert [t["slug"] for t in removed["teams"]] == [ls.team]
    check(ls.api("DELETE", fill(P, org=ls.org, project=new_slug)), P, 204)
    assert ls.api("GET", fill(P, org=ls.org, project=new_slug)).status_code == 404


def test_client_key_endpoints(ls: LocalSentry) -> None:
    slug = str(_project(ls)["slug"])
    ls.set_features(None, {"projects:rate-limits": True})
    try:
        body = {"name": "Fabulous Key", "rateLimit": {"window": 7200, "count": 1000}}
        created = check(ls.api("POST", fill(P + "keys/", org=ls.org, project=slug), json=body), P + "keys/", 201)
        assert created["rateLimit"] == {"window": 7200, "count": 1000}
        listed = check(ls.api("GET", fill(P + "keys/", org=ls.org, project=slug), params={"status": "active"}),
                       P + "keys/", 200)  # fmt: skip
        assert [k["name"] for k in listed] == ["Fabulous Key", "Default"]
        got = check(ls.api("GET", fill(K, org=ls.org, project=slug, key_id=created["id"])), K, 200)
        assert got == created
        loader = {"hasReplay": False, "hasDebug": True}
        update = {"name": "Fabulous Key", "isActive": False, "rateLimit": {"window": 7200, "count": 1000},
                  "browserSdkVersion": "7.x", "dynamicSdkLoaderOptions": loader}  # fmt: skip
        updated = check(ls.api("PUT", fill(K, org=ls.org, project=slug, key_id=created["id"]), json=update), K, 200)
        assert updated["isActive"] is False and updated["browserSdkVersion"] == "7.x"
        assert updated["dynamicSdkLoaderOptions"] == {"hasReplay": False, "hasPerformance": True, "hasDebug": True,
                                                      "hasFeedback": False, "hasLogsAndMetrics": False}  # fmt: skip
        check(ls.api("DELETE", fill(K, org=ls.org, project=slug, key_id=created["id"])), K, 204)
        assert ls.api("GET", fill(K, org=ls.org, project=slug, key_id=created["id"])).status_code == 404
    finally:
        ls.set_features(None, {"projects:rate-limits": False})


def test_environment_endpoints(ls: LocalSentry) -> None:
    project = _project(ls)
    slug = str(project["slug"])
    for env in ("production", "staging"):
        _ingest(ls, project, env)
    envs = check(ls.api("GET", fill(P + "environments/", org=ls.org, project=slug)), P + "environments/", 200)
    assert [e["name"] for e in envs] == ["production", "staging"]
    one = fill(P + "environments/{environment}/", org=ls.org, project=slug, environment="staging")
    assert check(ls.api("GET", one), P + "environments/{environment}/", 200)["isHidden"] is False
    hidden = check(ls.api("PUT", one, json={"isHidden": True}), P + "environments/{environment}/", 200)
    assert hidden == {"id": hidden["id"], "name": "staging", "isHidden": True}
    body = {"environmentNames": ["staging"], "isHidden": False}
    bulk = check(ls.api("PUT", fill(P + "environments/", org=ls.org, project=slug), json=body),
                 P + "environments/", 200)  # fmt: skip
    assert [e["isHidden"] for e in bulk] == [False]


def test_filter_endpoints(ls: LocalSentry) -> None:
    slug = str(_project(ls, platform="python")["slug"])
    filters = check(ls.api("GET", fill(P + "filters/", org=ls.org, project=slug)), P + "filters/", 200)
    assert {f["id"] for f in filters} == {"browser-extensions", "filtered-transaction", "legacy-browsers",
                                          "localhost", "web-crawlers"}  # fmt: skip
    one = P + "filters/{filter_id}/"
    check(ls.api("PUT", fill(one, org=ls.org, project=slug, filter_id="localhost"), json={"active": True}), one, 204)
    body = {"subfilters": ["ie", "safari"]}
    check(ls.api("PUT", fill(one, org=ls.org, project=slug, filter_id="legacy-browsers"), json=body), one, 204)
    state = {f["id"]: f["active"] for f in ls.api("GET", fill(P + "filters/", org=ls.org, project=slug)).json()}
    assert state["localhost"] is True and state["legacy-browsers"] == ["ie", "safari"]


def test_event_endpoints(ls: LocalSentry) -> None:
    project = _project(ls)
    slug = str(project["slug"])
    event_id = _ingest(ls, project, "production")
    events = check(ls.api("GET", fill(P + "events/", org=ls.org, project=slug)), P + "events/", 200)
    assert [e["eventID"] for e in events] == [event_id]
    full = check(ls.api("GET", fill(P + "events/", org=ls.org, project=slug), params={"full": "true"}),
                 P + "events/", 200)  # fmt: skip
    assert full[0]["user"]["email"] == "a@example.com"
    one = P + "events/{event_id}/"
    detail = check(ls.api("GET", fill(one, org=ls.org, project=slug, event_id=event_id)), one, 200)
    assert detail["release"]["version"] == "1.0"


def test_contract_operations_listed_match_the_server(ls: LocalSentry) -> None:
    from tests.sentry.test_localsentry_contract_alerts import OPERATIONS as ALERT_OPERATIONS
    from tests.sentry.test_localsentry_contract_releases import OPERATIONS as RELEASE_OPERATIONS
    from tests.sentry.test_localsentry_contract_telemetry import OPERATIONS as TELEMETRY_OPERATIONS

    listed = set(OPERATIONS) | set(ALERT_OPERATIONS) | set(TELEMETRY_OPERATIONS) | set(RELEASE_OPERATIONS)
    assert sorted(listed) == sorted(contract.implemented())


def test_route_scopes_are_the_schemas(ls: LocalSentry) -> None:
    from localsentry.routes import build_router

    routes = {(r.method, r.template): set(r.scopes or ()) for r in build_router().routes}
    for method, template in contract.implemented():
        assert routes[(method, template)] == contract.scopes(method, template), (method, template)


def test_error_statuses_are_documented(ls: LocalSentry) -> None:
    slug = str(_project(ls)["slug"])
    check(ls.api("GET", fill(P, org=ls.org, project="missing")), P, 404)
    check(ls.api("POST", fill(T + "projects/", org=ls.org, team=ls.team), json={"name": "x", "slug": slug}),
          T + "projects/", 409)  # fmt: skip
    check(ls.api("POST", fill(T + "projects/", org=ls.org, team=ls.team), json={}), T + "projects/", 400)
    check(ls.api("POST", fill(P + "keys/", org=ls.org, project=slug), json={"rateLimit": None}), P + "keys/", 400)
    check(ls.api("GET", fill(K, org=ls.org, project=slug, key_id="0" * 32)), K, 404)
    reader = ls.create_token(["project:read"])
    check(ls.api("DELETE", fill(P, org=ls.org, project=slug), token=reader), P, 403)
    check(ls.api("GET", fill(O, org=ls.org), token=None), O, 401)
    check(ls.api("PUT", fill(P + "filters/{filter_id}/", org=ls.org, project=slug, filter_id="nope"), json={}),
          P + "filters/{filter_id}/", 404)  # fmt: skip


def test_every_listed_operation_was_validated(request: pytest.FixtureRequest) -> None:
    ran = {item.name for item in request.session.items if Path(str(item.fspath)) == Path(__file__)}
    if len(ran) < len([n for n in globals() if n.startswith("test_")]):
        pytest.skip("only part of this module ran")
    assert set(OPERATIONS) <= VALIDATED, sorted(set(OPERATIONS) - VALIDATED)
