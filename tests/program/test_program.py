"""The whole program under Pulumi mocks: both stacks, both drivers, outputs, secrets, and bad settings.

The docker driver is only verifiable here (the pulumi-docker provider plugin cannot be obtained): each
container's env must equal its rendered .env file, with the ports, healthchecks and networks the
settings describe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import program
from infra.render import parse_dotenv
from infra.settings import StackSettings, load_settings
from tests.unit.settings_support import DSNS, RELEASE, ROOT, settings_for, stack_config

SECRET_SIG = "4dabf18193072939515e22adb298388d"
GOLDEN = ROOT / "tests" / "golden"


def plain(value: Any) -> Any:
    """Inputs as the mock monitor hands them over, with secret wrappers removed."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    raw: dict[str, Any]


@dataclass
class Mocks(pulumi.runtime.Mocks):
    resources: list[Registered] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        raw = {k: v for k, v in args.inputs.items() if k != "__provider"}
        inputs = plain(raw)
        self.resources.append(Registered(args.typ, args.name, inputs, raw))
        outs = dict(inputs)
        kind = args.typ.rsplit(":", 1)[-1]
        if args.typ == "sentrystacks:index:Project":
            outs.update(projectId="42", adopted=False, settingsManaged=True)
        elif args.typ == "sentrystacks:index:ClientKey":
            service = args.name.split("-")[1]
            outs.update(keyId=f"k-{args.name}", public="p", secret="s" * 32, dsn=DSNS[service])
        elif args.typ == "sentrystacks:index:MetricMonitor":
            outs.update(detectorId="7")
        elif args.typ == "sentrystacks:index:Alert":
            outs.update(workflowId="9")
        elif args.typ == "pulumi-python:dynamic/files:RenderedFile" and isinstance(inputs["content"], str):
            outs.update(sha256=hashlib.sha256(inputs["content"].encode()).hexdigest(), mode=0o600)
        elif args.typ == "pulumi-python:dynamic/compose:Deployment":
            outs.update(status={s: "healthy" for s in inputs["services"]})
        elif kind == "RemoteImage":
            outs.update(imageId=f"sha256:{hashlib.sha256(args.name.encode()).hexdigest()}")
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.calls.append((args.token, dict(args.args), args.provider))
        return {}

    def of(self, typ: str) -> dict[str, Registered]:
        return {r.name: r for r in self.resources if r.typ == typ}


@pytest.fixture(autouse=True)
def clean_config() -> Any:
    yield
    pulumi.runtime.set_all_config({}, [])


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="dev", preview=False)
    return m


def settings(stack: str, tmp: Path, **overrides: Any) -> StackSettings:
    return settings_for(stack, deployDir=str(tmp / "deploy" / stack), **overrides)


def done(p: program.Program) -> pulumi.Output[Any]:
    """Resolves when every resource of the program is registered."""
    ids: list[Any] = [f.id for f in p.files.values()]
    ids += [c.id for c in p.deployment.containers.values()]
    if p.deployment.compose is not None:
        ids.append(p.deployment.compose.id)
    ids += [p.deployment.deployed.outputs["status"]] if "status" in p.deployment.deployed.outputs else []
    return pulumi.Output.all(*ids, *p.sentry.dsns.values())


