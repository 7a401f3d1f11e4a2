"""`scripts/localsentry start|status|stop`: it says where localsentry runs, its organization and team, and where the
admin token is (never the token), as the README says. Run from a copy of the script in a temp folder (its own
`.localsentry/`, a free port), so a developer's running localsentry or demo is not touched."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.localsentry import ROOT

pytestmark = pytest.mark.sentry


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_start_prints_url_organization_and_token_file(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "localsentry"
    script.write_text((ROOT / "scripts" / "localsentry").read_text())
    script.chmod(0o755)
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    port = _free_port()
    env = dict(os.environ, LOCALSENTRY_PORT=str(port), PYTHONPATH=str(ROOT))

    def run(action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), action], env=env, capture_output=True, text=True, timeout=60, check=False)

    started = run("start")
    try:
        assert started.returncode == 0, started.stderr
        token_file = tmp_path / ".localsentry" / "admin-token"
        token = token_file.read_text().strip()
        out = started.stdout
        assert f"at http://127.0.0.1:{port}/" in out
        assert "organization: localsentry" in out and "team: localsentry" in out
        assert str(token_file) in out and token not in out + started.stderr
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        assert requests.get(f"http://127.0.0.1:{port}/api/0/organizations/localsentry/",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200  # fmt: skip
        again = run("start")  # already running: the same facts
        assert again.returncode == 0 and "organization: localsentry" in again.stdout
        status = run("status")
        assert status.returncode == 0 and str(token_file) in status.stdout
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert run("status").returncode == 1
