"""Readiness after a deploy: every service's containers healthy, or running and staying up.

``docker compose up -d`` and pulumi-docker return once the containers have started. A service without a healthcheck
whose process exits at once is then restarted by its restart policy again and again (or stays exited), and the deploy
looked successful. :func:`wait_stable` watches the containers after the deploy, for at most ``healthTimeout``:

* a container with a healthcheck is ready when healthy; one without when it has been seen running, with no restart,
  for :data:`SETTLE` seconds (a process that fails later than that needs a healthcheck to be caught);
* a container that exited, is restarting, or whose restart count grew since the deploy fails it at once: the error
  names the service and container, its exit code and restarts, and the last lines of its log, with the keys of DSNs
  and the values of the container's secret-looking variables (``*_DSN``, ``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``,
  ``*KEY*``) masked.

The compose driver waits after ``up`` (infra/deploy/compose.py). The docker driver's containers are pulumi-docker
resources, so a :class:`Readiness` resource (``{stack}-ready``, after every container) runs the same wait on them;
it runs again whenever a container is replaced, and remembers the restart counts it saw, so an old restart of a
container that stayed is not a new failure.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra import cli_watch
from infra.deploy.base import DEFAULT_HEALTH_TIMEOUT, ContainerState, DeployError, inspect_containers, mask_dsn_keys
from infra.provider_errors import install as install_provider_errors
from infra.unknown import is_unknown

#: seconds a container without a healthcheck must be seen running with no restart before it counts as up
SETTLE = 5.0
POLL = 1.0
LOG_LINES = 20
_SECRET_NAME = re.compile(r"(?i)(DSN|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|KEY)")


class ReadinessError(DeployError):
    """A container of the deployment exited, restarts, or did not become ready (message safe to print)."""


def container_log(container: str, lines: int = LOG_LINES) -> list[str]:
    """The last `lines` lines of a container's output (stdout and stderr), secrets masked (module docstring)."""
    env = subprocess.run(["docker", "inspect", "--format", "{{json .Config.Env}}", container], capture_output=True,
                         text=True, timeout=60, check=False)  # fmt: skip
    try:
        pairs = [str(item).partition("=") for item in json.loads(env.stdout or "null") or []]
    except ValueError:
        pairs = []
    secrets = sorted({value for key, _, value in pairs if _SECRET_NAME.search(key) and len(value) >= 6},
                     key=len, reverse=True)  # fmt: skip
    try:
        out = subprocess.run(["docker", "logs", "--tail", str(lines), container], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, errors="replace", timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return [f"(no log: {exc})"]
    text = out.stdout
    for secret in secrets:
        text = text.replace(secret, "***")
    return [mask_dsn_keys(line)[:400] for line in text.rstrip().splitlines()[-lines:]]


def last_exit_code(container: ContainerState) -> int:
    """The exit code of the container's last exit: the engine's ``die`` events keep it when the restart policy has
    already started the container again (its state then says 0)."""
    if container.status != "running":
        return container.exit_code
    try:
        events = subprocess.run(["docker", "events", "--since", "1", "--until", str(int(time.time()) + 1), "--filter",
                                 f"container={container.id or container.name}", "--filter", "event=die", "--format",
                                 '{{index .Actor.Attributes "exitCode"}}'], capture_output=True, text=True, timeout=30,
                                check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return container.exit_code
    codes = [line.strip() for line in events.stdout.splitlines() if line.strip().lstrip("-").isdigit()]
    return int(codes[-1]) if codes else container.exit_code


def _crashed(container: ContainerState, baseline: Mapping[str, int]) -> bool:
    grew = container.restarts > baseline.get(container.id, 0)
    return container.status in ("exited", "dead", "restarting") or grew


def crash_report(what: str, crashed: Sequence[ContainerState], baseline: Mapping[str, int]) -> str:
    """The error of containers that exited or restarted: which, how, and the end of their logs."""
    names = sorted({c.service for c in crashed})
    lines = [f"{what}: service {', '.join(names)} does not stay up (a container exited or was restarted after the "
             "deploy; nothing else of its logs is shown here):"]  # fmt: skip
    for c in crashed:
        restarts = c.restarts - baseline.get(c.id, 0)
        how = f"{c.status}, exit code {last_exit_code(c)}" + (f", restarted {restarts} time(s) since the deploy"
                                                              if restarts > 0 else "")  # fmt: skip
        lines.append(f"  {c.service} ({c.name}): {how}; its last log lines:")
        lines += [f"    | {line}" for line in container_log(c.id or c.name)] or ["    (no output)"]
    return "\n".join(lines)


def _up(c: ContainerState, since: Mapping[str, float], now: float) -> bool:
    """Ready: healthy, or without a healthcheck running with no new restart for SETTLE seconds."""
    if c.status != "running" or c.health not in (None, "healthy"):
        return False
    return c.health == "healthy" or now - since.get(c.id or c.name, now) >= SETTLE


def _service_status(mine: Sequence[ContainerState], up: Callable[[ContainerState], bool]) -> str:
    if not mine:
        return "missing"
    if all(up(c) for c in mine):
        return "healthy" if all(c.health == "healthy" for c in mine) else "running"
    bad = next(c for c in mine if not up(c))
    if bad.status != "running":
        return bad.status
    return f"running, {bad.health}" if bad.health else "running, settling"


def wait_stable(
    observe: Callable[[], list[ContainerState]],
    services: Sequence[str],
    timeout: float,
    *,
    what: str,
    error: type[DeployError] = ReadinessError,
    baseline: Mapping[str, int] | None = None,
    hint: str = "",
) -> dict[str, str]:
    """Wait until every service is ready (module docstring); its status per service (``healthy``/``running``).

    `observe` lists the deployment's containers; `baseline` holds each container's restart count before the deploy
    (a container not in it: 0). A crash raises `error` at once; not ready after `timeout` seconds raises it naming
    the services that are not, followed by `hint`."""
    base = dict(baseline or {})
    deadline = time.monotonic() + timeout
    since: dict[str, float] = {}  # container -> when first seen running with no new restart
    while True:
        now = time.monotonic()
        containers = [c for c in observe() if c.service in services]
        crashed = [c for c in containers if _crashed(c, base)]
        if crashed:
            raise error(crash_report(what, crashed, base))
        for c in containers:
            if c.status == "running":
                since.setdefault(c.id or c.name, now)
            else:
                since.pop(c.id or c.name, None)
        up = partial(_up, since=since, now=now)
        status = {svc: _service_status([c for c in containers if c.service == svc], up) for svc in services}
        if all(s in ("healthy", "running") for s in status.values()):
            return status
        if now >= deadline:
            waiting = [c.describe() for c in containers if not up(c)]
            waiting += [f"{svc}: no container" for svc, s in status.items() if s == "missing"]
            raise error(f"{what}: not healthy after {timeout:.0f} s:\n  " + "\n  ".join(waiting) + hint)
        time.sleep(POLL)


# --------------------------------------------------------------------------- the docker driver's gate


def _containers_prop(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) for k in value)


class ReadinessProvider(ResourceProvider):
    """Waits for the containers ``{service: container id}`` after pulumi-docker created or replaced them."""

    def configure(self, req: ConfigureRequest) -> None:
        install_provider_errors((DeployError, OSError))
        cli_watch.watch()  # the dynamic-provider host ends with the CLI

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        containers = news.get("containers")
        if not is_unknown(containers) and not _containers_prop(containers):
            failures.append(CheckFailure("containers", "must map each service to its container id"))
        timeout = news.get("healthTimeout", DEFAULT_HEALTH_TIMEOUT)
        if not is_unknown(timeout) and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                        or timeout <= 0):  # fmt: skip
            failures.append(CheckFailure("healthTimeout", "must be a positive number of seconds"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("containers", "healthTimeout")
        changed = any(is_unknown(news.get(k)) or olds.get(k) != news.get(k) for k in keys)
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def _wait(self, props: dict[str, Any], baseline: Mapping[str, int]) -> dict[str, Any]:
        by_id = {str(cid): str(svc) for svc, cid in dict(props["containers"]).items()}

        def observe() -> list[ContainerState]:
            found = inspect_containers(sorted(by_id), lambda _labels: "")
            if found is None:
                raise ReadinessError(f"a container of {', '.join(sorted(by_id.values()))} is gone: run `pulumi up` "
                                     "again (after `pulumi refresh`)")  # fmt: skip
            return [replace(c, service=by_id.get(c.id, "?")) for c in found]

        timeout = float(props.get("healthTimeout") or DEFAULT_HEALTH_TIMEOUT)
        status = wait_stable(observe, sorted(by_id.values()), timeout, what="driver docker", baseline=baseline,
                             hint="\nlogs: docker logs <container name>")  # fmt: skip
        restarts = {c.id: c.restarts for c in observe()}
        return {**props, "status": status, "restarts": restarts}

    def create(self, props: dict[str, Any]) -> CreateResult:
        ids = sorted(str(v) for v in dict(props["containers"]).values())
        return CreateResult("ready-" + hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16], self._wait(props, {}))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._wait(news, dict(olds.get("restarts") or {})))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # nothing of its own: the containers are pulumi-docker's


class Readiness(Resource, module="docker", name="Readiness"):
    """The docker driver's gate after its containers (``{stack}-ready``): ready, or the deploy fails naming why."""

    status: pulumi.Output[dict[str, str]]

    def __init__(self, resource_name: str, *, containers: pulumi.Input[dict[str, pulumi.Input[str]]],
                 health_timeout: int, opts: pulumi.ResourceOptions | None = None) -> None:  # fmt: skip
        props = {"containers": containers, "healthTimeout": health_timeout, "status": None, "restarts": None}
        super().__init__(ReadinessProvider(), resource_name, props, opts)


__all__ = [
    "LOG_LINES",
    "POLL",
    "SETTLE",
    "Readiness",
    "ReadinessError",
    "ReadinessProvider",
    "container_log",
    "crash_report",
    "wait_stable",
]