# --------------------------------------------------------------------------- compose driver


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_program_with_compose_driver(mocks: Mocks, tmp_path: Path, stack: str) -> Any:
    s = settings(stack, tmp_path)
    image_id = "sha256:" + "1" * 64  # every image on the host (program.check_images): the deployment records them
    p = program.build(s, root=ROOT, image_ids={svc.image: image_id for svc in s.services})

    def check(_: Any) -> None:
        files = mocks.of("pulumi-python:dynamic/files:RenderedFile")
        assert sorted(files) == [f"{stack}-{n}" for n in program.file_names(s)]
        for name in program.file_names(s):
            registered = files[f"{stack}-{name}"]
            assert registered.inputs["path"] == str(tmp_path / "deploy" / stack / name)
            assert is_secret(registered.raw["content"])
            # the program renders exactly the golden files (same DSNs and release as the golden test)
            assert registered.inputs["content"] == (GOLDEN / stack / name).read_text(encoding="utf-8"), name
        deployments = mocks.of("pulumi-python:dynamic/compose:Deployment")
        assert list(deployments) == [f"{stack}-compose"]
        compose = deployments[f"{stack}-compose"].inputs
        compose_file = files[f"{stack}-docker-compose.yml"].inputs
        assert compose["project"] == f"sentry-stacks-{stack}"
        assert compose["file"] == compose_file["path"]
        assert compose["fileSha256"] == hashlib.sha256(compose_file["content"].encode()).hexdigest()
        assert compose["services"] == ["backend", "beat", "frontend", "redis", "worker"]
        assert compose["healthTimeout"] == 180
        pulled = {svc.name: f"{svc.image} {image_id}" for svc in s.services if svc.build is None}
        assert pulled and compose["images"] == pulled  # a service that builds its image records none
        assert not [r for r in mocks.resources if r.typ.startswith("docker:")]
        assert sorted(mocks.of("sentrystacks:index:Project")) == [f"{stack}-backend", f"{stack}-frontend"]

    return done(p).apply(check)


@pulumi.runtime.test
def test_service_urls_name_a_redis_by_its_own_scheme(mocks: Mocks, tmp_path: Path) -> Any:
    """A new user's trial: serviceUrls.redis said http://... for Redis."""
    p = program.build(settings("prod", tmp_path, serviceOverrides={"redis": {"public": True}}), root=ROOT)
    assert p.outputs["serviceUrls"] == {"backend": "http://127.0.0.1:8000", "frontend": "http://127.0.0.1:8080",
                                        "redis": "redis://127.0.0.1:6380"}  # fmt: skip
    return done(p)


@pulumi.runtime.test
def test_outputs(mocks: Mocks, tmp_path: Path) -> Any:
    s = settings("prod", tmp_path)
    p = program.build(s, root=ROOT)
    out = p.outputs
    assert out["environment"] == "production" and out["release"] == RELEASE and out["driver"] == "compose"
    assert out["sampleRates"]["traces"] == 0.069444 and out["sampleRates"]["replaysSession"] == 0.006734
    assert out["samplingExplanation"].splitlines()[1].startswith("traces: 0.069444 from the budget")
    assert out["serviceUrls"] == {"backend": "http://127.0.0.1:8100", "frontend": "http://127.0.0.1:8180"}
    assert out["currentKeys"] == {"backend": "g1", "frontend": "g1"}
    assert out["deployDir"] == str(tmp_path / "deploy" / "prod")

    def check(values: list[Any]) -> None:
        dsns, files, projects = values
        assert dsns == DSNS
        assert files["backend.env"] == str(tmp_path / "deploy" / "prod" / "backend.env")
        assert projects == {"backend": "sentry-stacks-demo-backend", "frontend": "sentry-stacks-demo-frontend"}

    return pulumi.Output.all(out["dsns"], out["files"], out["sentryProjects"]).apply(check)


@pulumi.runtime.test
def test_dsns_and_rendered_files_are_secret(mocks: Mocks, tmp_path: Path) -> Any:
    p = program.build(settings("dev", tmp_path), root=ROOT)

    async def secrets() -> None:
        assert await p.outputs["dsns"].is_secret()
        assert await p.rendered.is_secret()
        # (the files' content inputs are secret too: checked on the registered inputs in the compose test;
        # the mock monitor does not apply additional_secret_outputs to outputs)

    import asyncio

    return pulumi.Output.from_input(asyncio.ensure_future(secrets())).apply(lambda _: None)


