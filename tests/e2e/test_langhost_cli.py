"""The repository's Python language host under the real CLI: errors, config, outputs, no plugin downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pulumi_support import PulumiProject, require_langhost, require_pulumi, write_project

pytestmark = pytest.mark.e2e


def _project(tmp_path: Path, program: str) -> PulumiProject:
    require_pulumi()
    require_langhost()
    write_project(tmp_path / "proj", "e2e-langhost", program)
    proj = PulumiProject(tmp_path / "proj")
    proj.init()
    return proj


def test_program_exception_fails_preview_with_its_message(tmp_path: Path) -> None:
    proj = _project(tmp_path, "raise ValueError('settings: sampling.traces must be between 0 and 1')\n")
    result = proj.run("preview", check=False)
    assert result.returncode != 0
    assert "sampling.traces must be between 0 and 1" in result.stdout + result.stderr


def test_config_secrets_and_outputs_reach_the_program(tmp_path: Path) -> None:
    program = (
        "import pulumi\n"
        "import pulumi_docker  # installed in the venv: must not trigger a plugin download\n"
        "cfg = pulumi.Config()\n"
        "pulumi.export('greeting', 'hello ' + cfg.require('name'))\n"
        "pulumi.export('token', cfg.require_secret('token'))\n"
        "pulumi.export('nested', cfg.require_object('nested')['a'])\n"
    )
    proj = _project(tmp_path, program)
    proj.config_set("name", "world")
    proj.config_set("token", "tok-3c7e1d", secret=True)
    proj.run("config", "set", "--path", "nested.a", "42")
    up = proj.up()
    assert "tok-3c7e1d" not in up.stdout + up.stderr
    outputs = proj.outputs(show_secrets=True)
    assert outputs == {"greeting": "hello world", "token": "tok-3c7e1d", "nested": 42}
    assert proj.outputs()["token"] == "[secret]"
    assert "tok-3c7e1d" not in proj.state_text()
    proj.run("preview", "--expect-no-changes")
    proj.run("destroy", "--yes")
