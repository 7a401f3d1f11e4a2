"""localsentry management API behaviour: auth, rate limits, pagination, slug rules, keys, legacy modes."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry
PERM = {"detail": "You do not have permission to perform this action."}


def test_auth_answers_like_sentry(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    org = f"/api/0/organizations/{ls.org}/"
    missing = ls.api("GET", org, token=None)
    assert (missing.status_code, missing.json()) == (401, {"detail": "Authentication credentials were not provided."})
    assert missing.headers["WWW-Authenticate"] == 'xBasic realm="api"'
    assert ls.api("GET", org, token="sntryu_" + "0" * 64).json() == {"detail": "Invalid token"}
    assert ls.api("GET", org, token="sntrys_eyJ4IjoxfQ_abc").json() == {"detail": "Invalid org token"}
    basic = ls.api("GET", org, token=None, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert basic.status_code == 401
    reader = ls.create_token(["org:read"])
    assert ls.api("GET", org, token=reader).status_code == 200
    denied = ls.api("POST", f"/api/0/organizations/{ls.org}/teams/", token=reader, json={"slug": unique("x")})
    assert (denied.status_code, denied.json()) == (403, PERM)


def test_org_tokens_are_limited_to_org_ci(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    token = ls.create_token(["project:admin", "org:admin"], kind="org")
    assert token.startswith("sntrys_")
    project = ls.create_project()
    for method, path in (("GET", f"/api/0/organizations/{ls.org}/"),
                         ("GET", f"/api/0/projects/{ls.org}/{project['slug']}/keys/"),
                         ("POST", f"/api/0/teams/{ls.org}/{ls.team}/projects/")):  # fmt: skip
        resp = ls.api(method, path, token=token, json={"name": "x"})
        assert (resp.status_code, resp.json()) == (403, PERM), path


def test_rate_limit_headers_and_429(localsentry: LocalSentry) -> None:
    ls = localsentry
    ok = ls.api("GET", f"/api/0/organizations/{ls.org}/")
    assert ok.headers["X-Sentry-Rate-Limit-Limit"] == "40"
    assert ok.headers["X-Sentry-Rate-Limit-ConcurrentLimit"] == "25"
    assert int(ok.headers["X-Sentry-Rate-Limit-Remaining"]) < 40
    assert int(ok.headers["X-Sentry-Rate-Limit-Reset"]) > 0
    ls.set_limits(rate_limit=3, concurrent_limit=0)
    answers = [ls.api("GET", f"/api/0/organizations/{ls.org}/", retry_429=False) for _ in range(10)]
    limited = [r for r in answers if r.status_code == 429]
    assert len(limited) >= 4  # 10 requests span at most two 1 s windows of 3
    assert (
        limited[0].json() == "You are attempting to use this endpoint too frequently. Limit is 3 requests in 1 seconds"
    )
    assert "Retry-After" not in limited[0].headers
    assert limited[0].headers["X-Sentry-Rate-Limit-Remaining"] == "0"
    assert "X-Sentry-Rate-Limit-ConcurrentLimit" not in limited[0].headers  # 0 = off
    assert ls.stats()["rate_limited"] >= 4


def test_concurrent_limit(localsentry: LocalSentry) -> None:
    ls = localsentry
    ls.set_limits(rate_limit=0, concurrent_limit=2)
    ls.set_faults(path="^/api/0/organizations/", delay=1.0, delay_seconds=0.5)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: ls.api("GET", f"/api/0/organizations/{ls.org}/", retry_429=False), range(6)))
    limited = [r for r in answers if r.status_code == 429]
    assert limited and all(r.json().endswith("Concurrency limit is 2") for r in limited)
    assert sum(r.status_code == 200 for r in answers) >= 2


def test_pagination_link_header(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    slug = ls.create_project()["slug"]
    path = f"/api/0/projects/{ls.org}/{slug}/keys/"
    for i in range(12):
        assert ls.api("POST", path, json={"name": f"k{i}"}).status_code == 201
    first = ls.api("GET", path)
    assert len(first.json()) == 10  # keys default to 10 per page
    base = f"{ls.url}{path}?&cursor="
    assert first.headers["Link"] == (
        f'<{base}10:-1:1>; rel="previous"; results="false"; cursor="10:-1:1", '
        f'<{base}10:1:0>; rel="next"; results="true"; cursor="10:1:0"'
    )
    second = ls.api("GET", path, params={"cursor": "10:1:0"})
    assert len(second.json()) == 3 and 'rel="next"; results="false"' in second.headers["Link"]
    filtered = ls.api("GET", path, params={"status": "active", "per_page": 5})
    assert re.search(r"\?status=active&per_page=5&cursor=5:1:0>", filtered.headers["Link"])
    assert ls.api("GET", path, params={"status": "bogus"}).json() == []
    assert ls.api("GET", path, params={"per_page": 101}).json() == {
        "detail": "Invalid per_page value. Cannot exceed 100."
    }
    assert ls.api("GET", path, params={"per_page": "x"}).json() == {"detail": "Invalid per_page parameter."}
    assert ls.api("GET", path, params={"cursor": "nope"}).json() == {"detail": "Invalid cursor parameter."}


def test_project_slug_rules(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    create = f"/api/0/teams/{ls.org}/{ls.team}/projects/"
    name = unique("Slug Rules")
    first = ls.api("POST", create, json={"name": name}).json()
    second = ls.api("POST", create, json={"name": name}).json()
    assert first["slug"] != second["slug"] and second["slug"].startswith(first["slug"])
    taken = ls.api("POST", create, json={"name": "x", "slug": first["slug"]})
    assert (taken.status_code, taken.json()) == (409, {"detail": "A project with this slug already exists."})
    bad = ls.api("POST", create, json={"name": "x", "slug": "1234"})
    assert bad.status_code == 400 and "cannot be entirely numeric" in bad.json()["slug"][0]
    assert ls.api("POST", create, json={"name": "x", "platform": "cobol"}).json() == {"platform": ["Invalid platform"]}
    clash = ls.api("PUT", f"/api/0/projects/{ls.org}/{second['slug']}/", json={"slug": first["slug"]})
    assert clash.json() == {"slug": [f"Another project ({name}) is already using that slug"]}


def test_renamed_project_old_slug_answers_302(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    old = ls.create_project()["slug"]
    new = unique("renamed")
    assert ls.api("PUT", f"/api/0/projects/{ls.org}/{old}/", json={"slug": new}).status_code == 200
    moved = ls.api("GET", f"/api/0/projects/{ls.org}/{old}/keys/")
    assert moved.status_code == 302
    extra = {"url": f"{ls.url}/api/0/projects/{ls.org}/{new}/keys/", "slug": new}
    assert moved.json() == {"detail": {"code": "resource-moved", "message": "Resource has been moved", "extra": extra}}


def test_deleted_project_is_gone_and_its_slug_free(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    project = ls.create_project(platform="python")
    key = ls.keys(project["slug"])[0]
    assert ls.api("DELETE", f"/api/0/projects/{ls.org}/{project['slug']}/").status_code == 204
    gone = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/")
    assert (gone.status_code, gone.json()) == (404, {"detail": "The requested resource does not exist"})
    again = ls.create_project(name="again", slug=project["slug"])
    assert again["slug"] == project["slug"] and again["id"] != project["id"]
    assert ls.keys(again["slug"])[0]["public"] != key["public"]


def test_project_creation_side_effects(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    project = ls.create_project()
    detectors = ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/", params={"project": project["id"]}).json()
    assert sorted(d["type"] for d in detectors) == ["error", "issue_stream"]
    stream = next(d for d in detectors if d["type"] == "issue_stream")
    workflows = ls.api("GET", f"/api/0/organizations/{ls.org}/workflows/", params={"project": project["id"]}).json()
    assert [w["name"] for w in workflows] == ["Send a notification for high priority issues"]
    assert workflows[0]["detectorIds"] == [stream["id"]]
    bare = ls.create_project(default_rules=False)
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/workflows/", params={"project": bare["id"]}).json() == []
    assert [k["label"] for k in ls.keys(bare["slug"])] == ["Default"]


def test_key_semantics(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    slug = ls.create_project()["slug"]
    keys = f"/api/0/projects/{ls.org}/{slug}/keys/"
    limited = {"name": "limited", "rateLimit": {"window": 60, "count": 5}}
    dropped = ls.api("POST", keys, json=limited).json()
    assert dropped["rateLimit"] is None  # projects:rate-limits is off: silently dropped
    assert ls.api("POST", keys, json={"rateLimit": None}).json() == {"rateLimit": ["This field may not be null."]}
    one = f"{keys}{dropped['id']}/"
    assert ls.api("PUT", one, json={"rateLimit": {"window": 60, "count": 5}}).json()["rateLimit"] is None
    versioned = ls.api("PUT", one, json={"browserSdkVersion": "7.x", "name": "renamed"}).json()
    assert versioned["browserSdkVersion"] == "7.x"
    reset = ls.api("PUT", one, json={"isActive": False}).json()
    assert (reset["browserSdkVersion"], reset["name"], reset["isActive"]) == ("9.x", "renamed", False)
    assert [k["id"] for k in ls.api("GET", keys, params={"status": "inactive"}).json()] == [dropped["id"]]
    material = {"public": "a" * 32, "secret": "b" * 32}
    explicit = ls.api("POST", keys, json=material).json()
    assert (explicit["id"], explicit["public"], explicit["secret"]) == ("a" * 32, "a" * 32, "b" * 32)
    assert ls.api("POST", keys, json={"public": "XYZ"}).status_code == 400


def test_key_rate_limit_with_feature(localsentry: LocalSentry) -> None:
    ls = localsentry
    ls.set_features(None, {"projects:rate-limits": True})
    slug = ls.create_project()["slug"]
    keys = f"/api/0/projects/{ls.org}/{slug}/keys/"
    key = ls.api("POST", keys, json={"rateLimit": {"window": 60, "count": 5}}).json()
    assert key["rateLimit"] == {"window": 60, "count": 5}
    assert ls.api("PUT", f"{keys}{key['id']}/", json={"rateLimit": {}}).json()["rateLimit"] == {
        "window": 60,
        "count": 5,
    }
    assert ls.api("PUT", f"{keys}{key['id']}/", json={"rateLimit": None}).json()["rateLimit"] is None
    bad = ls.api("POST", keys, json={"rateLimit": {"window": 90000, "count": 1}})
    assert bad.json() == {"rateLimit": {"window": ["Ensure this value is less than or equal to 86400."]}}


@pytest.mark.parametrize(
    ("mode", "status", "body"),
    [
        ("brownout", 410, {"message": "This API no longer exists."}),
        ("gone", 410, {"detail": "This API no longer exists."}),
        ("404", 404, {"detail": "The requested resource does not exist"}),
    ],
)
def test_legacy_alert_modes(localsentry_session: LocalSentry, mode: str, status: int, body: dict[str, str]) -> None:
    ls = localsentry_session
    org = ls.create_org()
    slug = ls.create_project(organization=org)["slug"]
    ls.set_legacy_alerts(mode, org=org)
    for path in (f"/api/0/projects/{org}/{slug}/rules/", f"/api/0/organizations/{org}/alert-rules/"):
        resp = ls.api("GET", path)
        assert (resp.status_code, resp.json()) == (status, body), path
        if mode == "brownout":
            assert resp.headers["X-Sentry-Deprecation-Date"] == "2026-05-14T00:00:00+00:00"
            assert resp.headers["X-Sentry-Replacement-Endpoint"].startswith(f"/api/0/organizations/{org}/")
    ls.set_legacy_alerts("works", org=org)
    works = ls.api("GET", f"/api/0/projects/{org}/{slug}/rules/")
    assert works.status_code == 200 and works.headers["X-Sentry-Replacement-Endpoint"].endswith("/workflows/")


def test_environment_visibility_validation(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    slug = ls.create_project()["slug"]
    resp = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/environments/", params={"visibility": "nope"})
    assert resp.json() == {"detail": "Invalid value for 'visibility', valid values are: ['all', 'hidden', 'visible']"}
    assert ls.api("POST", f"/api/0/projects/{ls.org}/{slug}/environments/").status_code == 405
