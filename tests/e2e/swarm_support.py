"""A single-node Docker Swarm for the e2e tier and the benchmarks, and the reference app as a swarm stack.

`single_node_swarm()` uses the engine's swarm when this engine already is a manager (it changes nothing of
it: our stacks have unique names and are removed by the tests), and otherwise runs
`docker swarm init --advertise-addr 127.0.0.1` and leaves that swarm afterwards (`docker swarm leave --force`),
unless another stack was deployed into it meanwhile. A swarm it did not create is never left or changed;
a node that is a worker or in an error state is a skip (a failure with CI=true).

Why dnsrr and host: this machine's kernel has no IPVS, which Swarm's virtual IPs (`endpoint_mode: vip`) and
its ingress routing mesh (`mode: ingress` ports) need; both time out here. DNS round robin between tasks and
ports published on the node itself work, so the tests set `swarmEndpointMode: dnsrr` and
`swarmPublishMode: host`; the defaults (vip, ingress) are what a real cluster uses.

Containers on the stack's overlay network reach the host through the `docker_gwbridge` gateway, so
`sentry_for_swarm()` starts localsentry on that address (not on every interface) and DSNs carry it.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.docker_support import docker, missing
from tests.e2e.stack_support import AppStack, free_port
from tests.support.localsentry import LocalSentry

STACK_LABEL = "com.docker.stack.namespace"
SERVICE_LABEL = "com.docker.swarm.service.name"
#: what works on a kernel without IPVS (see the module docstring)
TEST_SWARM_CONFIG = {
    "sentry-stacks:driver": "swarm",
    "sentry-stacks:networkMode": "bridge",
    "sentry-stacks:swarmEndpointMode": "dnsrr",
    "sentry-stacks:swarmPublishMode": "host",
}


def node_state() -> tuple[str, bool]:
    out = docker("info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}", timeout=60).stdout
    state, _, control = out.strip().partition(" ")
    return state, control.strip() == "true"


@dataclass
class Swarm:
    created: bool
    gateway: str


def _gateway() -> str:
    deadline = time.monotonic() + 30
    while True:
        out = docker("network", "inspect", "docker_gwbridge", "--format",
                     "{{range .IPAM.Config}}{{.Gateway}} {{end}}", check=False, timeout=30)  # fmt: skip
        gateways = [g for g in out.stdout.split() if "." in g]
        if gateways:
            return gateways[0]
        if time.monotonic() > deadline:
            raise RuntimeError(f"docker_gwbridge has no IPv4 gateway: {out.stdout.strip()} {out.stderr.strip()}")
        time.sleep(1)


@contextlib.contextmanager
def single_node_swarm() -> Iterator[Swarm]:
    state, manager = node_state()
    created = False
    # `swarm init` creates the docker_gwbridge network and `swarm leave` keeps it: remove it again if it was not there
    had_gwbridge = docker("network", "inspect", "docker_gwbridge", check=False, timeout=30).returncode == 0
    if state == "inactive":
        init = docker("swarm", "init", "--advertise-addr", "127.0.0.1", check=False, timeout=120)
        if init.returncode != 0:
            missing(f"`docker swarm init --advertise-addr 127.0.0.1` failed: {init.stderr.strip()[:300]}")
        created = True
    elif state != "active" or not manager:
        missing(f"this Docker engine's swarm state is {state!r} (manager: {manager}); the swarm tests need an"
                " inactive engine (they create a single-node swarm) or a manager node")  # fmt: skip
    try:
        yield Swarm(created=created, gateway=_gateway())
    finally:
        if created:
            stacks = docker("stack", "ls", "--format", "{{.Name}}", check=False, timeout=60).stdout.split()
            if stacks:
                print(f"not leaving the swarm this run created: stacks {', '.join(stacks)} still run in it")
            else:
                docker("swarm", "leave", "--force", check=False, timeout=120)
                if not had_gwbridge:
                    docker("network", "rm", "docker_gwbridge", check=False, timeout=60)


def sentry_for_swarm(tmp: Path, swarm: Swarm) -> LocalSentry:
    """localsentry on the docker_gwbridge gateway: reachable from the host and from the stack's tasks."""
    port = free_port()
    url = f"http://{swarm.gateway}:{port}"
    return LocalSentry.start(tmp, port=port, extra_args=["--host", swarm.gateway, "--url", url])


def make_swarm_stack(stack: AppStack, **extra: str) -> AppStack:
    """Turn a fresh AppStack into a swarm stack with the settings that work here (TEST_SWARM_CONFIG)."""
    for key, value in {**TEST_SWARM_CONFIG, **extra}.items():
        if key.startswith("path:"):
            stack.run("config", "set", "--path", key[5:], value)
        else:
            stack.config_set(key, value)
    return stack


def stack_containers(stack: str) -> list[dict[str, Any]]:
    ids = docker("ps", "-q", "--filter", f"label={STACK_LABEL}={stack}").stdout.split()
    if not ids:
        return []
    return list(json.loads(docker("inspect", *ids).stdout))


def stack_services(stack: str) -> dict[str, dict[str, Any]]:
    ids = docker("service", "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}").stdout.split()
    if not ids:
        return {}
    items = json.loads(docker("service", "inspect", *ids).stdout)
    return {str(i["Spec"]["Name"]).removeprefix(f"{stack}_"): i for i in items}


def stack_networks(stack: str) -> list[str]:
    return docker("network", "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}").stdout.split()


def containers_by_service(stack: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in stack_containers(stack):
        name = str(c["Config"]["Labels"].get(SERVICE_LABEL, "?")).removeprefix(f"{stack}_")
        out.setdefault(name, []).append(str(c["Id"]))
    return {k: sorted(v) for k, v in sorted(out.items())}


def remove_stack(stack: str) -> None:
    """Last-resort cleanup when a test failed before `pulumi destroy` (never touches another stack)."""
    if stack_services(stack):
        subprocess.run(["docker", "stack", "rm", stack], capture_output=True, text=True, timeout=120)
    deadline = time.monotonic() + 90
    while (stack_containers(stack) or stack_networks(stack)) and time.monotonic() < deadline:
        time.sleep(1)


__all__ = [
    "TEST_SWARM_CONFIG",
    "Swarm",
    "containers_by_service",
    "make_swarm_stack",
    "node_state",
    "remove_stack",
    "sentry_for_swarm",
    "single_node_swarm",
    "stack_containers",
    "stack_networks",
    "stack_services",
]