def test_compose_stacks_never_import_pulumi_docker(tmp_path: Path) -> None:
    """`pulumi up` with the compose driver must not need the docker provider plugin."""
    code = f"""
import sys, pulumi
sys.path.insert(0, {str(ROOT)!r})
from tests.program.test_program import Mocks, settings
from pathlib import Path
pulumi.runtime.set_mocks(Mocks(), project="sentry-stacks", stack="dev", preview=False)
from infra import program
program.build(settings("dev", Path({str(tmp_path)!r})), root=Path({str(ROOT)!r}))
print("pulumi_docker" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


# --------------------------------------------------------------------------- docker driver


def container_env(registered: Registered) -> dict[str, str]:
    return dict(item.split("=", 1) for item in registered.inputs["envs"])


@pulumi.runtime.test
def test_docker_driver_host_network(mocks: Mocks, tmp_path: Path) -> Any:
    s = settings("dev", tmp_path, driver="docker")
    p = program.build(s, root=ROOT)

    def check(_: Any) -> None:
        files = mocks.of("pulumi-python:dynamic/files:RenderedFile")
        containers = mocks.of("docker:index/container:Container")
        assert sorted(containers) == ["dev-backend", "dev-beat", "dev-frontend", "dev-redis", "dev-worker"]
        assert not mocks.of("docker:index/network:Network") and not mocks.of("pulumi-python:dynamic/compose:Deployment")
        for svc in s.services:
            c = containers[f"dev-{svc.name}"]
            # the container gets exactly what its .env file holds
            assert container_env(c) == parse_dotenv(files[f"dev-{svc.name}.env"].inputs["content"]), svc.name
            assert is_secret(c.raw["envs"])
            assert c.inputs["name"] == f"sentry-stacks-dev-{svc.name}"
            assert c.inputs["image"] == svc.image
            assert c.inputs["networkMode"] == "host" and "ports" not in c.inputs and "networksAdvanced" not in c.inputs
            assert c.inputs["restart"] == "unless-stopped" and c.inputs["mustRun"] is True
            labels = {item["label"]: item["value"] for item in c.inputs["labels"]}
            assert labels["sentry-stacks.service"] == svc.name and labels["sentry-stacks.environment"] == "development"
            assert svc.healthcheck is not None
            assert c.inputs["healthcheck"]["tests"] == list(svc.healthcheck.test)
            assert c.inputs["healthcheck"]["interval"] == f"{svc.healthcheck.interval}s"
            assert c.inputs["healthcheck"]["retries"] == svc.healthcheck.retries
            assert c.inputs["wait"] is True and c.inputs["waitTimeout"] == 180
        assert containers["dev-worker"].inputs["command"] == ["/app/bin/worker"]
        assert container_env(containers["dev-backend"])["SENTRY_DSN"] == DSNS["backend"]
        assert container_env(containers["dev-worker"])["SENTRY_DSN"] == DSNS["backend"]
        # after every container, the gate that fails the deploy when one exits or restarts (infra/deploy/readiness.py)
        [ready] = mocks.of("pulumi-python:dynamic/docker:Readiness").values()
        assert ready.inputs["containers"] == {f"{n[4:]}": f"{n}-id" for n in containers}
        assert ready.inputs["healthTimeout"] == 180

    return done(p).apply(check)


@pulumi.runtime.test
def test_docker_driver_bridge_network_ports_and_images(mocks: Mocks, tmp_path: Path) -> Any:
    overrides = stack_config("prod")["sentry-stacks:serviceOverrides"]
    overrides["frontend"].update(hostPort=18180)
    overrides["backend"].update(
        build={"context": "demo/backend", "args": {"BASE_IMAGE": "sentry-stacks/base:bookworm", "OFFLINE": "1"}}
    )
    s = settings("prod", tmp_path, driver="docker", networkMode="bridge", serviceOverrides=overrides)
    p = program.build(s, root=ROOT)

    def check(_: Any) -> None:
        networks = mocks.of("docker:index/network:Network")
        assert list(networks) == ["prod-network"] and networks["prod-network"].inputs["name"] == "sentry-stacks-prod"
        containers = mocks.of("docker:index/container:Container")
        files = mocks.of("pulumi-python:dynamic/files:RenderedFile")
        for name, c in containers.items():
            svc = name.removeprefix("prod-")
            assert c.inputs["networksAdvanced"] == [{"name": "sentry-stacks-prod", "aliases": [svc]}]
            assert c.inputs["networkMode"] == "bridge"
            assert container_env(c) == parse_dotenv(files[f"{name}.env"].inputs["content"])
        assert containers["prod-frontend"].inputs["ports"] == [
            {"internal": 8180, "external": 18180, "ip": "127.0.0.1", "protocol": "tcp"}
        ]
        assert containers["prod-backend"].inputs["ports"] == [
            {"internal": 8100, "external": 8100, "ip": "127.0.0.1", "protocol": "tcp"}
        ]
        assert "ports" not in containers["prod-redis"].inputs and "ports" not in containers["prod-worker"].inputs
        assert container_env(containers["prod-backend"])["REDIS_URL"] == "redis://redis:6381/0"
        assert container_env(containers["prod-backend"])["BIND"] == "0.0.0.0"
        images = mocks.of("docker:index/remoteImage:RemoteImage")
        assert list(images) == ["prod-backend-image"]
        image = images["prod-backend-image"].inputs
        assert image["name"] == "sentry-stacks/backend:latest" and image["keepLocally"] is True
        assert image["build"]["context"] == str(ROOT / "demo" / "backend")
        assert image["build"]["buildArgs"] == {"BASE_IMAGE": "sentry-stacks/base:bookworm", "OFFLINE": "1"}
        assert containers["prod-backend"].inputs["image"].startswith("sha256:")
        assert containers["prod-worker"].inputs["image"] == "sentry-stacks/backend:latest"

    return done(p).apply(check)


# --------------------------------------------------------------------------- run(): config in, errors out


def pulumi_config(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the engine hands them to the program: strings, objects as JSON."""
    return {
        k: json.dumps(v) if isinstance(v, dict | list) else str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in config.items()
    }


