"""RenderedFile through the real Pulumi CLI: up, preview (no changes), refresh (drift), destroy.

Proves the language host, the dynamic-provider plugin, the file backend and passphrase secrets.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.e2e.pulumi_support import PulumiProject, require_langhost, require_pulumi, write_project

pytestmark = pytest.mark.e2e

PROGRAM = '''
import pulumi
from infra.files import RenderedFile

cfg = pulumi.Config()
f = RenderedFile("app-env", path=cfg.require("path"), content=cfg.require_secret("content"))
pulumi.export("sha256", f.sha256)
pulumi.export("path", f.path)
'''


@pytest.fixture
def project(tmp_path: Path) -> PulumiProject:
    require_pulumi()
    require_langhost()
    write_project(tmp_path / "proj", "e2e-files", PROGRAM)
    proj = PulumiProject(tmp_path / "proj")
    proj.init()
    return proj


def test_rendered_file_lifecycle(project: PulumiProject, tmp_path: Path) -> None:
    secret = "SENTRY_DSN=http://0123456789abcdef0123456789abcdef@127.0.0.1:9/1  # s3cr3t-marker"
    target = tmp_path / "out" / "nested" / "app.env"
    project.config_set("path", str(target))
    project.config_set("content", secret + "\n", secret=True)

    up = project.up()
    assert target.read_text() == secret + "\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "s3cr3t-marker" not in up.stdout + up.stderr
    assert "s3cr3t-marker" not in project.state_text(), "secret content must be encrypted in state"
    assert "s3cr3t-marker" not in (tmp_path / "proj" / "Pulumi.test.yaml").read_text()
    assert not list(target.parent.glob(".*.tmp")), "no temp file may be left behind"

    # A second look changes nothing.
    preview = project.run("preview", "--expect-no-changes", "--diff")
    assert preview.returncode == 0

    # Drift: edit by hand; refresh shows it, a preview then plans to put it back.
    target.write_text("EDITED=1\n")
    refresh = project.run("refresh", "--yes", "--diff")
    assert "app-env" in refresh.stdout and ("~" in refresh.stdout or "update" in refresh.stdout.lower())
    drifted = project.run("preview", "--expect-no-changes", check=False)
    assert drifted.returncode != 0, drifted.stdout
    project.up()
    assert target.read_text() == secret + "\n"

    # Drift: file removed; refresh reports it deleted, up recreates it.
    target.unlink()
    refresh = project.run("refresh", "--yes")
    assert "delete" in refresh.stdout.lower() or "-" in refresh.stdout
    project.up()
    assert target.read_text() == secret + "\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    # Content change is an update in place.
    project.config_set("content", "B=2\n", secret=True)
    project.up()
    assert target.read_text() == "B=2\n"

    project.run("destroy", "--yes")
    assert not target.exists()
