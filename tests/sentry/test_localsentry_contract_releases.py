"""Contract tests: releases and deploys, driven with Sentry's documented bodies, every response validated against
Sentry's published schema (`check`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.localsentry import VALIDATED, LocalSentry, check, fill, unique

pytestmark = [pytest.mark.sentry, pytest.mark.schema]

R = "/api/0/organizations/{organization_id_or_slug}/releases/"
RV = R + "{version}/"
RD = RV + "deploys/"
PR = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/releases/"
RF, PRF = RV + "files/", PR + "{version}/files/"
RFI, PRFI = RF + "{file_id}/", PRF + "{file_id}/"
OPERATIONS = [("GET", R), ("POST", R), ("GET", RV), ("PUT", RV), ("DELETE", RV), ("GET", RD), ("POST", RD),
              ("GET", PR), *((m, t) for t in (RF, PRF) for m in ("GET", "POST")),
              *((m, t) for t in (RFI, PRFI) for m in ("GET", "PUT", "DELETE"))]  # fmt: skip


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("contract-releases"), rate_limit=0, concurrent_limit=0)
    yield server
    server.stop()


def test_release_upsert_get_update_list(ls: LocalSentry) -> None:
    one, two = (ls.create_project(name=unique("frontend"), platform="javascript")["slug"] for _ in range(2))
    version = f"frontend@{uuid.uuid4().hex[:6]}.0.0".replace("@", "@1")
    created = check(ls.api("POST", fill(R, org=ls.org), json={"version": version, "projects": [one]}), R, 201)
    assert created["version"] == version and [p["slug"] for p in created["projects"]] == [one]
    assert created["versionInfo"]["package"] == "frontend" and created["deployCount"] == 0
    same = check(ls.api("POST", fill(R, org=ls.org), json={"version": version, "projects": [one]}), R, 208)
    assert same["id"] == created["id"]
    more = check(ls.api("POST", fill(R, org=ls.org), json={"version": version, "projects": [one, two]}), R, 201)
    assert sorted(p["slug"] for p in more["projects"]) == sorted([one, two]) and more["id"] == created["id"]
    got = check(ls.api("GET", fill(RV, org=ls.org, version=version)), RV, 200)
    assert got["id"] == created["id"]
    url = "https://github.com/acme/app/releases/tag/1.0.0"
    updated = check(ls.api("PUT", fill(RV, org=ls.org, version=version), json={"url": url, "ref": "v1"}), RV, 200)
    assert updated["url"] == url and updated["ref"] == "v1"
    listing = check(ls.api("GET", fill(R, org=ls.org), params={"query": version[:12]}), R, 200)
    assert version in [r["version"] for r in listing]
    check(ls.api("POST", fill(R, org=ls.org), json={"projects": [one]}), R, 400)
    bad = check(ls.api("POST", fill(R, org=ls.org), json={"version": "a/b", "projects": [one]}), R, 400)
    assert "version" in bad
    unknown = ls.api("POST", fill(R, org=ls.org), json={"version": "x1", "projects": ["nope"]})
    assert "projects" in check(unknown, R, 400)
    check(ls.api("GET", fill(RV, org=ls.org, version="missing-version")), RV, 404)


def test_deploys_and_delete(ls: LocalSentry) -> None:
    slug = ls.create_project(name=unique("backend"), platform="python")["slug"]
    version = uuid.uuid4().hex  # a build hash
    created = check(ls.api("POST", fill(R, org=ls.org), json={"version": version, "projects": [slug]}), R, 201)
    assert created["versionInfo"]["buildHash"] == version and created["shortVersion"] == version[:12]
    body = {"environment": "production", "name": "prod-1", "url": "https://ci.example.com/runs/1",
            "dateStarted": "2026-01-31T12:00:00Z", "dateFinished": "2026-01-31T12:05:00Z", "projects": [slug]}
    deploy = check(ls.api("POST", fill(RD, org=ls.org, version=version), json=body), RD, 201)
    assert {k: deploy[k] for k in ("environment", "name", "dateStarted", "dateFinished")} == {
        "environment": "production", "name": "prod-1", "dateStarted": "2026-01-31T12:00:00Z",
        "dateFinished": "2026-01-31T12:05:00Z"}
    bare = check(ls.api("POST", fill(RD, org=ls.org, version=version), json={"environment": "staging"}), RD, 201)
    assert bare["dateStarted"] is None and bare["dateFinished"]
    check(ls.api("POST", fill(RD, org=ls.org, version=version), json={}), RD, 400)
    listed = check(ls.api("GET", fill(RD, org=ls.org, version=version)), RD, 200)
    assert [d["id"] for d in listed] == [bare["id"], deploy["id"]]
    release = check(ls.api("GET", fill(RV, org=ls.org, version=version)), RV, 200)
    assert release["deployCount"] == 2 and release["lastDeploy"]["id"] == bare["id"]
    check(ls.api("DELETE", fill(RV, org=ls.org, version=version)), RV, 204)
    check(ls.api("GET", fill(RV, org=ls.org, version=version)), RV, 404)


def test_a_release_first_seen_in_an_event_is_a_release(ls: LocalSentry) -> None:
    project = ls.create_project(name=unique("ingest"), platform="python")
    key = ls.keys(str(project["slug"]))[0]
    event_id = uuid.uuid4().hex
    version = unique("seen")
    event = {"event_id": event_id, "message": "hi", "release": version, "platform": "python"}
    header = json.dumps({"event_id": event_id}).encode()
    envelope = b"\n".join([header, b'{"type":"event"}', json.dumps(event).encode()])
    resp = requests.post(f"{ls.url}/api/{project['id']}/envelope/?sentry_key={key['public']}&sentry_version=7",
                         data=envelope, timeout=10)
    assert resp.status_code == 200
    ls.wait_items(str(project["slug"]), 1)
    got = check(ls.api("GET", fill(RV, org=ls.org, version=version)), RV, 200)
    assert [p["slug"] for p in got["projects"]] == [project["slug"]] and got["firstEvent"]
    # a release that events point at is kept, as Sentry does
    gone = ls.api("DELETE", fill(RV, org=ls.org, version=version))
    assert gone.status_code == 400 and "cannot be removed" in gone.json()["detail"]


def test_a_projects_releases(ls: LocalSentry) -> None:
    """`GET /api/0/projects/{org}/{project}/releases/` (what `sentry-cli releases list` reads): the project's
    releases only, newest first, by `query` prefix and by the environments they were seen in or deployed to."""
    one, two = (str(ls.create_project(name=unique("rel"))["slug"]) for _ in range(2))
    first, second, other = unique("app@1"), unique("app@2"), unique("other@1")
    for version, projects in ((first, [one]), (second, [one, two]), (other, [two])):
        check(ls.api("POST", fill(R, org=ls.org), json={"version": version, "projects": projects}), R, 201)
    listed = check(ls.api("GET", fill(PR, org=ls.org, project=one)), PR, 200)
    assert [r["version"] for r in listed] == [second, first]
    by_prefix = check(ls.api("GET", fill(PR, org=ls.org, project=two), params={"query": other[:9]}), PR, 200)
    assert [r["version"] for r in by_prefix] == [other]
    check(ls.api("POST", fill(RD, org=ls.org, version=first), json={"environment": "staging"}), RD, 201)
    staged = check(ls.api("GET", fill(PR, org=ls.org, project=one), params={"environment": "staging"}), PR, 200)
    assert [r["version"] for r in staged] == [first]
    check(ls.api("GET", fill(PR, org=ls.org, project="no-such-project")), PR, 404)
    made = ls.api("POST", fill(PR, org=ls.org, project=two), json={"version": unique("made@1")})
    assert made.status_code == 201 and [p["slug"] for p in made.json()["projects"]] == [two]


def test_release_files(ls: LocalSentry) -> None:
    """A release's files (the one-file upload sentry-cli 1.x used): multipart upload with name, dist and headers,
    list (`query`, `checksum`), details, the bytes (`?download=1`), rename, delete; org and project paths alike."""
    slug = str(ls.create_project(name=unique("files"), platform="javascript")["slug"])
    version = unique("web@1")
    check(ls.api("POST", fill(R, org=ls.org), json={"version": version, "projects": [slug]}), R, 201)
    for files, detail, where in ((RF, RFI, {"org": ls.org}), (PRF, PRFI, {"org": ls.org, "project": slug})):
        path = fill(files, version=version, **where)
        name = f"~/static/{uuid.uuid4().hex[:6]}.min.js"
        made = check(ls.api("POST", path, files=[("file", ("app.min.js", b"a();"))],
                            data={"name": name, "dist": "web", "header": ["Sourcemap: app.min.js.map"]}), files, 201)
        assert (made["name"], made["dist"], made["size"], made["headers"]) == (
            name, "web", 4, {"Sourcemap": "app.min.js.map"})
        check(ls.api("POST", path, files=[("file", ("app.min.js", b"a();"))], data={"name": name, "dist": "web"}),
              files, 409)
        check(ls.api("POST", path, data={"name": "x"}), files, 400)
        assert [f["id"] for f in check(ls.api("GET", path, params={"checksum": made["sha1"]}), files, 200)] == [
            made["id"]]
        assert check(ls.api("GET", path, params={"query": "nothing"}), files, 200) == []
        one = fill(detail, version=version, file_id=made["id"], **where)
        assert check(ls.api("GET", one), detail, 200)["sha1"] == made["sha1"]
        assert ls.api("GET", one, params={"download": "1"}).content == b"a();"
        renamed = check(ls.api("PUT", one, json={"name": name + "?v=2"}), detail, 200)
        assert renamed["name"] == name + "?v=2"
        check(ls.api("PUT", one, json={}), detail, 400)
        check(ls.api("DELETE", one), detail, 204)
        check(ls.api("GET", one), detail, 404)
    check(ls.api("GET", fill(RF, org=ls.org, version="no-such-release")), RF, 404)


def test_every_listed_operation_was_validated(request: pytest.FixtureRequest) -> None:
    ran = {item.name for item in request.session.items if Path(str(item.fspath)) == Path(__file__)}
    if len(ran) < len([n for n in globals() if n.startswith("test_")]):
        pytest.skip("only part of this module ran")
    assert set(OPERATIONS) <= VALIDATED, sorted(set(OPERATIONS) - VALIDATED)