def test_run_reads_the_stack_config(mocks: Mocks, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stack_file = stack_config("dev", release=RELEASE, deployDir=str(tmp_path / "out"))
    # only the stack file's keys: the program adds Pulumi.yaml's defaults itself
    import yaml

    keys = set(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]) | {
        "sentry:baseUrl",
        "sentry:organization",
        "sentry-stacks:team",
        "sentry-stacks:release",
        "sentry-stacks:deployDir",
    }
    pulumi.runtime.set_all_config(pulumi_config({k: v for k, v in stack_file.items() if k in keys}))
    monkeypatch.chdir(ROOT)
    seen: dict[str, Any] = {}
    real_build = program.build

    def spy(s: StackSettings, root: Path | None = None, image_ids: Any = None) -> program.Program:
        seen["settings"] = s
        return real_build(s, root, image_ids)

    monkeypatch.setattr(program, "build", spy)
    monkeypatch.setattr(program, "check_images", lambda s: seen.setdefault("images", s) and {})
    program.run()
    s = seen["settings"]
    # the one read of the Sentry connection is the provider's (its checkConnection: tests/e2e/test_connection_cli.py),
    # asked once the settings say what the stack will do; the provider has the stack's sentry: config as written
    [provider] = mocks.of("pulumi:providers:sentrystacks").values()
    assert provider.name == "dev-sentrystacks"
    assert provider.inputs == {"baseUrl": "https://sentry.example.com", "organization": "acme",
                               "namespace": "sentry-stacks"}  # no token in this stack file: SENTRY_AUTH_TOKEN
    [(token, args, via)] = mocks.calls
    assert token == "sentrystacks:index:checkConnection" and via is not None and "dev-sentrystacks" in via
    assert args == {"team": "platform", "alerts": True, "workflows": True, "releases": True,
                    "namespace": "sentry-stacks"}
    assert s == load_settings(stack_file, stack="dev", git_release=lambda: RELEASE, environ={})
    assert s.services[0].name == "backend" and s.alerts and s.monitors  # defaults from Pulumi.yaml


