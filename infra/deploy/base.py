"""What the deploy drivers that run the rendered compose file share: one error, the commands' plumbing, the
container states, the inputs, the check, the diff and the provider's life cycle.

:class:`FileDeploymentProvider` is the dynamic provider of a deployment of the rendered ``docker-compose.yml``
(compose: ``docker compose up``; swarm: ``docker stack deploy``). Its inputs (:class:`DeploymentInputs`) are the
deployment's name (the compose project, the swarm stack: ``name_key`` says which property holds it), the file, its
content hash, the services to wait for, the health timeout and the image of each service that does not build its
own (``images``: reference and ID, infra/deploy/image_ids.py). A subclass names that property and brings three
steps: :meth:`~FileDeploymentProvider.apply` (deploy and wait), :meth:`~FileDeploymentProvider.observe` (what runs,
for refresh) and :meth:`~FileDeploymentProvider.remove`.

* ``check``: every bad input is a CheckFailure naming the property, so a preview fails before anything runs;
  unknown values (preview) are accepted.
* ``diff``: a new name replaces the deployment (the old one removed first); a new file, file content, service list,
  timeout or image ID, or a service the last refresh found not ready, updates it; an unknown value is a change.
* ``create``: a failed create removes what it started (``SENTRY_STACKS_KEEP_FAILED=1`` keeps it), so nothing runs
  outside the state.

Nothing here prints environment values: messages carry container states and healthcheck output, DSN keys masked
(:func:`mask_dsn_keys`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

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

from infra import cli_watch
from infra.deploy.image_ids import changed_images, check_images_prop, image_records, rerecorded
from infra.deploy.protocol import Deployed, DeployRequest
from infra.provider_errors import install as install_provider_errors
from infra.unknown import is_unknown

DEFAULT_HEALTH_TIMEOUT = 180
_DSN_SECRET = re.compile(r"(?i)(://)[0-9a-f]{32}(:[0-9a-f]{32})?@")
_KEY_PARAM = re.compile(r"(?i)(sentry_key=)[0-9a-f]{32}")
#: the properties every file deployment compares besides its name
_FIELDS = ("file", "fileSha256", "services", "healthTimeout", "images")


class DeployError(RuntimeError):
    """A deploy command failed or the containers did not become ready (the message is safe to print)."""


def mask_dsn_keys(text: str) -> str:
    """`text` with the keys of DSNs and ``sentry_key=`` parameters masked (command output in an error message)."""
    return _KEY_PARAM.sub(r"\1***", _DSN_SECRET.sub(r"\1***@", text))


def run(args: Sequence[str], *, cwd: str | None = None, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run a command, its output captured; a timeout or a missing program is a DeployError."""
    try:
        return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DeployError(f"`{' '.join(args[:4])} ...` did not finish within {timeout:.0f} s") from exc
    except FileNotFoundError as exc:
        raise DeployError(f"`{args[0]}` is not installed: {exc}") from exc


def tail(text: str, lines: int = 30) -> str:
    """The last lines of a command's output, DSN keys masked."""
    return mask_dsn_keys("\n".join(text.strip().splitlines()[-lines:]))


def failed(what: str, proc: subprocess.CompletedProcess[str], error: type[DeployError] = DeployError) -> DeployError:
    """The error of a command that exited non-zero: what ran, its exit code and the tail of its output."""
    return error(f"`{what}` failed (exit {proc.returncode}):\n{tail(proc.stderr or proc.stdout)}")


@dataclass(frozen=True)
class ContainerState:
    service: str
    name: str
    status: str  # created|running|restarting|exited|paused|dead|removing
    health: str | None  # starting|healthy|unhealthy, None without a healthcheck
    exit_code: int
    last_check: str = ""
    id: str = ""
    restarts: int = 0  # the engine's RestartCount: restarts by the restart policy since the container was created

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
            text += f"; last healthcheck: {mask_dsn_keys(self.last_check.strip())[:300]}"
        return text


def labelled_containers(
    label: str, value: str, service_of: Callable[[dict[str, str]], str], *, stopped: bool = True
) -> list[ContainerState]:
    """The containers carrying ``label=value`` (with `stopped`, in any state; else running ones), from
    ``docker inspect``; `service_of` names a container's service from its labels."""
    ps = run(["docker", "ps", *(["-a"] if stopped else []), "-q", "--no-trunc", "--filter", f"label={label}={value}"])
    if ps.returncode != 0:
        raise failed("docker ps", ps)
    found = inspect_containers(ps.stdout.split(), service_of)
    if found is None:  # a container removed between ps and inspect: ask again
        return labelled_containers(label, value, service_of, stopped=stopped)
    return found


