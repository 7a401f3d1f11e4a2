"""Source map uploads against a real localsentry, as Sentry's API defines them: the chunk-upload options, chunked
and gzip-compressed chunk uploads, artifact-bundle assembly with its states and missing chunks, the artifact bundles
of a project, a bundle's files, `artifact-lookup` (and its downloads) and release files; uploads made by the real
`sentry-cli sourcemaps upload` of a real bundle (esbuild, hidden maps, debug ids injected by the real CLI), with an
organization token (`org:ci`), the least scope an upload needs.

Needs npm (the bundle) and the pinned sentry-cli (scripts/install-sentry-cli); without them it skips locally and
fails with CI=true.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.localsentry import LocalSentry, unique
from tests.support.sourcemaps import Build, SentryCli, Toolchain, bundle_id

pytestmark = pytest.mark.sentry
ORG_ROUTES = "/api/0/organizations/{organization_id_or_slug}"


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("sourcemaps-api"), rate_limit=0)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    tools = Toolchain.install(tmp_path_factory.mktemp("js-toolchain"))
    return tools.build(tmp_path_factory.mktemp("build") / "a")


@pytest.fixture(scope="module")
def ci_token(ls: LocalSentry) -> str:
    return ls.create_token(["org:ci"], kind="org")


def _calls(ls: LocalSentry) -> dict[str, int]:
    return {k: v for k, v in ls.stats()["by_route"].items() if "/_localsentry/" not in k}


def _zip(files: dict[str, tuple[dict[str, Any], bytes]], **attributes: str) -> bytes:
    """A bundle as sentry-cli writes one: `manifest.json` with each file's url, type and headers, then the files."""
    out = io.BytesIO()
    manifest = {"files": {path: info for path, (info, _) in files.items()}, **attributes}
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for path, (_, data) in files.items():
            archive.writestr(path, data)
    return out.getvalue()


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _post_chunks(ls: LocalSentry, parts: list[tuple[str, bytes, bool]], token: str | None = None) -> requests.Response:
    files = [("file_gzip" if zipped else "file", (_sha1(data), gzip.compress(data) if zipped else data))
             for _, data, zipped in parts]  # fmt: skip
    return ls.api("POST", f"/api/0/organizations/{ls.org}/chunk-upload/", files=files,
                  **({"token": token} if token else {}))  # fmt: skip


def _assemble(ls: LocalSentry, body: dict[str, Any]) -> requests.Response:
    return ls.api("POST", f"/api/0/organizations/{ls.org}/artifactbundle/assemble/", json=body)


def test_chunk_upload_options_are_sentrys(ls: LocalSentry, ci_token: str) -> None:
    options = ls.get_json(f"/api/0/organizations/{ls.org}/chunk-upload/")
    assert options["url"] == f"{ls.url}/api/0/organizations/{ls.org}/chunk-upload/"
    assert (options["chunkSize"], options["chunksPerRequest"], options["maxRequestSize"]) == (8388608, 64, 33554432)
    assert (options["hashAlgorithm"], options["compression"], options["concurrency"]) == ("sha1", ["gzip"], 8)
    # localsentry takes source maps only (Sentry also lists debug files...), up to 256 MiB (Sentry's: per organization)
    assert (options["accept"], options["maxFileSize"]) == (["artifact_bundles", "artifact_bundles_v2"], 256 << 20)
    url = f"/api/0/organizations/{ls.org}/chunk-upload/"
    assert ls.api("GET", url, token=ci_token).status_code == 200  # an org token: org:ci is enough
    assert ls.api("GET", url, token=ls.create_token(["org:read"])).status_code == 403


def test_the_real_cli_uploads_a_bundle_once_per_content(ls: LocalSentry, build: Build, ci_token: str) -> None:
    project = ls.create_project(name=unique("web"), platform="javascript")["slug"]
    cli = SentryCli(ls, token=ci_token)
    ls.reset_stats()
    first = cli.upload(build.dist, project=project, release="shop@1").stdout
    calls = _calls(ls)
    assert calls[f"GET {ORG_ROUTES}/chunk-upload/"] == 1 and calls[f"POST {ORG_ROUTES}/chunk-upload/"] == 1
    assert calls[f"POST {ORG_ROUTES}/artifactbundle/assemble/"] == 3  # not_found (missing), created, ok
    listed = ls.get_json(f"/api/0/projects/{ls.org}/{project}/files/artifact-bundles/")
    assert [(b["bundleId"], b["associations"]) for b in listed] == [
        (bundle_id(first), [{"release": "shop@1", "dist": None}])]
    assert listed[0]["fileCount"] == 2  # the minified bundle and its map

    ls.reset_stats()  # the same content again (a second stack): nothing is uploaded, nothing duplicated
    again = cli.upload(build.dist, project=project, release="shop@1").stdout
    assert "Nothing to upload, all files are on the server" in again and bundle_id(again) == bundle_id(first)
    # the options, the assemble that finds every chunk, and the poll that finds the bundle assembled
    assert _calls(ls) == {f"GET {ORG_ROUTES}/chunk-upload/": 1, f"POST {ORG_ROUTES}/artifactbundle/assemble/": 2}
    assert len(ls.get_json(f"/api/0/projects/{ls.org}/{project}/files/artifact-bundles/")) == 1

    other = cli.upload(build.dist, project=project, release="shop@2").stdout  # another release: the same bundle
    assert bundle_id(other) == bundle_id(first)
    [bundle] = ls.get_json(f"/api/0/projects/{ls.org}/{project}/files/artifact-bundles/")
    assert {a["release"] for a in bundle["associations"]} == {"shop@1", "shop@2"}


