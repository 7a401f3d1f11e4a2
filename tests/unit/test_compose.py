"""ComposeDeployment's provider: check/diff rules, the commands it runs (against a fake docker), pickling
by reference, and (with a Docker engine) the real lifecycle: up, healthy, drift on refresh, redeploy, down."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from infra.deploy import compose, readiness
from infra.deploy.base import ContainerState, mask_dsn_keys
from infra.deploy.compose import ComposeError, ComposeProvider, service_status

ROOT = Path(__file__).resolve().parents[2]


def props(**kw: Any) -> dict[str, Any]:
    base = {
        "project": "shop-dev",
        "file": "/tmp/x/docker-compose.yml",
        "fileSha256": "a" * 64,
        "services": ["backend", "redis"],
        "healthTimeout": 60,
    }
    base.update(kw)
    return base


def outs(**kw: Any) -> dict[str, Any]:
    return {**props(), "status": {"backend": "healthy", "redis": "healthy"}, **kw}


# --------------------------------------------------------------------------- check and diff


def test_check_reports_each_bad_input() -> None:
    p = ComposeProvider()
    result = p.check({}, props(project="Shop Dev", file="", services=[], healthTimeout=0))
    assert sorted(f.property for f in result.failures) == ["file", "healthTimeout", "project", "services"]
    assert p.check({}, props()).failures == []
    assert p.check({}, props(file="rel/compose.yml")).inputs["file"] == os.path.abspath("rel/compose.yml")


@pytest.mark.parametrize("unknown", [Unknown(), UNKNOWN])
def test_check_and_diff_tolerate_unknowns(unknown: Any) -> None:
    p = ComposeProvider()
    assert p.check({}, props(file=unknown, fileSha256=unknown)).failures == []
    diff = p.diff("shop-dev", outs(), props(fileSha256=unknown))
    assert diff.changes is True and not diff.replaces
    diff = p.diff("shop-dev", outs(), props(project=unknown))
    assert diff.changes is True and diff.replaces == ["project"]


def test_diff_rules() -> None:
    p = ComposeProvider()
    assert p.diff("shop-dev", outs(), props()).changes is False
    assert p.diff("shop-dev", outs(), props(fileSha256="b" * 64)).changes is True  # the file changed: redeploy
    assert p.diff("shop-dev", outs(), props(services=["backend"])).changes is True
    replaced = p.diff("shop-dev", outs(), props(project="shop-prod"))
    assert replaced.replaces == ["project"] and replaced.delete_before_replace is True
    # drift recorded by refresh: a stopped or unhealthy container means `up` runs again
    assert p.diff("shop-dev", outs(status={"backend": "exited", "redis": "healthy"}), props()).changes is True
    assert p.diff("shop-dev", outs(status={"backend": "running, unhealthy", "redis": "healthy"}), props()).changes
    assert p.diff("shop-dev", outs(status={"redis": "healthy"}), props()).changes is True  # missing


def test_service_status() -> None:
    containers = [
        ContainerState("backend", "p_backend_1", "running", "healthy", 0),
        ContainerState("worker", "p_worker_1", "running", None, 0),
        ContainerState("web", "p_web_1", "running", "unhealthy", 0, "connection refused"),
        ContainerState("redis", "p_redis_1", "exited", None, 137),
    ]
    assert service_status(containers, ["backend", "worker", "web", "redis", "frontend"]) == {
        "backend": "healthy",
        "worker": "running",
        "web": "running, unhealthy",
        "redis": "exited",
        "frontend": "missing",
    }
    assert containers[3].describe() == "redis (p_redis_1): exited, exit code 137"
    assert containers[2].describe() == "web (p_web_1): running, unhealthy; last healthcheck: connection refused"


def test_mask_dsn_keys() -> None:
    text = "ingest http://0123456789abcdef0123456789abcdef@host/1 and ?sentry_key=0123456789abcdef0123456789abcdef"
    assert mask_dsn_keys(text) == "ingest http://***@host/1 and ?sentry_key=***"


def test_provider_pickles_by_reference(tmp_path: Path) -> None:
    """The provider process imports infra.deploy.compose from the project root; the pickle holds no code."""
    from pulumi.dynamic.dynamic import serialize_provider

    blob = serialize_provider(ComposeProvider())
    assert len(blob) < 400
    code = "import base64, dill, sys; p = dill.loads(base64.b64decode(sys.argv[1])); print(type(p).__module__)"
    out = subprocess.run([sys.executable, "-c", code, blob], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "infra.deploy.compose"


# --------------------------------------------------------------------------- against a fake docker

FAKE = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys
    state_path = os.environ["FAKE_DOCKER_STATE"]
    state = json.load(open(state_path))
    args = sys.argv[1:]
    name = os.path.basename(sys.argv[0])
    with open(state_path + ".log", "a") as log:
        log.write(json.dumps([name, *args]) + "\\n")
    def save():
        json.dump(state, open(state_path, "w"))
    if name == "docker-compose" or args[:1] == ["compose"]:
        if "up" in args:
            if state.get("up_fails"):
                dsn = "http://" + "0123456789abcdef" * 2 + "@h/1"
                print("ERROR: for backend  pull access denied, DSN " + dsn, file=sys.stderr)
                sys.exit(1)
            state["containers"] = [dict(c) for c in state["after_up"]]
        if "down" in args:
            state["containers"] = []
        save()
        sys.exit(0)
    if args[:1] == ["ps"]:
        print("\\n".join(c["Id"] for c in state["containers"]))
    elif args[:1] == ["inspect"]:
        print(json.dumps([c for c in state["containers"] if c["Id"] in args[1:]]))
    elif args[:1] == ["rm"]:
        state["containers"] = []
        save()
    elif args[:2] == ["network", "ls"]:
        print("net1")
    sys.exit(0)
    """
)


