"""SwarmDeployment: the app as a Docker Swarm stack, deployed from the rendered compose file.

* ``create``/``update``: ``docker stack deploy -c <file> --prune --resolve-image never <stack>`` (images are
  the ones the engine holds; a registry is never asked), then wait until every service has converged: its
  update (if any) is complete, exactly ``replicas`` tasks run, each healthy where a healthcheck exists, and no
  task of the previous spec is still running (``healthTimeout``). A rolled-back or paused update, or tasks that
  keep failing, fail the deployment with the task errors. Rolling updates themselves are Swarm's: the compose
  file carries ``deploy.update_config`` (``start-first`` where the service allows it; see infra/render.py).
* The engine must be a swarm manager (``docker info``: ``LocalNodeState`` active, ``ControlAvailable``);
  otherwise a clear error says so before anything is deployed. This module never initialises, joins or
  leaves a swarm.
* ``diff``: redeploys when the file's content hash, path or service list changes, or when the state says a
  service is not converged; a new stack name replaces the deployment.
* ``read`` (refresh): the stack's services and task containers; no service at all means the stack is gone.
* ``delete``: ``docker stack rm``, then waits until its containers and networks are gone.

Secrets: the env mapping is given to the services as environment (inline in the stack file, like compose),
not as Swarm secrets: Swarm secrets are immutable, so a new DSN would be a new secret and a rolling restart
of every task. With ``dsnReload: file`` the DSN is not in the stack file at all; the tasks read it from the
bind-mounted deploy folder (which must exist at the same path on every node that runs them).

Nothing here prints environment values (errors carry task states and healthcheck output, DSN keys masked).
Pickled by reference (keep it importable as ``infra.swarm``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra import provider_errors
from infra.compose import ComposeError, ContainerState, _run, _tail, check_deployment, diff_deployment, is_ready, redact

STACK_LABEL = "com.docker.stack.namespace"
SERVICE_LABEL = "com.docker.swarm.service.name"
STACK_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DEPLOY_TIMEOUT = 1800.0
POLL = 1.0
_FIELDS = ("stack", "file", "fileSha256", "services", "healthTimeout")
_UNFINISHED = ("updating", "rollback_started")
_FAILED = ("paused", "rollback_paused", "rollback_completed")


class SwarmError(ComposeError):
    """A swarm command failed or the stack did not converge (message safe to print)."""


def swarm_state() -> tuple[str, bool]:
    """(``LocalNodeState``, is a manager) of the engine the CLI talks to."""
    proc = _run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"], timeout=60)
    if proc.returncode != 0:
        raise SwarmError(f"`docker info` failed (exit {proc.returncode}): {_tail(proc.stderr)}")
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


def stack_services(stack: str) -> dict[str, ServiceState]:
    ids = _run(["docker", "service", "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}"])
    if ids.returncode != 0:
        raise SwarmError(f"`docker service ls` failed (exit {ids.returncode}): {_tail(ids.stderr)}")
    if not ids.stdout.split():
        return {}
    inspect = _run(["docker", "service", "inspect", *ids.stdout.split()])
    if inspect.returncode != 0:
        if "No such" in inspect.stderr:
            return stack_services(stack)
        raise SwarmError(f"`docker service inspect` failed (exit {inspect.returncode}): {_tail(inspect.stderr)}")
    out: dict[str, ServiceState] = {}
    for item in json.loads(inspect.stdout or "[]"):
        spec = item.get("Spec") or {}
        full = str(spec.get("Name", ""))
        name = full[len(stack) + 1 :] if full.startswith(f"{stack}_") else full
        replicated = (spec.get("Mode") or {}).get("Replicated")
        update = item.get("UpdateStatus") or {}
        out[name] = ServiceState(
            name=name,
            desired=int((replicated or {}).get("Replicas", 1)) if replicated is not None else -1,
            update_state=str(update.get("State") or ""),
            update_message=str(update.get("Message") or ""),
            spec_version=int((item.get("Version") or {}).get("Index") or 0),
        )
    return out


def stack_containers(stack: str) -> list[ContainerState]:
    """The running task containers of the stack (stopped ones are kept by Swarm as history: ignored)."""
    ps = _run(["docker", "ps", "-q", "--no-trunc", "--filter", f"label={STACK_LABEL}={stack}"])
    if ps.returncode != 0:
        raise SwarmError(f"`docker ps` failed (exit {ps.returncode}): {_tail(ps.stderr)}")
    ids = ps.stdout.split()
    if not ids:
        return []
    inspect = _run(["docker", "inspect", *ids])
    if inspect.returncode != 0:
        if "No such" in inspect.stderr:
            return stack_containers(stack)
        raise SwarmError(f"`docker inspect` failed (exit {inspect.returncode}): {_tail(inspect.stderr)}")
    out: list[ContainerState] = []
    for item in json.loads(inspect.stdout or "[]"):
        labels = (item.get("Config") or {}).get("Labels") or {}
        state = item.get("State") or {}
        health = state.get("Health") or None
        log = (health or {}).get("Log") or []
        full = str(labels.get(SERVICE_LABEL, "?"))
        out.append(
            ContainerState(
                service=full[len(stack) + 1 :] if full.startswith(f"{stack}_") else full,
                name=str(item.get("Name", "")).lstrip("/"),
                status=str(state.get("Status", "unknown")),
                health=str(health["Status"]) if health else None,
                exit_code=int(state.get("ExitCode") or 0),
                last_check=str(log[-1].get("Output", "")) if log else "",
            )
        )
    return sorted(out, key=lambda c: (c.service, c.name))


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
            out[name] = f"update {svc.update_state}: {redact(svc.update_message)[:200]}"
        elif svc.desired >= 0 and (len(ready) != svc.desired or len(mine) != svc.desired):
            out[name] = f"{len(ready)}/{svc.desired} tasks ready" + (
                f", {len(mine)} running" if len(mine) != len(ready) else ""
            )
        else:
            out[name] = "healthy" if ready and all(c.health == "healthy" for c in ready) else "running"
    return out


def task_errors(stack: str, limit: int = 12) -> list[str]:
    """The latest task states of the stack with their errors (for a failed deployment's message)."""
    proc = _run(
        ["docker", "stack", "ps", stack, "--no-trunc", "--format", "{{.Name}}: {{.CurrentState}} {{.Error}}"],
        timeout=60,
    )
    lines = [redact(line.strip()) for line in proc.stdout.splitlines() if line.strip()]
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
        failed = [n for n, s in status.items() if s.startswith("update ") and any(f in s for f in _FAILED)]
        if failed or time.monotonic() >= deadline:
            waiting = [f"{n}: {s}" for n, s in status.items() if not is_ready(s)]
            waiting += [c.describe() for c in containers if not c.ready and c.service in services]
            why = "an update failed" if failed else f"not converged after {timeout:.0f} s"
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
    helptext = _run(["docker", "stack", "deploy", "--help"], timeout=60).stdout
    return ["--detach=true"] if "--detach" in helptext else []


def deploy(stack: str, file: str) -> None:
    proc = _run(
        ["docker", "stack", "deploy", *_deploy_flags(), "--prune", "--resolve-image", "never", "-c", file, stack],
        cwd=os.path.dirname(file),
        timeout=DEPLOY_TIMEOUT,
    )
    if proc.returncode != 0:
        raise SwarmError(
            f"`docker stack deploy ... {stack}` failed (exit {proc.returncode}):\n{_tail(proc.stderr or proc.stdout)}"
        )


def remove(stack: str, timeout: float = 120.0) -> None:
    """``docker stack rm``, then wait until the stack's containers and networks are gone."""
    if not stack_services(stack) and not stack_containers(stack) and not _stack_networks(stack):
        return
    proc = _run(["docker", "stack", "rm", stack], timeout=120)
    if proc.returncode != 0 and "Nothing found" not in proc.stderr + proc.stdout:
        raise SwarmError(f"`docker stack rm {stack}` failed (exit {proc.returncode}): {_tail(proc.stderr)}")
    deadline = time.monotonic() + timeout
    while stack_containers(stack) or _stack_networks(stack):
        if time.monotonic() >= deadline:
            left = [c.name for c in stack_containers(stack)] + _stack_networks(stack)
            raise SwarmError(f"swarm stack {stack} still has {', '.join(left)} {timeout:.0f} s after `stack rm`")
        time.sleep(POLL)


def _stack_networks(stack: str) -> list[str]:
    proc = _run(["docker", "network", "ls", "-q", "--filter", f"label={STACK_LABEL}={stack}"])
    return proc.stdout.split()


@dataclass(frozen=True)
class SwarmInputs:
    stack: str
    file: str
    file_sha256: str
    services: tuple[str, ...]
    health_timeout: int

    @staticmethod
    def from_props(props: dict[str, Any]) -> SwarmInputs:
        return SwarmInputs(
            stack=str(props["stack"]),
            file=os.path.abspath(str(props["file"])),
            file_sha256=str(props.get("fileSha256") or ""),
            services=tuple(str(s) for s in props.get("services") or ()),
            health_timeout=int(props.get("healthTimeout") or 180),
        )

    def props(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "file": self.file,
            "fileSha256": self.file_sha256,
            "services": list(self.services),
            "healthTimeout": self.health_timeout,
        }


class SwarmProvider(ResourceProvider):
    def configure(self, req: ConfigureRequest) -> None:
        provider_errors.install((ComposeError, OSError))

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check_deployment(news, "stack", STACK_RE, "a stack name")

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_deployment(olds, news, "stack", _FIELDS)

    def _up(self, inputs: SwarmInputs) -> dict[str, Any]:
        if not os.path.isfile(inputs.file):
            raise SwarmError(f"the compose file {inputs.file} does not exist (it is written by a RenderedFile first)")
        require_manager()
        deploy(inputs.stack, inputs.file)
        status = wait_converged(inputs.stack, inputs.services, float(inputs.health_timeout))
        return {**inputs.props(), "status": status}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = SwarmInputs.from_props(props)
        try:
            outs = self._up(inputs)
        except SwarmError:
            if os.environ.get("SENTRY_STACKS_KEEP_FAILED") != "1":
                try:
                    remove(inputs.stack)
                except ComposeError as cleanup:
                    print(f"swarm: cleanup after the failed create failed too: {cleanup}")
            raise
        return CreateResult(inputs.stack, outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._up(SwarmInputs.from_props(news)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = SwarmInputs.from_props({**props, "stack": props.get("stack") or id_})
        services = stack_services(inputs.stack)
        if not services:
            return ReadResult("", {})  # no service of the stack exists: the deployment is gone
        status = service_status(services, stack_containers(inputs.stack), inputs.services)
        outs = {**inputs.props(), "status": status}
        return ReadResult(id_, outs, inputs.props())

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        remove(str(props.get("stack") or id_))


class SwarmDeployment(Resource, module="swarm", name="Deployment"):
    """The services of one stack on Docker Swarm (type ``pulumi-python:dynamic/swarm:Deployment``)."""

    stack: pulumi.Output[str]
    file: pulumi.Output[str]
    fileSha256: pulumi.Output[str]
    services: pulumi.Output[list[str]]
    healthTimeout: pulumi.Output[int]
    status: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        *,
        stack: pulumi.Input[str],
        file: pulumi.Input[str],
        file_sha256: pulumi.Input[str],
        services: Sequence[str],
        health_timeout: int = 180,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            SwarmProvider(),
            resource_name,
            {
                "stack": stack,
                "file": file,
                "fileSha256": file_sha256,
                "services": list(services),
                "healthTimeout": health_timeout,
                "status": None,
            },
            opts,
        )


__all__ = [
    "ServiceState",
    "SwarmDeployment",
    "SwarmError",
    "SwarmInputs",
    "SwarmProvider",
    "deploy",
    "remove",
    "require_manager",
    "service_status",
    "stack_containers",
    "stack_services",
    "swarm_state",
    "task_errors",
    "wait_converged",
]