def test_chunked_gzip_upload_and_the_assembly_states(ls: LocalSentry) -> None:
    project = ls.create_project(name=unique("chunks"), platform="javascript")["slug"]
    debug_id = "8f9a1c5e-2b7d-4e3f-9a61-0c2d5b7e8f10"
    data = _zip({"files/_/_/app.js": ({"url": "~/app.js", "type": "minified_source",
                                        "headers": {"debug-id": debug_id, "sourcemap": "app.js.map"}}, b"x();\n"),
                 "files/_/_/app.js.map": ({"url": "~/app.js.map", "type": "source_map",
                                           "headers": {"debug-id": debug_id}}, b'{"version":3,"sources":[],"names":[],'
                                                                               b'"mappings":""}')},
                debug_id="5d3c2b1a-0000-4000-8000-000000000001")  # fmt: skip
    half = len(data) // 2
    chunks = [data[:half], data[half:]]
    body = {"checksum": _sha1(data), "chunks": [_sha1(c) for c in chunks], "projects": [project], "version": "v1"}
    first = _assemble(ls, body).json()
    assert first == {"state": "not_found", "missingChunks": [_sha1(c) for c in chunks]}
    assert _post_chunks(ls, [("a", chunks[0], True)]).status_code == 200  # gzip-compressed (`file_gzip`)
    assert _assemble(ls, body).json()["missingChunks"] == [_sha1(chunks[1])]
    assert _post_chunks(ls, [("b", chunks[1], False)]).status_code == 200  # plain (`file`)
    assert _assemble(ls, body).json() == {"state": "created", "missingChunks": []}
    assert _assemble(ls, body).json() == {"state": "ok", "detail": None, "missingChunks": []}
    [bundle] = ls.get_json(f"/api/0/projects/{ls.org}/{project}/files/artifact-bundles/")
    assert (bundle["bundleId"], bundle["fileCount"]) == ("5d3c2b1a-0000-4000-8000-000000000001", 2)

    wrong = {**body, "checksum": "0" * 40}  # chunks that do not add up to the reported checksum
    assert _assemble(ls, wrong).json()["state"] == "created"
    failed = _assemble(ls, wrong).json()
    assert failed == {"state": "error", "detail": "Reported checksum mismatch", "missingChunks": []}
    anonymous = _zip({"files/_/_/b.js": ({"url": "~/b.js", "type": "minified_source", "headers": {}}, b"y();")})
    assert _post_chunks(ls, [("c", anonymous, False)]).status_code == 200
    plain = {"checksum": _sha1(anonymous), "chunks": [_sha1(anonymous)], "projects": [project]}
    _assemble(ls, plain)
    assert _assemble(ls, plain).json()["detail"] == "uploading a bundle without debug ids or release is prohibited"

    bad_name = ls.api("POST", f"/api/0/organizations/{ls.org}/chunk-upload/", files=[("file", ("0" * 40, b"zz"))])
    assert (bad_name.status_code, bad_name.json()) == (400, {"error": "Checksum mismatch"})
    fresh = {**body, "checksum": _sha1(b"never assembled")}
    without_version = {k: v for k, v in fresh.items() if k != "version"}
    for wrong_body, error in (
        ({**fresh, "version": "a/b"}, "The version field cannot be empty"),
        ({**without_version, "dist": "web"}, "release together with a dist"),
        ({**fresh, "projects": ["nope"]}, "One or more projects are invalid"),
        ({**fresh, "projects": []}, "at least one project"),
        ({**fresh, "checksum": "xyz"}, "40-character hexadecimal"),
        ({**fresh, "extra": 1}, "Additional properties"),
    ):
        answer = _assemble(ls, wrong_body)
        assert answer.status_code == 400 and error in answer.json()["error"], (wrong_body, answer.text)


