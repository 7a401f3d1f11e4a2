"""A compose deployment created before infra/deploy/ existed keeps working, through the real CLI and Docker.

Its state names the provider the previous release pickled (``infra.compose.ComposeProvider``: dynamic providers are
stored by reference, and refresh and destroy load the state's one). The test puts exactly that reference into a
running deployment's state (`stack export`/`import`, the blob the previous release wrote, tests/unit/test_deploy.py),
then previews and refreshes with no change (the old path still resolves: infra/compose.py, an alias), runs `up` with
no change, and destroys it. A no-op `up` stores the new path in the inputs only: the outputs, which refresh and
destroy load the provider from, keep the old one until the deployment next changes, so the alias stays as long as
such a state may exist.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.docker_support import demo_images, require_docker
from tests.e2e.pulumi_support import PulumiProject, require_langhost, require_pulumi, write_project
from tests.e2e.stack_support import free_port
from tests.unit.test_deploy import PREVIOUS_RELEASE_BLOBS

pytestmark = pytest.mark.e2e
OLD = PREVIOUS_RELEASE_BLOBS["infra.compose.ComposeProvider"]

PROGRAM = '''
import pulumi
from infra.deploy.compose import ComposeDeployment
from infra.files import RenderedFile

cfg = pulumi.Config()
f = RenderedFile("app-compose-file", path=cfg.require("path"), content=cfg.require("content"))
d = ComposeDeployment("app-compose", name=cfg.require("project"), file=f.path, file_sha256=f.sha256,
                      services=["redis"], health_timeout=120)
pulumi.export("status", d.status)
'''


def provider_blobs(deployment: dict[str, Any]) -> list[str]:
    """The plaintext `__provider` values of the compose deployment (inputs and outputs) in an export."""
    [res] = [r for r in deployment["resources"] if r["type"] == "pulumi-python:dynamic/compose:Deployment"]
    return [json.loads(res[part]["__provider"]["plaintext"]) for part in ("inputs", "outputs")]


def containers(project: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.split()


def test_a_deployment_the_previous_release_created_upgrades_with_no_change(tmp_path: Path) -> None:
    require_pulumi()
    require_langhost()
    require_docker()
    redis = demo_images().redis
    write_project(tmp_path / "proj", "e2e-upgrade", PROGRAM)
    proj = PulumiProject(tmp_path / "proj")
    proj.init()
    project = f"sst-up-{uuid.uuid4().hex[:8]}"
    proj.config_set("project", project)
    proj.config_set("path", str(tmp_path / "deploy" / "docker-compose.yml"))
    proj.config_set("content", textwrap.dedent(f"""\
        services:
          redis:
            image: "{redis}"
            network_mode: host
            environment: {{REDIS_PORT: "{free_port()}", REDIS_BIND: "127.0.0.1"}}
            healthcheck: {{test: ["CMD", "/usr/local/bin/redis-healthcheck"], interval: "1s", retries: 30}}
            restart: "no"
        """))
    try:
        proj.up()
        assert len(containers(project)) == 1
        # the state as the previous release left it: its provider path in the deployment's inputs and outputs
        exported = json.loads(proj.run("stack", "export", "--show-secrets").stdout)
        assert all("infra.deploy.compose" in _decoded(b) for b in provider_blobs(exported["deployment"]))
        [res] = [r for r in exported["deployment"]["resources"] if r["type"].endswith("compose:Deployment")]
        for part in ("inputs", "outputs"):
            res[part]["__provider"]["plaintext"] = json.dumps(OLD)
        (tmp_path / "old.json").write_text(json.dumps(exported))
        proj.run("stack", "import", "--file", str(tmp_path / "old.json"))
        assert _state_providers(proj) == [OLD, OLD]

        proj.run("preview", "--expect-no-changes", "--diff")
        refresh = proj.run("refresh", "--yes", "--expect-no-changes")  # read() of the provider the state names
        assert "error" not in refresh.stdout.lower()
        proj.run("up", "--yes", "--expect-no-changes")
        inputs, outputs = _state_providers(proj)
        assert "infra.deploy.compose" in _decoded(inputs) and outputs == OLD
        proj.run("refresh", "--yes", "--expect-no-changes")
        assert len(containers(project)) == 1
    finally:
        destroy = proj.run("destroy", "--yes", check=False)  # delete() of the provider the state names
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert containers(project) == []


def _decoded(blob: str) -> str:
    import base64

    return base64.b64decode(blob).decode("latin-1")


def _state_providers(proj: PulumiProject) -> list[str]:
    return provider_blobs(json.loads(proj.run("stack", "export", "--show-secrets").stdout)["deployment"])
