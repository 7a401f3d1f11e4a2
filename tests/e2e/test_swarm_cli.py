"""The reference app on a single-node Docker Swarm (`driver: swarm`), through the real CLI and real containers.

`pulumi up` deploys the rendered compose file with `docker stack deploy` and returns once every service has
converged (replicas running and healthy); the backend's real SDK reports to localsentry; a DSN rotation under
traffic refuses no request, loses no event and restarts no task (the backend and worker re-read their env
file); a changed service rolls (start-first, the worker has no published port); `destroy` removes the stack.
Settings dnsrr/host: see tests/e2e/swarm_support.py (this kernel has no IPVS).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.docker_support import demo_images, require_docker
from tests.e2e.pulumi_support import ROOT
from tests.e2e.stack_support import AppStack, BackendTraffic, copy_project, wait_http
from tests.e2e.swarm_support import (
    containers_by_service,
    make_swarm_stack,
    remove_stack,
    sentry_for_swarm,
    single_node_swarm,
    stack_containers,
    stack_networks,
    stack_services,
)
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.e2e
ROTATE = str(ROOT / "scripts" / "rotate-dsn")


@pytest.fixture
def swarm_dev(tmp_path: Path) -> Iterator[tuple[AppStack, LocalSentry, str]]:
    require_docker()
    demo_images()
    with single_node_swarm() as swarm:
        ls = sentry_for_swarm(tmp_path / "ls", swarm)
        name = ""
        try:
            stack = AppStack.create(copy_project(tmp_path / "proj", ls), "dev", f"sw-{uuid.uuid4().hex[:6]}")
            make_swarm_stack(stack)
            stack.run("config", "set", "--path", "sentry-stacks:serviceOverrides.worker.replicas", "2")
            # a shared 2-core machine can starve healthchecks for minutes; convergence is still what `up` waits for
            stack.config_set("sentry-stacks:healthTimeout", "900")
            name = stack.run("config", "get", "sentry-stacks:composeProject").stdout.strip()
            stack.up()
            yield stack, ls, name
            stack.run("destroy", "--yes")
            assert stack_services(name) == {} and stack_containers(name) == [], "destroy removes the stack"
            assert stack_networks(name) == [], "destroy removes the stack's network"
        finally:
            if name:
                remove_stack(name)
            ls.stop()


def rotate(stack: AppStack, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(ROOT / "venv" / "bin" / "python"), ROTATE, "--stack", stack.stack, "--cwd", str(stack.workdir), *args],
        env=stack.env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, f"rotate-dsn {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_swarm_stack_converges_rotates_without_downtime_and_rolls(swarm_dev: tuple[AppStack, LocalSentry, str]) -> None:
    stack, ls, name = swarm_dev
    services = stack_services(name)
    assert sorted(services) == ["backend", "beat", "frontend", "redis", "worker"]
    assert services["worker"]["Spec"]["Mode"]["Replicated"]["Replicas"] == 2
    assert {s["Spec"]["EndpointSpec"]["Mode"] for s in services.values()} == {"dnsrr"}
    assert services["worker"]["Spec"]["UpdateConfig"]["Order"] == "start-first"
    assert services["backend"]["Spec"]["UpdateConfig"]["Order"] == "stop-first"  # host-mode port on one node
    # `up` returned only after convergence: every task runs and is healthy right now
    running = stack_containers(name)
    tasks = sum(int(s["Spec"]["Mode"]["Replicated"]["Replicas"]) for s in services.values())
    assert tasks == len(services) + 1 and len(running) == tasks, [c["Name"] for c in running]  # worker runs 2
    assert {c["State"]["Health"]["Status"] for c in running} == {"healthy"}
    status = stack.outputs()
    assert status["driver"] == "swarm" and status["composeProject"] == name
    stack.run("preview", "--expect-no-changes")

    # DSN rotation under traffic: nothing restarts, nothing is refused, nothing is lost
    wait_http(f"{stack.url('backend')}/api/health/")
    before = containers_by_service(name)
    keys = stack.outputs(show_secrets=True)["sentryKeys"]["backend"]
    project = stack.outputs()["sentryProjects"]["backend"]
    traffic = BackendTraffic(stack.url("backend"), f"sw-{uuid.uuid4().hex[:6]}")
    traffic.start()
    try:
        time.sleep(2)
        rotate(stack, "--service", "backend", "--verify-timeout", "60", "start")
        time.sleep(22)  # quiet window (10 s) + one 10 s key-stats bucket
        rotate(stack, "--service", "backend", "--grace", "0s", "--quiet", "10s", "finish")
        time.sleep(2)
    finally:
        traffic.stop.set()
        traffic.join()
    assert traffic.refused == 0, f"{traffic.refused} requests refused during the rotation ({traffic.timeouts} timeouts)"
    assert traffic.failures == [], traffic.failures[:5]
    assert containers_by_service(name) == before, "a DSN rotation restarts no task (dsnReload: file)"
    new = stack.outputs(show_secrets=True)["sentryKeys"]["backend"]
    assert new["g1"]["active"] is False and new["g2"]["active"] is True
    ids = {keys["g1"]["id"]: "old", new["g2"]["id"]: "new"}
    deadline = time.monotonic() + 60
    while True:
        items = ls.items(project, environment="development", limit=10000)
        lost = traffic.unaccounted(items)
        if not lost or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert traffic.errors and traffic.transactions
    assert lost == [], f"{len(lost)} events lost, e.g. {lost[:5]}"
    assert {ids.get(str(i["key"]), str(i["key"])) for i in items} >= {"old", "new"}

    # a changed service rolls: the worker's tasks are replaced one by one (start-first), `up` waits for it
    stack.run("config", "set", "--path", "sentry-stacks:serviceOverrides.worker.environment.ROLL", "2")
    stack.up()
    after = containers_by_service(name)
    assert len(after["worker"]) == 2 and set(after["worker"]).isdisjoint(before["worker"])
    assert after["backend"] == before["backend"], "only the changed service rolls"
    assert stack_services(name)["worker"]["UpdateStatus"]["State"] == "completed"
    stack.run("preview", "--expect-no-changes")
