"""`scripts/localsentry start|status|stop`: it says where localsentry runs, its organization and team, and where the
admin token is (never the token), as the README says. Run from a copy of the script in a temp folder (its own
`.localsentry/`, a free port), so a developer's running localsentry or demo is not touched."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support.localsentry import ROOT

pytestmark = pytest.mark.sentry

Run = Callable[[str], subprocess.CompletedProcess[str]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _script(folder: Path, **env: str) -> Run:
    """A copy of scripts/localsentry in `folder` (its own .localsentry/), run with `env` added."""
    (folder / "scripts").mkdir(parents=True)
    script = folder / "scripts" / "localsentry"
    script.write_text((ROOT / "scripts" / "localsentry").read_text())
    script.chmod(0o755)
    python = folder / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    full = {k: v for k, v in os.environ.items() if not k.startswith("LOCALSENTRY_")}
    full.update(env, PYTHONPATH=str(ROOT))

    def run(action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), action], env=full, capture_output=True, text=True, timeout=60, check=False)

    return run


@contextmanager
def _occupied() -> Iterator[int]:
    """A port something else listens on (as a demo's localsentry would)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_start_prints_url_organization_and_token_file(tmp_path: Path) -> None:
    port = _free_port()
    run = _script(tmp_path, LOCALSENTRY_PORT=str(port))
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
        smtp = json.loads((tmp_path / ".localsentry" / "info.json").read_text())["smtp"]
        assert smtp and f"SMTP server:  {smtp} " in out  # on, at a free port, and start says where
        again = run("start")  # already running: the same facts
        assert again.returncode == 0 and "organization: localsentry" in again.stdout
        status = run("status")
        assert status.returncode == 0 and str(token_file) in status.stdout and smtp in status.stdout
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert run("status").returncode == 1


def test_two_localsentries_run_side_by_side_each_with_its_own_smtp_server(tmp_path: Path) -> None:
    """A demo's localsentry and a second one (a test's, another checkout's): no fixed SMTP port to collide on."""
    first = _script(tmp_path / "a", LOCALSENTRY_PORT=str(_free_port()))
    second = _script(tmp_path / "b", LOCALSENTRY_PORT=str(_free_port()))
    try:
        for run in (first, second):
            started = run("start")
            assert started.returncode == 0, started.stderr
        smtp = [json.loads((tmp_path / d / ".localsentry" / "info.json").read_text())["smtp"] for d in "ab"]
        assert all(smtp) and smtp[0] != smtp[1]
    finally:
        first("stop")
        second("stop")


@pytest.mark.parametrize("variable, option", [("LOCALSENTRY_PORT", "--port"), ("LOCALSENTRY_SMTP_PORT", "--smtp-port")])
def test_a_port_in_use_is_a_one_line_error_naming_the_option(tmp_path: Path, variable: str, option: str) -> None:
    with _occupied() as taken:
        run = _script(tmp_path, **{"LOCALSENTRY_PORT": str(_free_port()), variable: str(taken)})
        try:
            started = run("start")
        finally:
            run("stop")
    assert started.returncode == 1
    lines = [line for line in started.stderr.splitlines() if line.strip()]
    assert lines[0] == "localsentry failed to start:" and len(lines) == 2, started.stderr
    assert lines[1].startswith("localsentry: cannot ") and f"127.0.0.1:{taken} ({option})" in lines[1]
    assert "Traceback" not in started.stderr