def container(service: str, status: str = "running", health: str | None = "healthy") -> dict[str, Any]:
    state: dict[str, Any] = {"Status": status, "ExitCode": 0 if status == "running" else 1}
    if health:
        state["Health"] = {"Status": health, "Log": [{"Output": "ok"}]}
    return {
        "Id": uuid.uuid4().hex,
        "Name": f"/shop-dev_{service}_1",
        "Config": {"Labels": {"com.docker.compose.service": service}},
        "State": state,
    }


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("docker", "docker-compose"):
        path = bin_dir / name
        path.write_text(FAKE.format(python=sys.executable))
        path.chmod(0o755)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"containers": [], "after_up": [container("backend"), container("redis")]}))
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_STATE", str(state))
    monkeypatch.setenv("SENTRY_STACKS_COMPOSE", "docker-compose")
    monkeypatch.setattr(readiness, "POLL", 0.01)
    monkeypatch.setattr(readiness, "SETTLE", 0.0)
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    return tmp_path


def calls(tmp: Path) -> list[list[str]]:
    return [json.loads(line) for line in (tmp / "state.json.log").read_text().splitlines()]


def test_create_runs_up_and_waits_healthy(fake_docker: Path) -> None:
    file = str(fake_docker / "docker-compose.yml")
    result = ComposeProvider().create(props(file=file))
    assert result.id == "shop-dev"
    assert result.outs["status"] == {"backend": "healthy", "redis": "healthy"}
    compose_calls = [c for c in calls(fake_docker) if c[0] == "docker-compose"]
    assert compose_calls[0] == ["docker-compose", "-p", "shop-dev", "-f", file, "up", "-d", "--remove-orphans"]


def test_create_failure_takes_everything_down_and_masks_secrets(fake_docker: Path) -> None:
    state = json.loads((fake_docker / "state.json").read_text())
    state["up_fails"] = True
    (fake_docker / "state.json").write_text(json.dumps(state))
    file = str(fake_docker / "docker-compose.yml")
    with pytest.raises(ComposeError) as info:
        ComposeProvider().create(props(file=file))
    assert "up -d` failed (exit 1)" in str(info.value) and "0123456789abcdef" not in str(info.value)
    assert calls(fake_docker)[-1] == ["docker-compose", "-p", "shop-dev", "-f", file, "down", "-v", "--remove-orphans"]


def test_unhealthy_after_timeout_names_the_service(fake_docker: Path) -> None:
    state = json.loads((fake_docker / "state.json").read_text())
    state["after_up"] = [container("backend", health="starting"), container("redis")]
    (fake_docker / "state.json").write_text(json.dumps(state))
    with pytest.raises(
        ComposeError, match=r"not healthy after 0 s:\n  backend \(shop-dev_backend_1\): running, starting"
    ):
        ComposeProvider().update(
            "shop-dev", outs(), props(file=str(fake_docker / "docker-compose.yml"), healthTimeout=0.05)
        )


