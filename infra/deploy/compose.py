"""``driver: compose``: the app's containers, run by docker compose from the rendered compose file.

* ``create``/``update``: ``<compose> -p <project> -f <file> up -d --remove-orphans``, then wait (``healthTimeout``)
  until every service's containers are healthy where a healthcheck exists, else running with no restart for a few
  seconds; a container that exits or is restarted by its restart policy fails the deploy at once, with its exit
  code, restarts and last log lines (infra/deploy/readiness.py). ``<compose>`` is ``docker compose`` when
  available, else ``docker-compose`` (override with ``SENTRY_STACKS_COMPOSE``, e.g. ``docker-compose``).
* An image rebuilt under the same tag is a new ID in the deployment's ``images`` (infra/deploy/image_ids.py), so the
  deployment updates and ``up -d`` recreates exactly the containers whose image ID changed (compose compares it
  itself: v1 in its config hash, v2 in its ``com.docker.compose.image`` label); no ``--force-recreate`` is needed.
* ``read`` (refresh): the project's containers by the compose project label; no container at all means the
  deployment is gone, a stopped or unhealthy one shows up as drift (fixed by ``up``).
* ``delete``: ``down -v --remove-orphans``; without the file, the project's containers and networks are removed
  by label.
* A DSN rotation redeploys nothing for services with ``dsnReload: file``: their DSN is only in their env file
  (mounted read-only, re-read by the app), so the compose file and its hash stay the same.

Check, diff and the failed-create cleanup are the file deployments' (infra/deploy/base.py). The provider is
pickled by reference into the state; stacks created before infra/deploy/ existed name ``infra.compose``, which
stays importable (an alias of this module's classes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from infra.deploy.base import (
    ContainerState,
    DeployError,
    DeploymentInputs,
    FileDeploymentProvider,
    FileDriver,
    failed,
    file_deployment,
    labelled_containers,
    run,
)
from infra.deploy.readiness import wait_stable

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
UP_TIMEOUT = 1800.0


class ComposeError(DeployError):
    """A compose command failed or the containers did not become healthy (message safe to print)."""


def compose_command() -> list[str]:
    """``docker compose`` (v2) if it answers, else ``docker-compose``; ``SENTRY_STACKS_COMPOSE`` overrides."""
    override = os.environ.get("SENTRY_STACKS_COMPOSE", "").strip()
    if override:
        return override.split()
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise ComposeError(
        "neither `docker compose` nor `docker-compose` is installed: install Docker Compose"
        " (Debian: apt-get install docker-compose; or the docker-compose-plugin), or use driver: docker"
    )


def project_containers(project: str) -> list[ContainerState]:
    """Every container of a compose project (any state)."""
    return labelled_containers(PROJECT_LABEL, project, lambda labels: str(labels.get(SERVICE_LABEL, "?")))


def service_status(containers: Sequence[ContainerState], services: Sequence[str]) -> dict[str, str]:
    """Per expected service: ``healthy``/``running`` when ready, else what is wrong (``missing``...)."""
    out: dict[str, str] = {}
    for svc in services:
        mine = [c for c in containers if c.service == svc]
        if not mine:
            out[svc] = "missing"
        elif all(c.ready for c in mine):
            out[svc] = "healthy" if all(c.health == "healthy" for c in mine) else "running"
        else:
            bad = next(c for c in mine if not c.ready)
            out[svc] = bad.status if bad.status != "running" else f"running, {bad.health}"
    return out


def wait_ready(
    project: str, services: Sequence[str], timeout: float, baseline: Mapping[str, int] | None = None
) -> dict[str, str]:
    """Wait until every service is ready (infra/deploy/readiness.py); raise ComposeError naming a service that exits
    or restarts, or those not ready after `timeout`. `baseline`: each container's restart count before the deploy."""
    return wait_stable(lambda: project_containers(project), services, timeout, what=f"compose project {project}",
                       error=ComposeError, baseline=baseline,
                       hint=f"\nlogs: docker logs <container name> (or `docker-compose -p {project} logs <service>`)")


def down(project: str, file: str) -> None:
    """Stop and remove the project's containers, networks and volumes."""
    if file and os.path.isfile(file):
        cmd = compose_command()
        proc = run([*cmd, "-p", project, "-f", file, "down", "-v", "--remove-orphans"], cwd=os.path.dirname(file))
        if proc.returncode != 0:
            raise failed(f"{' '.join(cmd)} -p {project} down", proc, ComposeError)
        return
    # The file is gone (removed by hand): remove what carries the project's label.
    ids = run(["docker", "ps", "-a", "-q", "--filter", f"label={PROJECT_LABEL}={project}"]).stdout.split()
    if ids:
        proc = run(["docker", "rm", "-f", "-v", *ids])
        if proc.returncode != 0:
            raise failed("docker rm", proc, ComposeError)
    nets = run(["docker", "network", "ls", "-q", "--filter", f"label={PROJECT_LABEL}={project}"]).stdout.split()
    if nets:
        run(["docker", "network", "rm", *nets])


class ComposeProvider(FileDeploymentProvider):
    name_key = "project"
    name_re = PROJECT_RE
    what = "a compose project name"
    driver = "compose"
    error = ComposeError

    def apply(self, inputs: DeploymentInputs) -> dict[str, str]:
        cmd = compose_command()
        before = {c.id: c.restarts for c in project_containers(inputs.name)}  # a restart after `up` is a crash
        proc = run([*cmd, "-p", inputs.name, "-f", inputs.file, "up", "-d", "--remove-orphans"],
                   cwd=os.path.dirname(inputs.file), timeout=UP_TIMEOUT)  # fmt: skip
        if proc.returncode != 0:
            raise failed(f"{' '.join(cmd)} -p {inputs.name} up -d", proc, ComposeError)
        return wait_ready(inputs.name, inputs.services, float(inputs.health_timeout), before)

    def observe(self, inputs: DeploymentInputs) -> dict[str, str] | None:
        containers = project_containers(inputs.name)
        return service_status(containers, inputs.services) if containers else None

    def remove(self, name: str, file: str) -> None:
        down(name, file)


#: the containers of one stack, run by docker compose (its ``project`` output is the compose project)
ComposeDeployment = file_deployment("compose", ComposeProvider)
#: ``docker compose`` on one host (resource ``{stack}-compose``)
DRIVER = FileDriver("compose", ComposeDeployment)

__all__ = [
    "DRIVER",
    "ComposeDeployment",
    "ComposeError",
    "ComposeProvider",
    "compose_command",
    "down",
    "project_containers",
    "service_status",
    "wait_ready",
]
