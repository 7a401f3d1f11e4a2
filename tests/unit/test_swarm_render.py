"""Settings and rendering of the swarm driver and of `dsnReload: file` (issue 15)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.files import write_atomic
from infra.program import env_file_owners
from infra.render import COMPOSE_FILE, render_all
from infra.sampling import derive_rates
from infra.settings import SettingsError
from tests.unit.settings_support import DSNS, settings_for

SWARM = {"driver": "swarm", "networkMode": "bridge"}


def compose_doc(**overrides: Any) -> dict[str, Any]:
    s = settings_for("dev", **overrides)
    return dict(yaml.safe_load(render_all(s, DSNS, derive_rates(s.sampling)).files[COMPOSE_FILE]))


def problems(**overrides: Any) -> list[str]:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", **overrides)
    return [str(p) for p in err.value.problems]


def test_swarm_defaults_suit_a_real_cluster() -> None:
    s = settings_for("dev", **SWARM)
    assert (s.driver, s.swarm_endpoint_mode, s.swarm_publish_mode) == ("swarm", "vip", "ingress")
    assert all(svc.replicas == 1 for svc in s.services)


def test_swarm_stack_file() -> None:
    overrides = {"backend": {"replicas": 3, "hostPort": 18000}, "frontend": {"hostPort": 18080}}
    doc = compose_doc(**SWARM, swarmEndpointMode="dnsrr", swarmPublishMode="host", serviceOverrides=overrides)
    backend, redis, frontend = (doc["services"][n] for n in ("backend", "redis", "frontend"))
    assert backend["deploy"]["replicas"] == 3 and redis["deploy"]["replicas"] == 1
    assert {svc["deploy"]["endpoint_mode"] for svc in doc["services"].values()} == {"dnsrr"}
    # a host-mode published port cannot run two tasks on one node: stop-first; redis publishes nothing
    assert backend["deploy"]["update_config"]["order"] == "stop-first"
    assert redis["deploy"]["update_config"]["order"] == "start-first"
    assert backend["deploy"]["update_config"]["failure_action"] == "rollback"
    assert backend["ports"] == [{"target": 8000, "published": 18000, "protocol": "tcp", "mode": "host"}]
    assert frontend["ports"] == [{"target": 8080, "published": 18080, "protocol": "tcp", "mode": "host"}]
    assert backend["deploy"]["restart_policy"] == {"condition": "any"}
    assert backend["deploy"]["labels"]["sentry-stacks.service"] == "backend"
    for svc in doc["services"].values():  # options `docker stack deploy` does not support are left out
        assert not {"build", "depends_on", "restart", "network_mode"} & set(svc)
    assert doc["networks"]["default"] == {"name": s_project(), "driver": "overlay", "attachable": True}
    assert backend["environment"]["REDIS_URL"] == "redis://redis:6380/0"


def s_project() -> str:
    return settings_for("dev", **SWARM).compose_project


def test_ingress_publishing_allows_start_first() -> None:
    doc = compose_doc(**SWARM)
    assert doc["services"]["backend"]["deploy"]["update_config"]["order"] == "start-first"
    assert doc["services"]["backend"]["ports"][0]["mode"] == "ingress"
    assert doc["services"]["backend"]["deploy"]["endpoint_mode"] == "vip"


def test_compose_file_has_no_swarm_sections() -> None:
    doc = compose_doc()
    assert all("deploy" not in svc for svc in doc["services"].values())
    assert doc["services"]["backend"]["depends_on"] == {"redis": {"condition": "service_healthy"}}


def test_live_dsn_is_not_in_the_compose_file() -> None:
    """dsnReload: file - a new DSN changes the env file only, so compose and swarm replace nothing."""
    s = settings_for("dev")
    rates = derive_rates(s.sampling)
    first = render_all(s, DSNS, rates)
    rotated = render_all(s, {**DSNS, "backend": DSNS["backend"].replace("0123", "4567")}, rates)
    assert first.files[COMPOSE_FILE] != render_all(s, {**DSNS, "frontend": "https://f@x/9"}, rates).files[COMPOSE_FILE]
    assert first.files[COMPOSE_FILE] == rotated.files[COMPOSE_FILE]  # backend and worker reload, nothing restarts
    assert first.files["backend.env"] != rotated.files["backend.env"]
    assert first.files["worker.env"] != rotated.files["worker.env"]
    assert first.files["beat.env"] != rotated.files["beat.env"]
    assert env_file_owners(s) == {"backend.env": 10001, "beat.env": 10001, "worker.env": 10001}
    assert env_file_owners(settings_for("dev", driver="docker")) == {}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"driver": "swarm"}, 'sentry-stacks:networkMode = "host": driver swarm needs networkMode bridge'),
        ({"driver": "kubernetes"}, "allowed: compose, docker, swarm"),
        ({**SWARM, "swarmEndpointMode": "ipvs"}, 'sentry-stacks:swarmEndpointMode = "ipvs": unknown value;'
         " allowed: vip, dnsrr"),
        ({**SWARM, "swarmPublishMode": "mesh"}, "allowed: ingress, host"),
        ({"serviceOverrides": {"backend": {"replicas": 2}}}, "sentry-stacks:serviceOverrides.backend.replicas = 2:"
         " more than 1 replica needs driver swarm"),
        ({**SWARM, "serviceOverrides": {"backend": {"replicas": 0}}},
         "replicas = 0: must be a whole number from 1 to 100"),
        ({"serviceOverrides": {"backend": {"dsnReload": "hot"}}}, "allowed: restart, file"),
        ({"serviceOverrides": {"redis": {"dsnReload": "file"}}}, "sentry-stacks:serviceOverrides.redis.dsnReload ="
         ' "file": file reloads the Sentry DSN from the env file: the service needs a sentry project or dsnFrom'),
        ({"serviceOverrides": {"backend": {"user": "app"}}}, 'user = "app": must be a numeric uid or uid:gid'),
    ],
)
def test_bad_swarm_settings_name_key_and_allowed_values(overrides: dict[str, Any], expected: str) -> None:
    found = problems(**overrides)
    assert any(expected in p for p in found), found


def test_owned_file_is_0600_and_its_folder_traversable_not_listable(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        with pytest.raises(PermissionError, match="cannot make uid 10001 the owner"):
            write_atomic(str(tmp_path / "d" / "backend.env"), "SENTRY_DSN='x'\n", owner=10001)
        return
    path = tmp_path / "d" / "backend.env"
    write_atomic(str(path), "SENTRY_DSN='x'\n", owner=10001)
    info = path.stat()
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (10001, 0o600)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o711


def test_swarm_service_status_is_converged_only_when_every_task_is_ready() -> None:
    from infra.deploy.base import ContainerState
    from infra.deploy.swarm import ServiceState, service_status

    def svc(name: str, desired: int, update: str = "") -> ServiceState:
        message = "update rolled back: task unhealthy" if "rollback" in update else ""
        return ServiceState(name, desired, update, message, 1)

    def task(service: str, n: int, health: str | None = "healthy", status: str = "running") -> ContainerState:
        return ContainerState(service, f"s_{service}.{n}", status, health, 0)

    services = {"backend": svc("backend", 2), "worker": svc("worker", 1, "updating"), "redis": svc("redis", 1)}
    tasks = [task("backend", 1), task("backend", 2, "starting"), task("worker", 1), task("redis", 1, None)]
    assert service_status(services, tasks, ["backend", "worker", "redis", "frontend"]) == {
        "backend": "1/2 tasks ready, 2 running",
        "worker": "update updating",
        "redis": "running",
        "frontend": "missing",
    }
    services["worker"] = svc("worker", 1, "rollback_completed")
    assert service_status(services, tasks, ["worker"])["worker"].startswith("update rollback_completed: update rolled")
    done = {"backend": svc("backend", 2, "completed")}
    assert service_status(done, [task("backend", 1), task("backend", 2)], ["backend"]) == {"backend": "healthy"}
    # a task of the previous spec still running (start-first) is not converged yet
    three = [task("backend", 1), task("backend", 2), task("backend", 3)]
    assert service_status(done, three, ["backend"]) == {"backend": "3/2 tasks ready"}


def test_docker_stack_config_accepts_the_swarm_file(tmp_path: Path) -> None:
    """The docker CLI's own loader (`docker stack config`, client side, no swarm needed) reads the stack file."""
    import shutil
    import subprocess

    if shutil.which("docker") is None or subprocess.run(
        ["docker", "stack", "config", "--help"], capture_output=True, check=False
    ).returncode != 0:
        pytest.skip("the docker CLI with `docker stack config` (Docker 25+) is not installed")
    s = settings_for("dev", **SWARM, swarmEndpointMode="dnsrr", swarmPublishMode="host",
                     serviceOverrides={"worker": {"replicas": 2}})  # fmt: skip
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / COMPOSE_FILE).write_text(render_all(s, DSNS, derive_rates(s.sampling)).files[COMPOSE_FILE])
    proc = subprocess.run(["docker", "stack", "config", "-c", COMPOSE_FILE], cwd=deploy, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    assert doc["services"]["worker"]["deploy"]["replicas"] == 2
    assert doc["services"]["backend"]["volumes"][0]["source"] == str(deploy)
    assert doc["services"]["backend"]["ports"][0]["mode"] == "host"
    assert "SENTRY_DSN" not in doc["services"]["backend"]["environment"]
