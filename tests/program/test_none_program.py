"""``driver: none`` under Pulumi mocks: the Sentry side and the rendered files, no containers, no Sentry deploy
record, and outputs that give a pipeline each service's environment as a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import program
from infra.render import parse_dotenv
from tests.e2e.docker_support import require_docker
from tests.program.test_releases_program import CronMocks, S, cron_mocks  # noqa: F401 - the fixture
from tests.unit.settings_support import DSNS, ROOT, settings_for


def settings(tmp: Path, **overrides: Any) -> Any:
    return settings_for("prod", deployDir=str(tmp / "deploy"), driver="none", **overrides)


@pulumi.runtime.test
def test_driver_none_renders_files_and_exports_the_envs_but_runs_nothing(cron_mocks: CronMocks,  # noqa: F811
                                                                         tmp_path: Path) -> Any:  # fmt: skip
    s = settings(tmp_path)
    p = program.build(s, root=ROOT)
    assert p.deployment.deployed.stack_resource is None and not p.deployment.containers
    exported = p.outputs["serviceEnvs"]

    def check(args: list[Any]) -> None:
        envs = args[0]
        kinds = {r.typ for r in cron_mocks.resources}
        assert not {k for k in kinds if k.startswith("docker:") or k.endswith(("compose:Deployment",
                                                                                "swarm:Deployment"))}, kinds
        assert S + "Release" in kinds and not kinds & {S + "DeployStart", S + "Deploy"}, kinds
        assert p.outputs["sentryDeploy"] is None
        files = cron_mocks.of("pulumi-python:dynamic/files:RenderedFile")
        assert sorted(files) == [f"prod-{n}" for n in program.file_names(s)]  # env files and the compose file
        # the exported mapping is each service's rendered env file, exactly
        for svc in s.services:
            assert envs[svc.name] == parse_dotenv(files[f"prod-{svc.env_file}"].inputs["content"]), svc.name
        assert envs["backend"]["SENTRY_DSN"] == DSNS["backend"] and envs["worker"]["SENTRY_DSN"] == DSNS["backend"]
        assert "owner" not in files["prod-backend.env"].inputs  # nothing mounts the files: no chown

    return pulumi.Output.all(exported, *[f.id for f in p.files.values()]).apply(check)


@pulumi.runtime.test
def test_driver_none_exports_the_envs_as_a_secret(cron_mocks: CronMocks, tmp_path: Path) -> Any:  # noqa: F811
    p = program.build(settings(tmp_path), root=ROOT)

    def check(flags: list[bool]) -> None:
        assert flags == [True, True]

    return pulumi.Output.all(pulumi.Output.is_secret(p.outputs["serviceEnvs"]),
                             pulumi.Output.is_secret(p.outputs["dsns"])).apply(check)


def test_driver_none_checks_no_image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing runs on this machine, so an image the machine cannot get is no reason to fail the preview."""
    monkeypatch.setenv("SENTRY_STACKS_IMAGE_CHECK", "on")
    missing = {"backend": {"image": "registry.invalid/nope/backend:1"}}
    program.check_images(settings(tmp_path, serviceOverrides=missing))
    require_docker()  # the contrast: without an engine a compose stack's check only warns
    with pytest.raises(pulumi.RunError, match=r"services\.backend\.image"):
        program.check_images(settings_for("prod", deployDir=str(tmp_path), serviceOverrides=missing))
