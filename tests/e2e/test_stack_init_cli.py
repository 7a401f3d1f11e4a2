"""Creating a stack through the real CLI leaves the user's stack file as written, plus one salt line."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.workspace import init_stack, pulumi_binary, stack_exists, without_stack_local_keys
from tests.e2e.pulumi_support import ROOT, require_pulumi

pytestmark = pytest.mark.e2e


def _env(workdir: Path, passphrase: str) -> dict[str, str]:
    return {
        "PULUMI_BACKEND_URL": f"file://{workdir / '.state'}",
        "PULUMI_HOME": str(workdir / ".pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PATH": f"{ROOT / 'tools' / 'bin'}:{os.environ.get('PATH', '')}",
    }


def _project(tmp_path: Path) -> Path:
    work = tmp_path / "proj"
    work.mkdir()
    shutil.copy2(ROOT / "Pulumi.yaml", work / "Pulumi.yaml")
    for stack in ("dev", "prod"):
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
        (work / f"Pulumi.{stack}.yaml").write_text(without_stack_local_keys(text), encoding="utf-8")
    (work / ".state").mkdir()
    return work


def test_stack_init_keeps_values_and_comments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_pulumi()
    work = _project(tmp_path)
    env = _env(work, secrets.token_urlsafe(16))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    before = (work / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    init_stack("dev", work, env)
    after = (work / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert len(added) == 1 and added[0].startswith("encryptionsalt: v1:"), added
    assert without_stack_local_keys(after) == before  # every comment, `true` and `1.0` as written
    assert stack_exists("dev", work) and not stack_exists("prod", work)
    # the salt belongs to this passphrase: a secret set now reads back, and the file still keeps its comments
    cli = [pulumi_binary(work), "--non-interactive", "-s", "dev"]
    subprocess.run([*cli, "config", "set", "--secret", "probe", "s3cret"], cwd=work, env={**os.environ, **env},
                   check=True, capture_output=True)  # fmt: skip
    got = subprocess.run([*cli, "config", "get", "probe"], cwd=work, env={**os.environ, **env}, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert got == "s3cret"


def test_stack_file_with_a_salt_of_another_passphrase_is_refused_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_pulumi()
    work = _project(tmp_path)
    first = _env(work, secrets.token_urlsafe(16))
    init_stack("prod", work, first)
    salted = (work / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    other = _env(work, secrets.token_urlsafe(16))
    other["PULUMI_BACKEND_URL"] = f"file://{work / '.state2'}"
    (work / ".state2").mkdir()
    with pytest.raises(subprocess.CalledProcessError) as failure:
        init_stack("prod", work, other)
    assert "passphrase" in (failure.value.stderr or "")
    assert "`pulumi stack init prod --secrets-provider passphrase --non-interactive` exited 1: " in str(failure.value)
    assert "incorrect passphrase" in str(failure.value)  # what the CLI said is in the message, not only in .stderr
    assert "Pulumi.prod.yaml holds the encryptionsalt of another passphrase" in str(failure.value)
    assert "delete its `encryptionsalt:` line" in str(failure.value)
    assert (work / "Pulumi.prod.yaml").read_text(encoding="utf-8") == salted


def test_demo_down_of_a_stack_that_does_not_exist_says_so_and_creates_nothing(tmp_path: Path) -> None:
    """`scripts/demo down` before any `make demo` (or after one that failed): no `stack init` to destroy nothing.
    Run from a copy of the script (its own ROOT, so its own .localsentry/) on a backend of its own."""
    require_pulumi()
    work = tmp_path / "repo"
    (work / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "demo", work / "scripts" / "demo")
    shutil.copy2(ROOT / "Pulumi.yaml", work / "Pulumi.yaml")
    (work / ".state").mkdir()
    env = {**os.environ, **_env(work, secrets.token_urlsafe(16)), "PYTHONPATH": str(ROOT), "DEMO_STACK": "dev"}
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    down = subprocess.run([sys.executable, str(work / "scripts" / "demo"), "down"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"no stack dev in file://{work / '.state'}: nothing to destroy" in down.stdout
    assert not list((work / ".state").rglob("dev.json")), "demo down created the stack it was to destroy"
