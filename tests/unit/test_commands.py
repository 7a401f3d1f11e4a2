"""The toolkit's commands name themselves as the user ran them: the installed console scripts and the repository's
scripts, in their usage and help, from the folder they ran in (infra/commands.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.commands import RENDER_ENV, ROTATE_DSN, VERIFY_ALERTS, invoked_as

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / "venv" / "bin"


@pytest.fixture
def tool(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "sentry-stacks-thing"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_invoked_as_names_what_runs_again_from_here(
    tool: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert invoked_as("bin/sentry-stacks-thing", "x") == "bin/sentry-stacks-thing"  # as typed
    assert invoked_as(str(tool), "x") == "bin/sentry-stacks-thing"  # below the folder it ran in: relative
    assert invoked_as(str(tool), "x", cwd=tool.parent) == "./sentry-stacks-thing"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert invoked_as(str(tool), "x") == str(tool)  # elsewhere: the absolute path
    monkeypatch.setenv("PATH", f"{tool.parent}:/usr/bin:/bin")
    assert invoked_as(str(tool), "x") == "sentry-stacks-thing"  # PATH finds this very file: the bare name
    other = tmp_path / "other" / "sentry-stacks-thing"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    assert invoked_as(str(other), "x") == str(other)  # PATH finds another one: not the bare name
    assert invoked_as("-c", "fallback") == "fallback" and invoked_as("", "fallback") == "fallback"


@pytest.mark.parametrize("script, installed", [("rotate-dsn", ROTATE_DSN), ("verify-alerts", VERIFY_ALERTS),
                                               ("render-env", RENDER_ENV)])
def test_help_names_the_command_as_run(script: str, installed: str, tmp_path: Path) -> None:
    """The installed console script, run by its path from a project folder (the README's `venv/bin/...`), and the
    repository's script, run from the repository: each usage and example line names that command, never a bare
    `rotate-dsn`/`verify-alerts`/`render-env`."""
    if not (VENV_BIN / installed).exists():
        pytest.skip(f"{installed} is not installed in venv/: run `make venv`")
    project = tmp_path / "shop"
    (project / "venv").mkdir(parents=True)
    (project / "venv" / "bin").symlink_to(VENV_BIN)
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    runs = [([f"venv/bin/{installed}", "--help"], project, f"venv/bin/{installed}"),
            ([sys.executable, f"scripts/{script}", "--help"], ROOT, f"scripts/{script}")]  # fmt: skip
    for args, cwd, expected in runs:
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"usage: {expected} [-h] --stack STACK"), proc.stdout
        examples = [line for line in proc.stdout.splitlines() if "--stack dev" in line]
        assert examples and all(line.lstrip().startswith(f"{expected} --stack dev") for line in examples), examples
        assert f" {script}" not in proc.stdout.replace(f"scripts/{script}", "").replace(installed, ""), proc.stdout