def inspect_containers(ids: Sequence[str], service_of: Callable[[dict[str, str]], str]) -> list[ContainerState] | None:
    """The states of the containers `ids` (``docker inspect``), sorted by service; None when one does not exist."""
    if not ids:
        return []
    inspect = run(["docker", "inspect", *ids])
    if inspect.returncode != 0:
        if "No such" in inspect.stderr:
            return None
        raise failed("docker inspect", inspect)
    out: list[ContainerState] = []
    for item in json.loads(inspect.stdout or "[]"):
        labels = (item.get("Config") or {}).get("Labels") or {}
        state = item.get("State") or {}
        health = state.get("Health") or None
        log = (health or {}).get("Log") or []
        out.append(
            ContainerState(
                service=service_of(labels),
                name=str(item.get("Name", "")).lstrip("/"),
                status=str(state.get("Status", "unknown")),
                health=str(health["Status"]) if health else None,
                exit_code=int(state.get("ExitCode") or 0),
                last_check=str(log[-1].get("Output", "")) if log else "",
                id=str(item.get("Id", "")),
                restarts=int(item.get("RestartCount") or 0),
            )
        )
    return sorted(out, key=lambda c: (c.service, c.name))


def is_ready(status: str) -> bool:
    return status in ("healthy", "running")


@dataclass(frozen=True)
class DeploymentInputs:
    """A file deployment's inputs; `name` is the compose project or the swarm stack."""

    name: str
    file: str
    file_sha256: str
    services: tuple[str, ...]
    health_timeout: int
    images: tuple[tuple[str, str], ...] = ()  # (service, "<ref> <id>"): infra/deploy/image_ids.py

    @staticmethod
    def from_props(props: dict[str, Any], name_key: str) -> DeploymentInputs:
        return DeploymentInputs(
            name=str(props[name_key]),
            file=os.path.abspath(str(props["file"])),
            file_sha256=str(props.get("fileSha256") or ""),
            services=tuple(str(s) for s in props.get("services") or ()),
            health_timeout=int(props.get("healthTimeout") or DEFAULT_HEALTH_TIMEOUT),
            images=tuple(sorted((str(k), str(v)) for k, v in dict(props.get("images") or {}).items())),
        )

    def props(self, name_key: str) -> dict[str, Any]:
        return {
            name_key: self.name,
            "file": self.file,
            "fileSha256": self.file_sha256,
            "services": list(self.services),
            "healthTimeout": self.health_timeout,
            "images": dict(self.images),
        }


def check_deployment(news: dict[str, Any], name_key: str, name_re: re.Pattern[str], what: str) -> CheckResult:
    """The inputs check: a name (`name_key`, matching `name_re`), the rendered compose file, the services to wait
    for and the health timeout."""
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
    timeout = news.get("healthTimeout", DEFAULT_HEALTH_TIMEOUT)
    if not is_unknown(timeout) and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        failures.append(CheckFailure("healthTimeout", "must be a positive number of seconds"))
    images = news.get("images")
    if not is_unknown(images) and (bad := check_images_prop(images)) is not None:
        failures.append(bad)
    inputs = dict(news)
    if isinstance(path, str) and path.strip() and not is_unknown(path):
        inputs["file"] = os.path.abspath(path)
    return CheckResult(inputs, failures)


def diff_deployment(olds: dict[str, Any], news: dict[str, Any], name_key: str) -> DiffResult:
    """A new name replaces (the old one is removed first); a new file, file content, service list, timeout or
    image ID (infra/deploy/image_ids.py), or a service that is not ready any more, updates."""
    if is_unknown(news.get(name_key)):
        return DiffResult(changes=True, replaces=[name_key], delete_before_replace=True)
    if any(is_unknown(news.get(k)) for k in _FIELDS):
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
        or int(olds.get("healthTimeout") or DEFAULT_HEALTH_TIMEOUT)
        != int(news.get("healthTimeout") or DEFAULT_HEALTH_TIMEOUT)
        or bool(changed_images(olds.get("images"), news.get("images")))
    )
    return DiffResult(changes=changed, replaces=[], delete_before_replace=False)


