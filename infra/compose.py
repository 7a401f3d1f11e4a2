"""ComposeDeployment: the app's containers, run by docker compose from the rendered compose file.

* ``create``/``update``: ``<compose> -p <project> -f <file> up -d --remove-orphans``, then wait until
  every service's containers run and, where a healthcheck exists, are healthy (``healthTimeout``).
  ``<compose>`` is ``docker compose`` when available, else ``docker-compose`` (override with
  ``SENTRY_STACKS_COMPOSE``, e.g. ``docker-compose``). A failed create takes its containers down
  again (``SENTRY_STACKS_KEEP_FAILED=1`` keeps them for debugging), so nothing runs outside the state.
* ``diff``: redeploys when the file's content hash (``fileSha256``), path or service list changes, or
  when the state says a container is gone or unhealthy; a new project name replaces the deployment.
* ``read`` (refresh): inspects the project's containers by the compose project label; no container
  at all means the deployment is gone, a stopped or unhealthy one shows up as drift (fixed by ``up``).
* ``delete``: ``down -v --remove-orphans``; without the file, the project's containers and networks
  are removed by label.
* A DSN rotation redeploys nothing for services with ``dsnReload: file``: their DSN is only in their env
  file (mounted read-only, re-read by the app), so the compose file and its hash stay the same.

Nothing here prints environment values: errors carry container states and healthcheck output only,
with anything that looks like a DSN key masked. Pickled by reference (keep it importable as
``infra.compose``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
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
from infra.unknown import is_unknown

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
UP_TIMEOUT = 1800.0
POLL = 1.0
_FIELDS = ("project", "file", "fileSha256", "services", "healthTimeout")
_DSN_SECRET = re.compile(r"(?i)(://)[0-9a-f]{32}(:[0-9a-f]{32})?@")
_KEY_PARAM = re.compile(r"(?i)(sentry_key=)[0-9a-f]{32}")


class ComposeError(RuntimeError):
    """A compose command failed or the containers did not become healthy (message safe to print)."""


def redact(text: str) -> str:
    """Mask DSN keys in command output before it reaches an error message."""
    return _KEY_PARAM.sub(r"\1***", _DSN_SECRET.sub(r"\1***@", text))


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


def _run(args: Sequence[str], *, cwd: str | None = None, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ComposeError(f"`{' '.join(args[:4])} ...` did not finish within {timeout:.0f} s") from exc
    except FileNotFoundError as exc:
        raise ComposeError(f"`{args[0]}` is not installed: {exc}") from exc


def _tail(text: str, lines: int = 30) -> str:
    return redact("\n".join(text.strip().splitlines()[-lines:]))


@dataclass(frozen=True)
class ContainerState:
    service: str
    name: str
    status: str  # created|running|restarting|exited|paused|dead|removing
    health: str | None  # starting|healthy|unhealthy, None without a healthcheck
    exit_code: int
    last_check: str = ""

    @property
    def ready(self) -> bool:
        return self.status == "running" and self.health in (None, "healthy")

    def describe(self) -> str:
        text = f"{self.service} ({self.name}): {self.status}"
        if self.health:
            text += f", {self.health}"
        if self.status in ("exited", "dead"):
            text += f", exit code {self.exit_code}"
        if self.last_check and not self.ready:
            text += f"; last healthcheck: {redact(self.last_check.strip())[:300]}"
        return text


def project_containers(project: str) -> list[ContainerState]:
    """Every container of a compose project (any state), from ``docker inspect``."""
    ps = _run(["docker", "ps", "-a", "-q", "--no-trunc", "--filter", f"label={PROJECT_LABEL}={project}"])
    if ps.returncode != 0:
        raise ComposeError(f"`docker ps` failed (exit {ps.returncode}): {_tail(ps.stderr)}")
    ids = ps.stdout.split()
    if not ids:
        return []
    inspect = _run(["docker", "inspect", *ids])
    if inspect.returncode != 0:
        # a container removed between ps and inspect: ask again once
        return project_containers(project) if "No such" in inspect.stderr else _inspect_failed(inspect)
    out: list[ContainerState] = []
    for item in json.loads(inspect.stdout or "[]"):
        labels = (item.get("Config") or {}).get("Labels") or {}
        state = item.get("State") or {}
        health = state.get("Health") or None
        log = (health or {}).get("Log") or []
        out.append(
            ContainerState(
                service=str(labels.get(SERVICE_LABEL, "?")),
                name=str(item.get("Name", "")).lstrip("/"),
                status=str(state.get("Status", "unknown")),
                health=str(health["Status"]) if health else None,
                exit_code=int(state.get("ExitCode") or 0),
                last_check=str(log[-1].get("Output", "")) if log else "",
            )
        )
    return sorted(out, key=lambda c: (c.service, c.name))


def _inspect_failed(proc: subprocess.CompletedProcess[str]) -> list[ContainerState]:
    raise ComposeError(f"`docker inspect` failed (exit {proc.returncode}): {_tail(proc.stderr)}")


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


def is_ready(status: str) -> bool:
    return status in ("healthy", "running")


def wait_ready(project: str, services: Sequence[str], timeout: float) -> dict[str, str]:
    """Wait until every service is ready; raise ComposeError naming the services that are not."""
    deadline = time.monotonic() + timeout
    while True:
        containers = project_containers(project)
        status = service_status(containers, services)
        if all(is_ready(s) for s in status.values()):
            return status
        crashed = [c for c in containers if c.status in ("exited", "dead") and c.service in services]
        if crashed or time.monotonic() >= deadline:
            waiting = [c.describe() for c in containers if not c.ready and c.service in services]
            waiting += [f"{svc}: no container" for svc, s in status.items() if s == "missing"]
            why = "a container stopped" if crashed else f"not healthy after {timeout:.0f} s"
            raise ComposeError(
                f"compose project {project}: {why}:\n  "
                + "\n  ".join(waiting)
                + f"\nlogs: docker logs <container name> (or `docker-compose -p {project} logs <service>`)"
            )
        time.sleep(POLL)


@dataclass(frozen=True)
class ComposeInputs:
    project: str
    file: str
    file_sha256: str
    services: tuple[str, ...]
    health_timeout: int

    @staticmethod
    def from_props(props: dict[str, Any]) -> ComposeInputs:
        return ComposeInputs(
            project=str(props["project"]),
            file=os.path.abspath(str(props["file"])),
            file_sha256=str(props.get("fileSha256") or ""),
            services=tuple(str(s) for s in props.get("services") or ()),
            health_timeout=int(props.get("healthTimeout") or 180),
        )

    def props(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "file": self.file,
            "fileSha256": self.file_sha256,
            "services": list(self.services),
            "healthTimeout": self.health_timeout,
        }


def check_deployment(news: dict[str, Any], name_key: str, name_re: re.Pattern[str], what: str) -> CheckResult:
    """The inputs check shared by the compose and swarm deployments: a name (`name_key`, matching `name_re`),
    the rendered compose file, the services to wait for and the health timeout."""
    failures: list[CheckFailure] = []
    name = news.get(name_key)
    if not is_unknown(name) and (not isinstance(name, str) or not name_re.match(name)):
        failures.append(CheckFailure(name_key, f"must be {what}: lowercase letters, digits, - and _"))
    path = news.get("file")
    if not is_unknown(path) and (not isinstance(path, str) or not path.strip()):
        failures.append(CheckFailure("file", "must be the path of the rendered compose file"))
    services = news.get("services")
    if not is_unknown(services) and (
        not isinstance(services, list) or not services or not all(isinstance(s, str) for s in services)
    ):
        failures.append(CheckFailure("services", "must be a non-empty list of service names"))
    timeout = news.get("healthTimeout", 180)
    if not is_unknown(timeout) and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        failures.append(CheckFailure("healthTimeout", "must be a positive number of seconds"))
    inputs = dict(news)
    if isinstance(path, str) and path.strip() and not is_unknown(path):
        inputs["file"] = os.path.abspath(path)
    return CheckResult(inputs, failures)


def diff_deployment(olds: dict[str, Any], news: dict[str, Any], name_key: str, fields: Iterable[str]) -> DiffResult:
    """The diff shared by the compose and swarm deployments: a new name replaces (the old one is removed first);
    a new file, file content, service list or timeout, or a service that is not ready any more, updates."""
    if is_unknown(news.get(name_key)):
        return DiffResult(changes=True, replaces=[name_key], delete_before_replace=True)
    if any(is_unknown(news.get(k)) for k in fields):
        return DiffResult(changes=True)
    if olds.get(name_key) != news.get(name_key):
        return DiffResult(changes=True, replaces=[name_key], delete_before_replace=True)
    services = [str(s) for s in news.get("services") or ()]
    old_status: dict[str, str] = dict(olds.get("status") or {})
    drift = any(not is_ready(old_status.get(s, "missing")) for s in services)
    changed = (
        drift
        or olds.get("file") != os.path.abspath(str(news["file"]))
        or olds.get("fileSha256") != str(news.get("fileSha256") or "")
        or list(olds.get("services") or []) != services
        or int(olds.get("healthTimeout") or 180) != int(news.get("healthTimeout") or 180)
    )
    return DiffResult(changes=changed, replaces=[], delete_before_replace=False)


class ComposeProvider(ResourceProvider):
    def configure(self, req: ConfigureRequest) -> None:
        provider_errors.install((ComposeError, OSError))

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check_deployment(news, "project", PROJECT_RE, "a compose project name")

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_deployment(olds, news, "project", _FIELDS)

    def _up(self, inputs: ComposeInputs) -> dict[str, Any]:
        if not os.path.isfile(inputs.file):
            raise ComposeError(f"the compose file {inputs.file} does not exist (it is written by a RenderedFile first)")
        cmd = compose_command()
        proc = _run(
            [*cmd, "-p", inputs.project, "-f", inputs.file, "up", "-d", "--remove-orphans"],
            cwd=os.path.dirname(inputs.file),
            timeout=UP_TIMEOUT,
        )
        if proc.returncode != 0:
            raise ComposeError(
                f"`{' '.join(cmd)} -p {inputs.project} up -d` failed (exit {proc.returncode}):\n{_tail(proc.stderr)}"
            )
        status = wait_ready(inputs.project, inputs.services, float(inputs.health_timeout))
        return {**inputs.props(), "status": status}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = ComposeInputs.from_props(props)
        try:
            outs = self._up(inputs)
        except ComposeError:
            if os.environ.get("SENTRY_STACKS_KEEP_FAILED") != "1":
                try:
                    down(inputs.project, inputs.file)
                except ComposeError as cleanup:
                    print(f"compose: cleanup after the failed create failed too: {cleanup}")
            raise
        return CreateResult(inputs.project, outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._up(ComposeInputs.from_props(news)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = ComposeInputs.from_props({**props, "project": props.get("project") or id_})
        containers = project_containers(inputs.project)
        if not containers:
            return ReadResult("", {})  # nothing of the project runs: the deployment is gone
        outs = {**inputs.props(), "status": service_status(containers, inputs.services)}
        return ReadResult(id_, outs, inputs.props())

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        down(str(props.get("project") or id_), str(props.get("file") or ""))


def down(project: str, file: str) -> None:
    """Stop and remove the project's containers, networks and volumes."""
    if file and os.path.isfile(file):
        cmd = compose_command()
        proc = _run([*cmd, "-p", project, "-f", file, "down", "-v", "--remove-orphans"], cwd=os.path.dirname(file))
        if proc.returncode != 0:
            raise ComposeError(
                f"`{' '.join(cmd)} -p {project} down` failed (exit {proc.returncode}):\n{_tail(proc.stderr)}"
            )
        return
    # The file is gone (removed by hand): remove what carries the project's label.
    ids = _run(["docker", "ps", "-a", "-q", "--filter", f"label={PROJECT_LABEL}={project}"]).stdout.split()
    if ids:
        proc = _run(["docker", "rm", "-f", "-v", *ids])
        if proc.returncode != 0:
            raise ComposeError(f"`docker rm` failed (exit {proc.returncode}): {_tail(proc.stderr)}")
    nets = _run(["docker", "network", "ls", "-q", "--filter", f"label={PROJECT_LABEL}={project}"]).stdout.split()
    if nets:
        _run(["docker", "network", "rm", *nets])


class ComposeDeployment(Resource, module="compose", name="Deployment"):
    """The containers of one stack, run by docker compose (type ``pulumi-python:dynamic/compose:Deployment``)."""

    project: pulumi.Output[str]
    file: pulumi.Output[str]
    fileSha256: pulumi.Output[str]
    services: pulumi.Output[list[str]]
    healthTimeout: pulumi.Output[int]
    status: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        *,
        project: pulumi.Input[str],
        file: pulumi.Input[str],
        file_sha256: pulumi.Input[str],
        services: Sequence[str],
        health_timeout: int = 180,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ComposeProvider(),
            resource_name,
            {
                "project": project,
                "file": file,
                "fileSha256": file_sha256,
                "services": list(services),
                "healthTimeout": health_timeout,
                "status": None,
            },
            opts,
        )


__all__ = [
    "ComposeDeployment",
    "ComposeError",
    "ComposeInputs",
    "ComposeProvider",
    "ContainerState",
    "compose_command",
    "down",
    "project_containers",
    "redact",
    "service_status",
    "wait_ready",
]
