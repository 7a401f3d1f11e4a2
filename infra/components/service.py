"""AppDeployment: the app's containers for one stack, by the driver the stack chose.

* ``compose``: one :class:`~infra.compose.ComposeDeployment` that runs docker compose on the rendered
  ``docker-compose.yml`` and redeploys when that file's hash changes.
* ``docker``: pulumi-docker resources: a ``Network`` (``networkMode: bridge``), a ``RemoteImage`` per
  service that builds its image, and a ``Container`` per service whose ``envs`` are the service's env
  mapping (the same mapping as its ``.env`` file), with ports, healthcheck, restart policy, labels and
  ``networks_advanced``. ``pulumi_docker`` is imported only here and only for this driver, so stacks on
  the compose driver never need the docker provider plugin.
* ``swarm``: one :class:`~infra.swarm.SwarmDeployment` that runs ``docker stack deploy`` on the same
  rendered file (with ``deploy:`` sections) and waits until every service has converged.

Logical names: ``{stack}-deploy`` (component), ``{stack}-compose``, ``{stack}-swarm``, ``{stack}-network``,
``{stack}-{service}-image``, ``{stack}-{service}`` (container).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi

from infra.compose import ComposeDeployment
from infra.render import service_labels
from infra.settings import ServiceSettings, StackSettings
from infra.swarm import SwarmDeployment


def docker_envs(env: Mapping[str, str]) -> list[str]:
    """A container's ``envs`` (``KEY=VALUE``, sorted) from the service's env mapping."""
    return [f"{key}={value}" for key, value in sorted(env.items())]


def _envs_of(service: str) -> Callable[[dict[str, dict[str, str]]], list[str]]:
    return lambda all_envs: docker_envs(all_envs[service])


class AppDeployment(pulumi.ComponentResource):
    """The containers of one stack (type ``sentry-stacks:index:AppDeployment``).

    `envs`: service -> env mapping (a secret Output). `compose_file` / `compose_sha256`: the rendered
    compose file (path and content hash, from its RenderedFile), used by the compose driver.
    """

    compose: ComposeDeployment | None
    swarm: SwarmDeployment | None
    containers: dict[str, pulumi.CustomResource]
    images: dict[str, pulumi.CustomResource]
    network: pulumi.CustomResource | None

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        envs: pulumi.Output[dict[str, dict[str, str]]],
        compose_file: pulumi.Input[str],
        compose_sha256: pulumi.Input[str],
        root: Path | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("sentry-stacks:index:AppDeployment", name, None, opts)
        self.settings = settings
        self.root = root or Path.cwd()
        self.compose, self.swarm, self.network = None, None, None
        self.containers, self.images = {}, {}
        if settings.driver == "swarm":
            self.swarm = SwarmDeployment(
                f"{settings.stack}-swarm",
                stack=settings.compose_project,
                file=compose_file,
                file_sha256=compose_sha256,
                services=[s.name for s in settings.services],
                health_timeout=settings.health_timeout,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.register_outputs({"composeProject": self.swarm.stack, "status": self.swarm.status})
        elif settings.driver == "compose":
            self.compose = ComposeDeployment(
                f"{settings.stack}-compose",
                project=settings.compose_project,
                file=compose_file,
                file_sha256=compose_sha256,
                services=[s.name for s in settings.services],
                health_timeout=settings.health_timeout,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.register_outputs({"composeProject": self.compose.project, "status": self.compose.status})
        else:
            self._docker(envs)
            self.register_outputs({"containers": {n: c.id for n, c in self.containers.items()}})

    # ------------------------------------------------------------------ docker driver

    def _docker(self, envs: pulumi.Output[dict[str, dict[str, str]]]) -> None:
        import pulumi_docker as docker  # only for this driver: its provider plugin is needed only then

        s = self.settings
        child = pulumi.ResourceOptions(parent=self)
        if s.network_mode == "bridge":
            self.network = docker.Network(
                f"{s.stack}-network",
                name=s.compose_project,
                driver="bridge",
                labels=[
                    docker.NetworkLabelArgs(label=k, value=v)
                    for k, v in sorted({"sentry-stacks.stack": s.stack, "sentry-stacks.project": s.project}.items())
                ],
                opts=child,
            )
        for svc in self._ordered():
            image: pulumi.Input[str] = svc.image
            if svc.build is not None:
                context = Path(svc.build.context)
                remote = docker.RemoteImage(
                    f"{s.stack}-{svc.name}-image",
                    name=svc.image,
                    keep_locally=True,
                    build=docker.RemoteImageBuildArgs(
                        context=str(context if context.is_absolute() else self.root / context),
                        dockerfile=svc.build.dockerfile,
                        build_args=dict(svc.build.args) or None,
                        target=svc.build.target,
                    ),
                    opts=child,
                )
                self.images[svc.name] = remote
                image = remote.image_id
            self.containers[svc.name] = self._container(docker, svc, image, envs)

    def _ordered(self) -> list[ServiceSettings]:
        """Services with their dependencies first (settings guarantee there is no cycle)."""
        done: list[ServiceSettings] = []
        by_name = {s.name: s for s in self.settings.services}

        def visit(svc: ServiceSettings) -> None:
            if svc in done:
                return
            for dep in svc.depends_on:
                visit(by_name[dep])
            done.append(svc)

        for svc in self.settings.services:
            visit(svc)
        return done

    def _container(
        self,
        docker: Any,
        svc: ServiceSettings,
        image: pulumi.Input[str],
        envs: pulumi.Output[dict[str, dict[str, str]]],
    ) -> pulumi.CustomResource:
        s = self.settings
        args: dict[str, Any] = {
            "name": f"{s.compose_project}-{svc.name}",
            "image": image,
            "envs": pulumi.Output.secret(envs.apply(_envs_of(svc.name))),
            "restart": svc.restart,
            "must_run": True,
            "labels": [docker.ContainerLabelArgs(label=k, value=v) for k, v in service_labels(s, svc).items()],
        }
        if svc.command is not None:
            args["command"] = list(svc.command)
        if svc.user is not None:
            args["user"] = svc.user
        if s.network_mode == "host":
            args["network_mode"] = "host"
        else:
            assert self.network is not None
            args["network_mode"] = "bridge"
            args["networks_advanced"] = [
                docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[svc.name])  # type: ignore[attr-defined]
            ]
            if svc.public and svc.port is not None:
                args["ports"] = [
                    docker.ContainerPortArgs(
                        internal=svc.port, external=svc.host_port or svc.port, ip=svc.host_ip, protocol="tcp"
                    )
                ]
        if svc.healthcheck is not None:
            hc = svc.healthcheck
            args["healthcheck"] = docker.ContainerHealthcheckArgs(
                tests=list(hc.test),
                interval=f"{hc.interval}s",
                timeout=f"{hc.timeout}s",
                retries=hc.retries,
                start_period=f"{hc.start_period}s",
            )
            args["wait"] = True
            args["wait_timeout"] = s.health_timeout
        depends = [self.containers[d] for d in svc.depends_on]
        return docker.Container(  # type: ignore[no-any-return]
            f"{s.stack}-{svc.name}",
            **args,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends, additional_secret_outputs=["envs"]),
        )


__all__ = ["AppDeployment", "docker_envs"]
