"""Creating a stack through the real CLI leaves the user's stack file as written, plus one salt line."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
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
    assert (work / "Pulumi.prod.yaml").read_text(encoding="utf-8") == salted
