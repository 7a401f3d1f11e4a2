"""The swarm driver under Pulumi mocks: one SwarmDeployment on the rendered compose file, owned env files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pulumi
import yaml

from infra import program
from tests.program.test_program import Mocks, mocks, settings  # noqa: F401 - the fixture
from tests.unit.settings_support import ROOT


@pulumi.runtime.test
def test_program_with_swarm_driver(mocks: Mocks, tmp_path: Path) -> Any:  # noqa: F811
    s = settings("prod", tmp_path, driver="swarm", networkMode="bridge", swarmEndpointMode="dnsrr",
                 swarmPublishMode="host", serviceOverrides={"backend": {"replicas": 2, "port": 8100}})  # fmt: skip
    p = program.build(s, root=ROOT)
    assert p.deployment.swarm is not None and p.deployment.compose is None
    ids = [f.id for f in p.files.values()] + [p.deployment.swarm.id]

    def check(_: Any) -> None:
        files = mocks.of("pulumi-python:dynamic/files:RenderedFile")
        deployments = mocks.of("pulumi-python:dynamic/swarm:Deployment")
        assert list(deployments) == ["prod-swarm"] and not mocks.of("pulumi-python:dynamic/compose:Deployment")
        swarm = deployments["prod-swarm"].inputs
        compose_file = files["prod-docker-compose.yml"].inputs
        assert swarm["stack"] == "sentry-stacks-prod" and swarm["file"] == compose_file["path"]
        assert swarm["fileSha256"] == hashlib.sha256(compose_file["content"].encode()).hexdigest()
        assert swarm["services"] == ["backend", "beat", "frontend", "redis", "worker"]
        doc = yaml.safe_load(compose_file["content"])
        assert doc["services"]["backend"]["deploy"]["replicas"] == 2
        assert doc["services"]["backend"]["deploy"]["endpoint_mode"] == "dnsrr"
        # the live env files belong to the container's user; the others to whoever runs pulumi
        assert files["prod-backend.env"].inputs["owner"] == 10001 and files["prod-worker.env"].inputs["owner"] == 10001
        assert "owner" not in files["prod-frontend.env"].inputs
        assert not [r for r in mocks.resources if r.typ.startswith("docker:")]

    return pulumi.Output.all(*ids).apply(check)