def test_a_crashed_container_fails_fast(fake_docker: Path) -> None:
    state = json.loads((fake_docker / "state.json").read_text())
    state["after_up"] = [container("backend", status="exited", health=None), container("redis")]
    (fake_docker / "state.json").write_text(json.dumps(state))
    stopped = r"service backend does not stay up .*:\n  backend \(shop-dev_backend_1\): exited, exit code 1"
    with pytest.raises(ComposeError, match=stopped):
        ComposeProvider().update("shop-dev", outs(), props(file=str(fake_docker / "docker-compose.yml")))


def test_read_reports_drift_and_gone(fake_docker: Path) -> None:
    state = json.loads((fake_docker / "state.json").read_text())
    state["containers"] = [container("backend", status="exited", health="unhealthy"), container("redis")]
    (fake_docker / "state.json").write_text(json.dumps(state))
    read = ComposeProvider().read("shop-dev", outs())
    assert read.id == "shop-dev" and read.outs is not None
    assert read.outs["status"] == {"backend": "exited", "redis": "healthy"}
    assert read.inputs is not None and "status" not in read.inputs
    state["containers"] = []
    (fake_docker / "state.json").write_text(json.dumps(state))
    assert ComposeProvider().read("shop-dev", outs()).id == ""


def test_delete_without_the_file_removes_by_label(fake_docker: Path) -> None:
    state = json.loads((fake_docker / "state.json").read_text())
    state["containers"] = [container("backend")]
    (fake_docker / "state.json").write_text(json.dumps(state))
    ComposeProvider().delete("shop-dev", outs(file=str(fake_docker / "gone.yml")))
    log = calls(fake_docker)
    assert ["docker", "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=shop-dev"] in log
    assert any(c[:3] == ["docker", "rm", "-f"] for c in log)
    assert ["docker", "network", "rm", "net1"] in log


def test_no_compose_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SENTRY_STACKS_COMPOSE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ComposeError, match="install Docker Compose"):
        compose.compose_command()


# --------------------------------------------------------------------------- a real Docker engine

IMAGE = "sentry-stacks/redis:latest"


def require_docker_image() -> None:
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    problem = None
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        problem = "no Docker engine answers `docker info`: run `make docker`"
    elif subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        problem = f"the image {IMAGE} is missing: run `make images`"
    if problem:
        if ci:
            pytest.fail(f"CI requires the real component. {problem}")
        pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
def test_real_lifecycle(tmp_path: Path) -> None:
    require_docker_image()
    project = f"sst-{uuid.uuid4().hex[:8]}"
    port = free_port()
    file = tmp_path / "docker-compose.yml"
    file.write_text(
        textwrap.dedent(f"""\
        services:
          redis:
            image: "{IMAGE}"
            network_mode: host
            environment:
              REDIS_PORT: "{port}"
              REDIS_BIND: "127.0.0.1"
            healthcheck:
              test: ["CMD", "/usr/local/bin/redis-healthcheck"]
              interval: "1s"
              timeout: "3s"
              retries: 30
            restart: "no"
        """)
    )
    p = ComposeProvider()
    inputs = props(project=project, file=str(file), services=["redis"], healthTimeout=120)
    try:
        created = p.create(inputs)
        assert created.outs["status"] == {"redis": "healthy"}
        read = p.read(project, created.outs)
        assert read.id == project and read.outs is not None and read.outs["status"] == {"redis": "healthy"}
        assert p.diff(project, read.outs, inputs).changes is False
        subprocess.run(["docker", "stop", f"{project}_redis_1", f"{project}-redis-1"], capture_output=True)
        drifted = p.read(project, created.outs)
        assert drifted.outs is not None and drifted.outs["status"]["redis"] == "exited"
        assert p.diff(project, drifted.outs, inputs).changes is True
        updated = p.update(project, drifted.outs, inputs)
        assert updated.outs["status"] == {"redis": "healthy"}
    finally:
        p.delete(project, inputs)
    assert compose.project_containers(project) == []
    assert p.read(project, inputs).id == ""