def test_listing_files_and_lookup_of_a_real_bundle(ls: LocalSentry, build: Build, ci_token: str) -> None:
    project = ls.create_project(name=unique("lookup"), platform="javascript")["slug"]
    out = SentryCli(ls, token=ci_token).upload(build.dist, project=project, release="shop@7", dist="web").stdout
    bid, debug_id = bundle_id(out), build.debug_id()
    base = f"/api/0/projects/{ls.org}/{project}"
    assert [b["bundleId"] for b in ls.get_json(f"{base}/files/artifact-bundles/", query="shop@7")] == [bid]
    assert ls.get_json(f"{base}/files/artifact-bundles/", query="nothing-like-it") == []
    assert ls.api("GET", f"{base}/files/artifact-bundles/", params={"sortBy": "name"}).status_code == 400

    files = ls.get_json(f"{base}/artifact-bundles/{bid}/files/")
    # the same content uploaded to another project earlier is the same bundle (bundles belong to the organization)
    assert files["bundleId"] == bid and {"release": "shop@7", "dist": "web"} in files["associations"]
    by_path = {f["filePath"]: f for f in files["files"]}
    script = by_path[f"~/assets/{build.script}"]
    assert (script["fileType"], script["debugId"], script["sourcemap"]) == (2, debug_id, f"{build.script}.map")
    assert by_path[f"~/assets/{build.script}.map"]["fileType"] == 3
    found = ls.get_json(f"{base}/artifact-bundles/{bid}/files/", query=debug_id.replace("-", "").upper())
    assert len(found["files"]) == 2  # the script and its map carry the same debug id

    [hit] = ls.get_json(f"{base}/artifact-lookup/", debug_id=debug_id)
    assert hit["type"] == "bundle" and hit["resolved_with"] == "debug-id"
    assert hit["url"] == f"{ls.url}{base}/artifact-lookup/?download={hit['id']}"
    by_release = ls.get_json(f"{base}/artifact-lookup/", release="shop@7", dist="web", url=build.script)
    assert [(h["id"], h["resolved_with"]) for h in by_release] == [(hit["id"], "release")]
    download = ls.api("GET", hit["url"])
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/octet-stream"
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read("manifest.json"))
    assert manifest["release"] == "shop@7" and manifest["debug_id"] == bid
    assert ls.api("GET", hit["url"], token=ci_token).status_code == 403  # an org token is no member

    gone = ls.api("DELETE", f"{base}/files/artifact-bundles/", params={"bundleId": bid})
    assert gone.status_code == 204  # unbound from this project (another project still has it)
    assert ls.get_json(f"{base}/files/artifact-bundles/") == []
    assert ls.get_json(f"{base}/artifact-lookup/", debug_id=debug_id) == []
    again = ls.api("DELETE", f"{base}/files/artifact-bundles/", params={"bundleId": bid})
    assert again.status_code == 404 and "is not connected to project" in again.json()["error"]
    unknown = ls.api("DELETE", f"{base}/files/artifact-bundles/", params={"bundleId": "nope"})
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Supplied an invalid bundle_id nope"})


def test_release_files(ls: LocalSentry, build: Build, tmp_path: Path) -> None:
    project = ls.create_project(name=unique("files"), platform="javascript")["slug"]
    version = unique("shop")
    assert ls.api("POST", f"/api/0/organizations/{ls.org}/releases/",
                  json={"version": version, "projects": [project]}).status_code == 201  # fmt: skip
    base = f"/api/0/organizations/{ls.org}/releases/{version}/files/"
    script = (build.dist / "assets" / build.script).read_bytes()
    made = ls.api("POST", base, files=[("file", ("app.js", script))],
                  data={"name": f"~/assets/{build.script}", "header": f"Sourcemap:{build.script}.map"})  # fmt: skip
    assert made.status_code == 201, made.text
    file = made.json()
    assert (file["name"], file["dist"], file["size"], file["sha1"]) == (
        f"~/assets/{build.script}", None, len(script), _sha1(script))
    assert file["headers"] == {"Sourcemap": f"{build.script}.map"}
    twice = ls.api("POST", base, files=[("file", ("app.js", script))], data={"name": f"~/assets/{build.script}"})
    assert twice.status_code == 409
    assert ls.api("POST", base, data={"name": "x"}, files=[("other", ("x", b"1"))]).json() == {
        "detail": "Missing uploaded file"}
    assert [f["id"] for f in ls.get_json(base)] == [file["id"]]
    assert [f["id"] for f in ls.get_json(f"/api/0/projects/{ls.org}/{project}/releases/{version}/files/")] == [
        file["id"]]
    raw = ls.api("GET", f"{base}{file['id']}/", params={"download": "1"})
    assert raw.status_code == 200 and raw.content == script
    assert ls.api("DELETE", f"{base}{file['id']}/").status_code == 204
    assert ls.get_json(base) == []
