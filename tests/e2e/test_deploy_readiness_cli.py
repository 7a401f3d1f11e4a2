"""A deploy succeeds only when its services stay up (a new user's trial: `pulumi up` reported success while a worker
without a healthcheck crash-looped under its restart policy).

* compose, through the real CLI and Docker engine with the toolkit's own program: a Sentry service without a
  healthcheck whose command prints its DSN and exits 1 fails `up`, naming the service, its exit code and restarts and
  the last lines of its log, with the DSN's key masked; the same service running, next to a service whose healthcheck
  passes, makes `up` succeed.
* docker: the driver's gate after its pulumi-docker containers (``{stack}-ready``, infra/deploy/readiness.py) on
  real containers: one crash-looping under ``--restart unless-stopped`` fails it the same way, a running one passes,
  and a restart from before the last deploy of a container that stayed is not a new failure. (The pulumi-docker
  provider plugin cannot be had here, so the driver's declaration is checked under mocks: tests/program.)
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from infra.deploy import readiness
from infra.deploy.readiness import ReadinessError, ReadinessProvider
from infra.render import parse_dotenv
from tests.e2e.docker_support import Containers, demo_images, require_docker
from tests.e2e.pulumi_support import PulumiProject, compose_shop, require_langhost, require_pulumi
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

#: what a Node worker does when its Redis is not there yet, after printing its configuration
CRASH = 'echo "worker starting, DSN $SENTRY_DSN"; echo "Error: connect ECONNREFUSED 127.0.0.1:6379" >&2; exit 1'
STAY = 'echo "worker up"; exec sleep 100000'


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulumiProject]:
    """A project of two services on the compose driver: `cache` (the demo Redis image, its healthcheck) and `worker`
    (a Sentry service on the base image, no healthcheck, restart policy unless-stopped: the default)."""
    require_pulumi()
    require_langhost()
    require_docker()
    images = demo_images()
    port = free_port()
    services = {
        "cache": {"image": images.redis, "environment": {"REDIS_PORT": str(port), "REDIS_BIND": "127.0.0.1"}},
        "worker": {"image": images.base, "command": ["sh", "-c", CRASH], "dependsOn": ["cache"],
                   "sentry": {"project": "shop-worker", "platform": "python"}},
    }  # fmt: skip
    with compose_shop(tmp_path_factory.mktemp("ready"), services, "ssready") as proj:
        yield proj


def test_compose_up_fails_naming_a_service_that_crash_loops_and_passes_once_it_stays_up(shop: PulumiProject) -> None:
    up = shop.run("up", "--yes", "--skip-preview", check=False)
    output = up.stdout + up.stderr
    assert up.returncode != 0, output
    assert "service worker does not stay up" in output, output
    assert "worker (" in output and "exit code 1" in output, output
    assert "Error: connect ECONNREFUSED 127.0.0.1:6379" in output, output  # its last log lines
    dsn = parse_dotenv((shop.workdir / "deploy" / "prod" / "worker.env").read_text())["SENTRY_DSN"]
    key = dsn.split("://", 1)[1].split("@", 1)[0]
    assert "| worker starting, DSN ***" in output, output  # the variable's value masked, not only the DSN's key
    assert key not in output, "the DSN's key is printed"
    assert "Traceback" not in output

    shop.run("config", "set", "--path", "shop:services.worker.command[2]", STAY)
    shop.up()
    project = shop.outputs()["composeProject"]
    ps = subprocess.run(["docker", "ps", "--filter", f"label=com.docker.compose.project={project}", "--format",
                         "{{.Label \"com.docker.compose.service\"}} {{.State}}"], capture_output=True, text=True,
                        check=True)  # fmt: skip
    assert sorted(ps.stdout.split("\n")[:-1]) == ["cache running", "worker running"], ps.stdout


@pytest.fixture
def containers() -> Iterator[Containers]:
    require_docker()
    started = Containers("ss-ready")
    try:
        yield started
    finally:
        started.close()


def test_the_docker_drivers_gate_fails_on_a_crash_loop_and_passes_a_container_that_stays_up(
    containers: Containers, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = demo_images().base
    dsn = f"http://{uuid.uuid4().hex}@127.0.0.1:9/1"
    env = {"SENTRY_DSN": dsn, "API_TOKEN": "tok-" + uuid.uuid4().hex}
    policy = ["--restart", "unless-stopped"]
    crash = containers.run(base, "sh", "-c", 'echo "token $API_TOKEN"; ' + CRASH, role="worker", env=env, extra=policy)
    stay = containers.run(base, "sh", "-c", STAY, role="api", env=env, extra=policy)
    # exits once (the engine restarts it: RestartCount 1), then stays up: its file survives the restart
    once = containers.run(base, "sh", "-c", "test -f /tmp/once || { touch /tmp/once; exit 1; }; " + STAY,
                          role="once", extra=policy)  # fmt: skip
    ids = {name: container_id(c.name) for name, c in (("worker", crash), ("api", stay), ("once", once))}
    monkeypatch.setattr(readiness, "SETTLE", 2.0)

    with pytest.raises(ReadinessError) as failed:
        ReadinessProvider().create({"containers": {"worker": ids["worker"], "api": ids["api"]}, "healthTimeout": 60})
    message = str(failed.value)
    assert "driver docker: service worker does not stay up" in message, message
    assert f"worker ({crash.name}):" in message and "exit code 1" in message, message
    assert "| Error: connect ECONNREFUSED 127.0.0.1:6379" in message, message
    assert "| worker starting, DSN ***" in message and "| token ***" in message, message
    assert dsn.split("@")[0].split("//")[1] not in message and env["API_TOKEN"] not in message, message

    created = ReadinessProvider().create({"containers": {"api": ids["api"]}, "healthTimeout": 60})
    assert created.outs["status"] == {"api": "running"} and created.outs["restarts"] == {ids["api"]: 0}

    # a restart seen for the first time after a deploy fails it; the same restart, recorded by the last deploy's
    # gate, is not a new one when the next deploy replaced only another container
    wait_restarts(once.name, 1)
    props = {"containers": {"api": ids["api"], "once": ids["once"]}, "healthTimeout": 60}
    with pytest.raises(ReadinessError, match=r"service once does not stay up .*\n  once \(.*\): running, exit code "
                                             r"1, restarted 1 time\(s\) since the deploy"):  # fmt: skip
        ReadinessProvider().create(props)
    olds = {**created.outs, "containers": props["containers"], "restarts": {ids["api"]: 0, ids["once"]: 1}}
    updated = ReadinessProvider().update(created.id, olds, {**props, "healthTimeout": 61})
    assert updated.outs["status"] == {"api": "running", "once": "running"}


def container_id(name: str) -> str:
    return subprocess.run(["docker", "inspect", "--format", "{{.Id}}", name], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


def wait_restarts(name: str, count: int, timeout: float = 30) -> None:
    """Until the engine has restarted the container `count` times and it runs again."""
    deadline = time.monotonic() + timeout
    while True:
        state = subprocess.run(["docker", "inspect", "--format", "{{.RestartCount}} {{.State.Status}}", name],
                               capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
        if state == [str(count), "running"]:
            return
        assert time.monotonic() < deadline, f"{name}: {state}"
        time.sleep(0.2)