def test_bad_settings_stop_before_any_resource(
    mocks: Mocks, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = stack_config("dev", driver="kubernetes", sampling={"traces": 1.5, "budget": {"spansPerMonth": -1}})
    bad["sentry-stacks:services"]["backend"]["sentry"]["platform"] = "django"
    bad["sentry-stacks:serviceOverrides"]["backend"]["port"] = 0
    bad.pop("sentry:organization")
    pulumi.runtime.set_all_config(pulumi_config(bad), secret_keys=[])
    monkeypatch.chdir(ROOT)
    with (
        caplog.at_level(logging.ERROR),
        pytest.raises(pulumi.RunError, match=r"problem\(s\) in the settings of stack dev"),
    ):
        program.run()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    text = "\n".join(errors)
    for expected in (
        'sentry-stacks:driver = "kubernetes": unknown value; allowed: compose, docker',
        "sentry-stacks:sampling.traces = 1.5: must be a number from 0 to 1",
        "sentry-stacks:sampling.budget.spansPerMonth = -1: must be a number >= 0",
        'sentry-stacks:services.backend.sentry.platform = "django": unknown Sentry platform id',
        "sentry-stacks:serviceOverrides.backend.port = 0: must be a whole number from 1 to 65535",
        "sentry:organization = (not set): required when sentry:baseUrl",
    ):
        assert expected in text, text
    assert mocks.resources == []  # nothing registered: preview creates nothing


@pytest.mark.parametrize("preview", [True])
def test_preview_with_unknown_dsns(tmp_path: Path, preview: bool) -> None:
    """In preview the DSNs are unknown: nothing is rendered, and nothing fails."""

    class PreviewMocks(Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            rid, outs = super().new_resource(args)
            outs.pop("dsn", None)
            outs.pop("sha256", None)
            return rid, outs

    m = PreviewMocks()
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="dev", preview=preview)

    @pulumi.runtime.test
    def run() -> Any:
        p = program.build(settings("dev", tmp_path), root=ROOT)
        return pulumi.Output.all(*(f.id for f in p.files.values()))

    run()
    assert sorted(m.of("pulumi-python:dynamic/files:RenderedFile")) == [
        f"dev-{n}" for n in program.file_names(settings("dev", tmp_path))
    ]


@pulumi.runtime.test
def test_privacy_reaches_the_projects_and_the_outputs(mocks: Mocks, tmp_path: Path) -> Any:
    """dev shares its projects with prod: each project gets dev's own asks, and prod's asks (from its stack file)
    for the provider's floor, which keeps what prod applied (infra/sentry/privacy_floor.py)."""
    s = settings("dev", tmp_path)
    p = program.build(s, root=ROOT)
    assert p.outputs["privacy"]["dataCollection"]["userInfo"] is True
    assert p.outputs["privacy"]["projects"]["scrubIPAddresses"] is False

    def check(_: Any) -> None:
        for project in mocks.of("sentrystacks:index:Project").values():
            assert project.inputs["scrubIPAddresses"] is False  # dev's own ask
            assert project.inputs["privacyOthers"]["prod"]["scrubIPAddresses"] is True  # prod's, for the floor
            assert project.inputs.get("sensitiveFields") is None  # nobody declares it: not managed

    return done(p).apply(check)


@pulumi.runtime.test
def test_per_environment_projects_get_the_stacks_own_privacy(mocks: Mocks, tmp_path: Path) -> Any:
    s = settings("dev", tmp_path, projectMode="per-environment")
    p = program.build(s, root=ROOT)

    def check(_: Any) -> None:
        for project in mocks.of("sentrystacks:index:Project").values():
            assert project.inputs["scrubIPAddresses"] is False

    return done(p).apply(check)
