"""The sentrystacks provider from other Pulumi languages, through the real CLI and a real localsentry.

* A Pulumi YAML program (``runtime: yaml``, Pulumi's YAML language host built by scripts/install-pulumi-yaml) that
  declares a project and a key and exports the DSN: up, the DSN a secret, a preview with no change, destroy.
* A Python program in another folder using the SDK generated from the provider's schema (scripts/build-sdk, Pulumi's
  code generator at the CLI's version), installed into its own target folder: up, preview, destroy.
* The Node.js and Go SDKs generate from the same schema (their language hosts cannot be built here: the Go module
  proxy answers 403 for them), so only their files are checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.pulumi_support import ROOT, VENV, PulumiProject, plugins_yaml, require_langhost, require_yaml_host
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.e2e

YAML_PROGRAM = """name: yaml-sentry
runtime: yaml
{plugins}
resources:
  project:
    type: sentrystacks:Project
    properties:
      slug: {slug}
      teams: [{team}]
      platform: python
      defaultKey: delete
  key:
    type: sentrystacks:ClientKey
    properties:
      project: ${{project.slug}}
      name: yaml-g1
outputs:
  projectId: ${{project.projectId}}
  dsn: ${{key.dsn}}
"""

SDK_PROGRAM = """import pulumi
import pulumi_sentrystacks as ss

project = ss.Project("project", slug="{slug}", teams=["{team}"], platform="python", default_key="delete")
key = ss.ClientKey("key", project=project.slug, name="sdk-g1")
pulumi.export("dsn", key.dsn)
"""


def configured(project: PulumiProject, ls: LocalSentry) -> PulumiProject:
    project.init()
    project.config_set("sentrystacks:baseUrl", ls.url)
    project.config_set("sentrystacks:organization", ls.org)
    project.config_set("sentrystacks:token", ls.token, secret=True)
    return project


def lifecycle(project: PulumiProject, ls: LocalSentry, slug: str, key_name: str) -> None:
    """up, the DSN a secret of the key Sentry has, preview with no change, destroy (the project gone)."""
    project.up()
    assert project.outputs()["dsn"] == "[secret]"
    dsn = project.outputs(show_secrets=True)["dsn"]
    assert [k["dsn"]["public"] for k in ls.keys(slug) if k["name"] == key_name] == [dsn]
    state = project.state_text()
    assert ls.token not in state and dsn not in state
    project.run("preview", "--expect-no-changes")
    project.run("destroy", "--yes", "--skip-preview")
    assert ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/").status_code == 404


def test_yaml_program(localsentry: LocalSentry, tmp_path: Path) -> None:
    require_yaml_host()
    ls, slug = localsentry, unique("yaml")
    workdir = tmp_path / "yaml"
    workdir.mkdir()
    (workdir / "Pulumi.yaml").write_text(YAML_PROGRAM.format(plugins=plugins_yaml(), slug=slug, team=ls.team))
    lifecycle(configured(PulumiProject(workdir), ls), ls, slug, "yaml-g1")


def build_sdk(language: str, out: Path) -> Path:
    proc = subprocess.run([str(ROOT / "scripts" / "build-sdk"), language, str(out)], capture_output=True, text=True,
                          timeout=900, check=False, env={**os.environ, "VENV_PY": sys.executable})
    assert proc.returncode == 0, proc.stderr
    return out


def test_generated_python_sdk_in_another_folder(localsentry: LocalSentry, tmp_path: Path) -> None:
    require_langhost()
    ls, slug = localsentry, unique("sdk")
    sdk = build_sdk("python", tmp_path / "sdk")
    site = tmp_path / "site"
    pip = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "--no-deps", "--target", str(site), str(sdk)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert pip.returncode == 0, pip.stderr
    workdir = tmp_path / "other-repo"
    workdir.mkdir()
    (workdir / "Pulumi.yaml").write_text(
        f"name: sdk-user\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {VENV}\n"
        + plugins_yaml())
    (workdir / "__main__.py").write_text(SDK_PROGRAM.format(slug=slug, team=ls.team))
    project = PulumiProject(workdir, extra_env={"PYTHONPATH": str(site)})
    lifecycle(configured(project, ls), ls, slug, "sdk-g1")


def test_nodejs_and_go_sdks_generate(tmp_path: Path) -> None:
    node = build_sdk("nodejs", tmp_path / "nodejs")
    go = build_sdk("go", tmp_path / "go")
    assert {"package.json", "project.ts", "clientKey.ts", "provider.ts"} <= {p.name for p in node.iterdir()}
    assert "export class ClientKey extends pulumi.CustomResource" in (node / "clientKey.ts").read_text()
    assert (go / "sentrystacks" / "project.go").is_file() and (go / "sentrystacks" / "clientKey.go").is_file()
