"""The one small protocol every deploy driver implements (infra/deploy/<name>.py, its ``DRIVER``).

A driver is told what to run (:class:`DeployRequest`: the stack's settings, each service's env mapping, the rendered
compose file and its hash, the project root, the component to parent its resources under) and declares the Pulumi
resources that run it, answering :class:`Deployed`. Two flags tell the program what else the driver implies:

* ``runs_containers``: it starts the services' images on this machine's engine, so the preview checks that every
  image can be had (infra/images.py) and the stack records a Sentry deploy once they are healthy;
* ``mounts_env_files``: the containers mount the deploy folder (``dsnReload: file``), so an env file read there
  belongs to the service's ``user``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pulumi

from infra.settings import StackSettings


@dataclass(frozen=True)
class DeployRequest:
    settings: StackSettings
    #: service -> its env mapping (a secret Output): what each container gets
    envs: pulumi.Output[dict[str, dict[str, str]]]
    #: the rendered docker-compose.yml (from its RenderedFile) and its content hash
    compose_file: pulumi.Input[str]
    compose_sha256: pulumi.Input[str]
    #: the project root: relative build contexts are relative to it
    root: Path
    #: the component the driver's resources are children of
    parent: pulumi.Resource
    #: image reference -> its ID on this machine's Docker host, for the images there (infra/images.py): a rebuild
    #: under the same tag is a new ID, which redeploys the services that run it (infra/deploy/image_ids.py)
    image_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Deployed:
    """What a driver declared."""

    #: registered as the component's outputs
    outputs: dict[str, Any] = field(default_factory=dict)
    #: more stack outputs (``pulumi stack output``) the driver gives its user
    exports: dict[str, Any] = field(default_factory=dict)
    #: the one resource that runs the whole stack (compose, swarm), if the driver has one
    stack_resource: pulumi.CustomResource | None = None
    #: per service: its container resource (docker), and the image it builds
    containers: dict[str, pulumi.CustomResource] = field(default_factory=dict)
    images: dict[str, pulumi.CustomResource] = field(default_factory=dict)
    network: pulumi.CustomResource | None = None


class DeployDriver(Protocol):
    """How a stack's services are run (``sentry-stacks:driver``)."""

    @property
    def name(self) -> str: ...

    @property
    def runs_containers(self) -> bool: ...

    @property
    def mounts_env_files(self) -> bool: ...

    def declare(self, request: DeployRequest) -> Deployed: ...


__all__ = ["DeployDriver", "DeployRequest", "Deployed"]
