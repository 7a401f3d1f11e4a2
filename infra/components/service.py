"""AppDeployment: the app's containers for one stack, by the driver the stack chose (infra/deploy/).

The component (type ``sentry-stacks:index:AppDeployment``, logical name ``{stack}-deploy``) parents whatever the
driver declares: ``{stack}-compose`` (compose), ``{stack}-swarm`` (swarm), ``{stack}-network``,
``{stack}-{service}-image`` and ``{stack}-{service}`` (docker), nothing (none).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi

from infra.deploy import DeployDriver, Deployed, DeployRequest, driver
from infra.settings import StackSettings


class AppDeployment(pulumi.ComponentResource):
    """The containers of one stack.

    `envs`: service -> env mapping (a secret Output). `compose_file` / `compose_sha256`: the rendered compose file
    (path and content hash, from its RenderedFile), deployed by the compose and swarm drivers. `image_ids`: image
    reference -> its ID on the Docker host (infra/images.py), so a rebuild under the same tag redeploys.
    """

    driver: DeployDriver
    deployed: Deployed

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        envs: pulumi.Output[dict[str, dict[str, str]]],
        compose_file: pulumi.Input[str],
        compose_sha256: pulumi.Input[str],
        root: Path | None = None,
        image_ids: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("sentry-stacks:index:AppDeployment", name, None, opts)
        self.settings = settings
        self.driver = driver(settings.driver)
        self.deployed = self.driver.declare(
            DeployRequest(settings=settings, envs=envs, compose_file=compose_file, compose_sha256=compose_sha256,
                          root=root or Path.cwd(), parent=self, image_ids=dict(image_ids or {}))
        )
        self.register_outputs(self.deployed.outputs)

    @property
    def compose(self) -> pulumi.CustomResource | None:
        return self.deployed.stack_resource if self.driver.name == "compose" else None

    @property
    def swarm(self) -> pulumi.CustomResource | None:
        return self.deployed.stack_resource if self.driver.name == "swarm" else None

    @property
    def containers(self) -> dict[str, pulumi.CustomResource]:
        return self.deployed.containers

    @property
    def images(self) -> dict[str, pulumi.CustomResource]:
        return self.deployed.images

    @property
    def network(self) -> pulumi.CustomResource | None:
        return self.deployed.network


__all__ = ["AppDeployment"]