class FileDeploymentProvider(ResourceProvider):
    """The life cycle of a deployment of the rendered compose file; subclasses run it (module docstring)."""

    #: the property that holds the deployment's name (also its id)
    name_key: ClassVar[str]
    name_re: ClassVar[re.Pattern[str]]
    #: what the name is, for the check's message ("a compose project name")
    what: ClassVar[str]
    #: the driver's name in messages
    driver: ClassVar[str]
    error: ClassVar[type[DeployError]] = DeployError

    def configure(self, req: ConfigureRequest) -> None:
        install_provider_errors((DeployError, OSError))
        cli_watch.watch()  # the dynamic-provider host ends with the CLI (a kill -9 of it leaves no host behind)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check_deployment(news, self.name_key, self.name_re, self.what)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_deployment(olds, news, self.name_key)

    def apply(self, inputs: DeploymentInputs) -> dict[str, str]:
        """Deploy the file and wait until every service is ready; the status per service."""
        raise NotImplementedError

    def observe(self, inputs: DeploymentInputs) -> dict[str, str] | None:
        """The status per expected service, or None when nothing of the deployment exists."""
        raise NotImplementedError

    def remove(self, name: str, file: str) -> None:
        """Stop and remove everything of the deployment."""
        raise NotImplementedError

    def _up(self, inputs: DeploymentInputs) -> dict[str, Any]:
        if not os.path.isfile(inputs.file):
            raise self.error(f"the compose file {inputs.file} does not exist (it is written by a RenderedFile first)")
        status = self.apply(inputs)
        return {**inputs.props(self.name_key), "images": rerecorded(dict(inputs.images)), "status": status}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = DeploymentInputs.from_props(props, self.name_key)
        try:
            outs = self._up(inputs)
        except DeployError:
            if os.environ.get("SENTRY_STACKS_KEEP_FAILED") != "1":
                try:
                    self.remove(inputs.name, inputs.file)
                except DeployError as cleanup:
                    print(f"{self.driver}: cleanup after the failed create failed too: {cleanup}")
            raise
        return CreateResult(inputs.name, outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._up(DeploymentInputs.from_props(news, self.name_key)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = DeploymentInputs.from_props({**props, self.name_key: props.get(self.name_key) or id_}, self.name_key)
        status = self.observe(inputs)
        if status is None:
            return ReadResult("", {})  # nothing of the deployment exists: it is gone
        return ReadResult(id_, {**inputs.props(self.name_key), "status": status}, inputs.props(self.name_key))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.remove(str(props.get(self.name_key) or id_), str(props.get("file") or ""))


class FileDeploymentResource(Resource):
    """A deployment of the rendered compose file; each subclass has its own type token (``module``, ``name``) and
    ``provider_class``, and takes the deployment's name as the provider's ``name_key`` property."""

    provider_class: ClassVar[type[FileDeploymentProvider]]
    file: pulumi.Output[str]
    fileSha256: pulumi.Output[str]
    services: pulumi.Output[list[str]]
    healthTimeout: pulumi.Output[int]
    images: pulumi.Output[dict[str, str]]
    status: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        file: pulumi.Input[str],
        file_sha256: pulumi.Input[str],
        services: Sequence[str],
        health_timeout: int = DEFAULT_HEALTH_TIMEOUT,
        images: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {self.provider_class.name_key: name, "file": file, "fileSha256": file_sha256,
                 "services": list(services), "healthTimeout": health_timeout,
                 "images": dict(images or {}), "status": None}  # fmt: skip
        super().__init__(self.provider_class(), resource_name, props, opts)

    @property
    def deployment_name(self) -> pulumi.Output[str]:
        """The compose project or swarm stack (the output named by the provider's ``name_key``)."""
        value: pulumi.Output[str] = getattr(self, self.provider_class.name_key)
        return value


def file_deployment(module: str, provider: type[FileDeploymentProvider]) -> type[FileDeploymentResource]:
    """The Resource class of a file deployment, of type ``pulumi-python:dynamic/<module>:Deployment`` (the URNs of a
    stack's state hold it: never change it)."""

    def body(namespace: dict[str, Any]) -> None:
        namespace.update(provider_class=provider, __module__=provider.__module__,
                         __doc__=f"The services of one stack, deployed by {provider.driver} (type "
                                 f"``pulumi-python:dynamic/{module}:Deployment``).")  # fmt: skip

    kind: type[FileDeploymentResource] = types.new_class(
        f"{module.title()}Deployment", (FileDeploymentResource,), {"module": module, "name": "Deployment"}, body)
    return kind


class FileDriver:
    """A driver whose one resource, ``{stack}-{name}``, deploys the rendered compose file."""

    runs_containers = True
    mounts_env_files = True

    def __init__(self, name: str, resource: type[FileDeploymentResource]) -> None:
        self.name, self.resource = name, resource

    def declare(self, request: DeployRequest) -> Deployed:
        s = request.settings
        deployment = self.resource(
            f"{s.stack}-{self.name}",
            name=s.compose_project,
            file=request.compose_file,
            file_sha256=request.compose_sha256,
            services=[svc.name for svc in s.services],
            health_timeout=s.health_timeout,
            images=image_records([(svc.name, svc.image) for svc in s.services if svc.build is None], request.image_ids),
            opts=pulumi.ResourceOptions(parent=request.parent),
        )
        return Deployed(outputs={"composeProject": deployment.deployment_name, "status": deployment.status},
                        stack_resource=deployment)


__all__ = [
    "DEFAULT_HEALTH_TIMEOUT", "ContainerState", "DeployError", "DeploymentInputs", "FileDeploymentProvider",
    "FileDeploymentResource", "FileDriver", "check_deployment", "diff_deployment", "failed", "file_deployment",
    "inspect_containers", "is_ready", "labelled_containers", "mask_dsn_keys", "run", "tail",
]  # fmt: skip
