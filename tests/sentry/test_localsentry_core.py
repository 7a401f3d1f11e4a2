"""localsentry core: start contract, token file, org/team/project/key round trip, ingest and read-back, restart."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest
import requests

from tests.support.localsentry import ROOT, LocalSentry

pytestmark = pytest.mark.sentry


def test_start_contract_and_token_file(localsentry: LocalSentry) -> None:
    info = localsentry.info
    assert {"url", "organization", "team", "token_file", "pid"} <= set(info)
    assert info["url"].startswith("http://127.0.0.1:")
    mode = stat.S_IMODE(localsentry.token_file.stat().st_mode)
    assert mode == 0o600
    assert localsentry.token.startswith("sntryu_") and len(localsentry.token) == 71
    assert localsentry.token not in json.dumps(info)
    assert localsentry.token not in localsentry.stderr()
    written = json.loads((localsentry.workdir / "info.json").read_text())
    assert written == info


def test_org_team_project_key_round_trip(localsentry: LocalSentry) -> None:
    org = localsentry.api("GET", f"/api/0/organizations/{localsentry.org}/").json()
    assert org["slug"] == localsentry.org
    project = localsentry.create_project(platform="python")
    keys = localsentry.keys(project["slug"])
    assert [k["label"] for k in keys] == ["Default"]
    port = localsentry.url.rsplit(":", 1)[1]
    assert keys[0]["dsn"]["public"] == f"http://{keys[0]['public']}@127.0.0.1:{port}/{project['id']}"


def test_envelope_ingest_and_read_back(localsentry: LocalSentry) -> None:
    project = localsentry.create_project()
    key = localsentry.keys(project["slug"])[0]
    envelope = b"\n".join([
        json.dumps({"event_id": "a" * 32, "sent_at": "2026-01-01T00:00:00Z"}).encode(),
        json.dumps({"type": "event"}).encode(),
        json.dumps({"event_id": "a" * 32, "message": "hello", "environment": "qa", "release": "r1",
                    "level": "error", "platform": "python", "tags": {"color": "blue"}}).encode(),
    ])  # fmt: skip
    resp = requests.post(
        f"{localsentry.url}/api/{project['id']}/envelope/",
        data=envelope,
        headers={"X-Sentry-Auth": f"Sentry sentry_key={key['public']}, sentry_version=7"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"id": "a" * 32}
    events = localsentry.api("GET", f"/api/0/projects/{localsentry.org}/{project['slug']}/events/").json()
    assert [e["eventID"] for e in events] == ["a" * 32]
    tags = {t["key"]: t["value"] for t in events[0]["tags"]}
    assert tags["environment"] == "qa" and tags["release"] == "r1" and tags["color"] == "blue"
    detail = localsentry.api("GET", f"/api/0/projects/{localsentry.org}/{project['slug']}/events/{'a' * 32}/")
    assert detail.status_code == 200 and detail.json()["message"] == "hello"
    envs = localsentry.api("GET", f"/api/0/projects/{localsentry.org}/{project['slug']}/environments/").json()
    assert [e["name"] for e in envs] == ["qa"]


def test_restart_on_file_db_loses_nothing(localsentry: LocalSentry) -> None:
    project = localsentry.create_project()
    dsn_before = localsentry.dsn(project["slug"])
    token_before = localsentry.token
    localsentry.restart()
    assert localsentry.token == token_before
    assert localsentry.dsn(project["slug"]) == dsn_before
    got = localsentry.api("GET", f"/api/0/projects/{localsentry.org}/{project['slug']}/")
    assert got.status_code == 200


def test_token_create_cli_and_scopes(localsentry: LocalSentry) -> None:
    token = localsentry.create_token_cli(["project:read"])
    assert token.startswith("sntryu_")
    ok = localsentry.api("GET", f"/api/0/projects/{localsentry.org}/{localsentry.create_project()['slug']}/keys/",
                         token=token)  # fmt: skip
    assert ok.status_code == 200
    denied = localsentry.api("GET", f"/api/0/organizations/{localsentry.org}/teams/", token=token)
    assert denied.status_code == 403
    assert denied.json() == {"detail": "You do not have permission to perform this action."}


def test_sigterm_is_graceful(localsentry: LocalSentry) -> None:
    assert localsentry.stop() == 0
    assert not (localsentry.workdir / "info.json").exists()


def test_cli_help_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "localsentry", "--help"], capture_output=True, text=True, cwd=ROOT,
                         timeout=60, check=True)  # fmt: skip
    assert "--rate-limit" in out.stdout
