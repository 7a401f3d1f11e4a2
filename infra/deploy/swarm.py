"""``driver: swarm``: the app as a Docker Swarm stack, deployed from the rendered compose file.

* ``create``/``update``: ``docker stack deploy -c <file> --prune --resolve-image never <stack>`` (images are the
  ones the engine holds; a registry is never asked), then wait until every service has converged: its update (if
  any) is complete, exactly ``replicas`` tasks run, each healthy where a healthcheck exists, and no task of the
  previous spec is still running (``healthTimeout``). A rolled-back or paused update, or tasks that keep failing,
  fail the deployment with the task errors. Rolling updates themselves are Swarm's: the compose file carries
  ``deploy.update_config`` (``start-first`` where the service allows it; see infra/render.py).
* An image rebuilt under the same tag (a new ID in the deployment's ``images``: infra/deploy/image_ids.py) leaves the
  stack file as it was, and ``stack deploy`` (with ``--resolve-image never``, the spec names the tag, not an ID)
  updates nothing. So before the deploy, the services whose running tasks run another image than the one recorded
  are noted, and each of them whose spec the deploy did not change gets ``docker service update --force
  --no-resolve-image``: a rolling update to the image the tag now names, on this host.
* The engine must be a swarm manager (``docker info``: ``LocalNodeState`` active, ``ControlAvailable``); otherwise
  a clear error says so before anything is deployed. This module never initialises, joins or leaves a swarm.
* ``read`` (refresh): the stack's services and task containers; no service at all means the stack is gone.
* ``delete``: ``docker stack rm``, then waits until its containers and networks are gone.

Secrets: the env mapping is given to the services as environment (inline in the stack file, like compose), not as
Swarm secrets: Swarm secrets are immutable, so a new DSN would be a new secret and a rolling restart of every task.
With ``dsnReload: file`` the DSN is not in the stack file at all; the tasks read it from the bind-mounted deploy
folder (which must exist at the same path on every node that runs them).

Check, diff and the failed-create cleanup are the file deployments' (infra/deploy/base.py). Stacks created before
infra/deploy/ existed name ``infra.swarm`` in their state, which stays importable (an alias).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from infra.deploy.base import (
    ContainerState,
    DeployError,
    DeploymentInputs,
    FileDeploymentProvider,
    FileDriver,
    failed,
    file_deployment,
    is_ready,
    labelled_containers,
    mask_dsn_keys,
    run,
)
from infra.deploy.image_ids import split_record

STACK_LABEL = "com.docker.stack.namespace"
SERVICE_LABEL = "com.docker.swarm.service.name"
STACK_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DEPLOY_TIMEOUT = 1800.0
POLL = 1.0
_UNFINISHED = ("updating", "rollback_started")
_FAILED = ("paused", "rollback_paused", "rollback_completed")


class SwarmError(DeployError):
    """A swarm command failed or the stack did not converge (message safe to print)."""


def swarm_state() -> tuple[str, bool]:
    """(``LocalNodeState``, is a manager) of the engine the CLI talks to."""
    proc = run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"], timeout=60)
    if proc.returncode != 0:
        raise failed("docker info", proc, SwarmError)
    state, _, control = proc.stdout.strip().partition(" ")
    return state or "unknown", control.strip() == "true"


def require_manager() -> None:
    state, manager = swarm_state()
    if state != "active" or not manager:
        raise SwarmError(
            f"driver swarm needs a swarm manager, but this Docker engine's swarm state is {state!r}"
            f"{'' if manager else ' (not a manager)'}: run `docker swarm init` (one node) or `docker swarm join`,"
            " or point DOCKER_HOST at a manager node"
        )


@dataclass(frozen=True)
class ServiceState:
    """One swarm service of the stack (``<stack>_<name>``)."""

    name: str  # the stack's service name (without the stack prefix)
    desired: int
    update_state: str  # "" without an update, else updating|completed|paused|rollback_*
    update_message: str
    spec_version: int
    template: str = ""  # the task template (what a task runs) as canonical JSON: unchanged by a no-op deploy


def _unprefixed(stack: str, full: str) -> str:
    return full[len(stack) + 1 :] if full.startswith(f"{stack}_") else full


def stack_services(stack: str) -> dict[str, ServiceState]:
    ids = run(["docker", "service", "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}"])
    if ids.returncode != 0:
        raise failed("docker service ls", ids, SwarmError)
    if not ids.stdout.split():
        return {}
    inspect = run(["docker", "service", "inspect", *ids.stdout.split()])
    if inspect.returncode != 0:
        if "No such" in inspect.stderr:
            return stack_services(stack)
        raise failed("docker service inspect", inspect, SwarmError)
    out: dict[str, ServiceState] = {}
    for item in json.loads(inspect.stdout or "[]"):
        spec = item.get("Spec") or {}
        name = _unprefixed(stack, str(spec.get("Name", "")))
        replicated = (spec.get("Mode") or {}).get("Replicated")
        update = item.get("UpdateStatus") or {}
        out[name] = ServiceState(
            name=name,
            desired=int((replicated or {}).get("Replicas", 1)) if replicated is not None else -1,
            update_state=str(update.get("State") or ""),
            update_message=str(update.get("Message") or ""),
            spec_version=int((item.get("Version") or {}).get("Index") or 0),
            template=json.dumps(spec.get("TaskTemplate") or {}, sort_keys=True),
        )
    return out


def stack_containers(stack: str) -> list[ContainerState]:
    """The running task containers of the stack (stopped ones are kept by Swarm as history: ignored)."""

    def service_of(labels: dict[str, str]) -> str:
        return _unprefixed(stack, str(labels.get(SERVICE_LABEL, "?")))

    return labelled_containers(STACK_LABEL, stack, service_of, stopped=False)


def service_status(
    services: dict[str, ServiceState], containers: Sequence[ContainerState], wanted: Sequence[str]
) -> dict[str, str]:
    """Per expected service: ``healthy``/``running`` when converged, else what is wrong."""
    out: dict[str, str] = {}
    for name in wanted:
        svc = services.get(name)
        mine = [c for c in containers if c.service == name]
        ready = [c for c in mine if c.ready]
        if svc is None:
            out[name] = "missing"
        elif svc.update_state in _UNFINISHED:
            out[name] = f"update {svc.update_state}"
        elif svc.update_state in _FAILED:
            out[name] = f"update {svc.update_state}: {mask_dsn_keys(svc.update_message)[:200]}"
        elif svc.desired >= 0 and (len(ready) != svc.desired or len(mine) != svc.desired):
            out[name] = f"{len(ready)}/{svc.desired} tasks ready" + (
                f", {len(mine)} running" if len(mine) != len(ready) else ""
            )
        else:
            out[name] = "healthy" if ready and all(c.health == "healthy" for c in ready) else "running"
    return out


def task_errors(stack: str, limit: int = 12) -> list[str]:
    """The latest task states of the stack with their errors (for a failed deployment's message)."""
    proc = run(
        ["docker", "stack", "ps", stack, "--no-trunc", "--format", "{{.Name}}: {{.CurrentState}} {{.Error}}"],
        timeout=60,
    )
    lines = [mask_dsn_keys(line.strip()) for line in proc.stdout.splitlines() if line.strip()]
    return lines[:limit]


def wait_converged(stack: str, services: Sequence[str], timeout: float) -> dict[str, str]:
    """Wait until every service has converged; raise SwarmError naming those that have not."""
    deadline = time.monotonic() + timeout
    while True:
        found = stack_services(stack)
        containers = stack_containers(stack)
        status = service_status(found, containers, services)
        if all(is_ready(s) for s in status.values()):
            return status
        failures = [n for n, s in status.items() if s.startswith("update ") and any(f in s for f in _FAILED)]
        if failures or time.monotonic() >= deadline:
            waiting = [f"{n}: {s}" for n, s in status.items() if not is_ready(s)]
            waiting += [c.describe() for c in containers if not c.ready and c.service in services]
            why = "an update failed" if failures else f"not converged after {timeout:.0f} s"
            raise SwarmError(
                f"swarm stack {stack}: {why}:\n  "
                + "\n  ".join(waiting)
                + "\ntasks:\n  "
                + "\n  ".join(task_errors(stack))
                + f"\nlogs: docker service logs {stack}_<service>"
            )
        time.sleep(POLL)


def _deploy_flags() -> list[str]:
    """``--detach=true`` where the CLI knows it (Docker 26+ asks otherwise); our own wait follows."""
    helptext = run(["docker", "stack", "deploy", "--help"], timeout=60).stdout
    return ["--detach=true"] if "--detach" in helptext else []


def deploy(stack: str, file: str) -> None:
    proc = run(
        ["docker", "stack", "deploy", *_deploy_flags(), "--prune", "--resolve-image", "never", "-c", file, stack],
        cwd=os.path.dirname(file),
        timeout=DEPLOY_TIMEOUT,
    )
    if proc.returncode != 0:
        raise failed(f"docker stack deploy ... {stack}", proc, SwarmError)


def stale_services(running: Mapping[str, set[str]], images: Mapping[str, str]) -> list[str]:
    """The services whose running tasks (`running`: service -> the image IDs of its task containers) run another
    image than the ID recorded for them (`images`: service -> ``"<ref> <id>"``); none running, or no ID: not stale."""
    out = []
    for service, record in sorted(images.items()):
        image_id = split_record(record)[1]
        if image_id is not None and running.get(service) and running[service] != {image_id}:
            out.append(service)
    return out


def running_images(stack: str) -> dict[str, set[str]]:
    """Service -> the image IDs its running task containers were created from."""
    ps = run(["docker", "ps", "-q", "--no-trunc", "--filter", f"label={STACK_LABEL}={stack}"])
    if ps.returncode != 0 or not ps.stdout.split():
        return {}
    fmt = f'{{{{index .Config.Labels "{SERVICE_LABEL}"}}}} {{{{.Image}}}}'
    inspect = run(["docker", "inspect", "--format", fmt, *ps.stdout.split()])
    out: dict[str, set[str]] = {}
    for line in inspect.stdout.splitlines():  # a container gone since `ps` is left out
        name, _, image = line.strip().partition(" ")
        if name and image:
            out.setdefault(_unprefixed(stack, name), set()).add(image)
    return out


def force_update(stack: str, service: str) -> None:
    """A rolling update of the service to the image its tag names now on this host (same spec)."""
    proc = run(["docker", "service", "update", "--detach", "--force", "--no-resolve-image", f"{stack}_{service}"],
               timeout=DEPLOY_TIMEOUT)  # fmt: skip
    if proc.returncode != 0:
        raise failed(f"docker service update --force {stack}_{service}", proc, SwarmError)


def remove(stack: str, timeout: float = 120.0) -> None:
    """``docker stack rm``, then wait until the stack's containers and networks are gone."""
    if not stack_services(stack) and not stack_containers(stack) and not _stack_networks(stack):
        return
    proc = run(["docker", "stack", "rm", stack], timeout=120)
    if proc.returncode != 0 and "Nothing found" not in proc.stderr + proc.stdout:
        raise failed(f"docker stack rm {stack}", proc, SwarmError)
    deadline = time.monotonic() + timeout
    while stack_containers(stack) or _stack_networks(stack):
        if time.monotonic() >= deadline:
            left = [c.name for c in stack_containers(stack)] + _stack_networks(stack)
            raise SwarmError(f"swarm stack {stack} still has {', '.join(left)} {timeout:.0f} s after `stack rm`")
        time.sleep(POLL)


def _stack_networks(stack: str) -> list[str]:
    proc = run(["docker", "network", "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}"])
    return proc.stdout.split()


class SwarmProvider(FileDeploymentProvider):
    name_key = "stack"
    name_re = STACK_RE
    what = "a stack name"
    driver = "swarm"
    error = SwarmError

    def apply(self, inputs: DeploymentInputs) -> dict[str, str]:
        require_manager()
        before = stack_services(inputs.name)
        stale = stale_services(running_images(inputs.name), dict(inputs.images))  # rebuilt under the same tag
        deploy(inputs.name, inputs.file)
        after = stack_services(inputs.name)
        forced = [s for s in stale if s in before and s in after and after[s].template == before[s].template]
        for service in forced:
            force_update(inputs.name, service)
        wanted = {s: record for s, record in inputs.images if s in forced}
        deadline = time.monotonic() + float(inputs.health_timeout)
        while wanted and stale_services(running_images(inputs.name), wanted):
            if time.monotonic() >= deadline:  # the forced update has not started a task of the new image
                raise SwarmError(f"swarm stack {inputs.name}: {', '.join(forced)} still run(s) the previous image "
                                 f"{inputs.health_timeout} s after `docker service update --force`")  # fmt: skip
            time.sleep(POLL)
        return wait_converged(inputs.name, inputs.services, float(inputs.health_timeout))

    def observe(self, inputs: DeploymentInputs) -> dict[str, str] | None:
        services = stack_services(inputs.name)
        return service_status(services, stack_containers(inputs.name), inputs.services) if services else None

    def remove(self, name: str, file: str) -> None:
        remove(name)


#: the services of one stack on Docker Swarm (its ``stack`` output is the swarm stack)
SwarmDeployment = file_deployment("swarm", SwarmProvider)
#: ``docker stack deploy`` on a swarm manager (resource ``{stack}-swarm``)
DRIVER = FileDriver("swarm", SwarmDeployment)

__all__ = [
    "DRIVER",
    "ServiceState",
    "SwarmDeployment",
    "SwarmError",
    "SwarmProvider",
    "deploy",
    "force_update",
    "remove",
    "require_manager",
    "running_images",
    "service_status",
    "stack_containers",
    "stack_services",
    "stale_services",
    "swarm_state",
    "task_errors",
    "wait_converged",
]
