"""The routes real clients call before their work: the API index (sentry-cli `info`/`login`) and the health
check the Terraform provider's configure step calls (`GET /api/0/internal/health/`), answered as Sentry does.

The real sentry-cli (the npm package `@sentry/cli`, whose platform package ships the binary) runs against a
real localsentry process when npm can install it; with CI=true a failed install is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.sentry
SENTRY_CLI = "3.8.0"


def test_health_needs_a_valid_token_and_answers_200_with_an_empty_body(localsentry: LocalSentry) -> None:
    ok = localsentry.api("GET", "/api/0/internal/health/")
    assert ok.status_code == 200
    assert ok.content == b""
    assert "X-Sentry-Rate-Limit-Limit" in ok.headers or localsentry.info["rate_limit"] == 0
    anonymous = localsentry.api("GET", "/api/0/internal/health/", token=None)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    wrong = localsentry.api("GET", "/api/0/internal/health/", token="sntryu_" + "0" * 64)
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Invalid token"}
    reader = localsentry.create_token(["project:read"])
    assert localsentry.api("GET", "/api/0/internal/health/", token=reader).status_code == 200
    org_token = localsentry.create_token([], kind="org")
    assert localsentry.api("GET", "/api/0/internal/health/", token=org_token).status_code == 200


def test_the_index_tells_who_is_asking(localsentry: LocalSentry) -> None:
    anonymous = localsentry.api("GET", "/api/0/", token=None)
    assert anonymous.status_code == 200
    assert anonymous.json() == {"version": "0", "auth": None, "user": None}
    reader = localsentry.create_token(["project:read", "project:releases"])
    body = localsentry.api("GET", "/api/0/", token=reader).json()
    assert body["auth"] == {"scopes": ["project:read", "project:releases"]}
    assert isinstance(body["user"]["id"], str) and "@" in body["user"]["email"]
    org_body = localsentry.api("GET", "/api/0/", token=localsentry.create_token([], kind="org")).json()
    assert org_body["auth"] == {"scopes": ["org:ci"]} and org_body["user"] is None
    assert localsentry.api("GET", "/api/0/", token="sntryu_" + "1" * 64).status_code == 401


def _sentry_cli(tmp_path: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("npm is required with CI=true (apt-get install npm)")
        pytest.skip("npm not found: install Node.js and npm to run the real sentry-cli")
    folder = tmp_path / "cli"
    folder.mkdir()
    proc = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(folder),
         f"@sentry/cli@{SENTRY_CLI}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    binary = folder / "node_modules" / "@sentry" / "cli-linux-x64" / "bin" / "sentry-cli"
    if proc.returncode != 0 or not binary.exists():
        message = f"npm could not install @sentry/cli@{SENTRY_CLI}: {proc.stderr[-500:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


def test_real_sentry_cli_info_is_authenticated(localsentry: LocalSentry, tmp_path: Path) -> None:
    binary = _sentry_cli(tmp_path)
    reader = localsentry.create_token(["project:read", "org:read"])
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SENTRY_URL": localsentry.url,
        "SENTRY_AUTH_TOKEN": reader,
        "SENTRY_ORG": localsentry.org,
        "SENTRY_DISABLE_UPDATE_CHECK": "1",
    }
    proc = subprocess.run([str(binary), "info", "--config-status-json"], capture_output=True, text=True,
                          timeout=60, env=env, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert '"successful":true' in proc.stdout.replace(" ", ""), proc.stdout
    bad = subprocess.run([str(binary), "info", "--config-status-json"], capture_output=True, text=True, timeout=60,
                         env=dict(env, SENTRY_AUTH_TOKEN="sntryu_" + "2" * 64), check=False)  # fmt: skip
    assert '"successful":false' in bad.stdout.replace(" ", ""), bad.stdout
    assert reader not in proc.stdout + proc.stderr
