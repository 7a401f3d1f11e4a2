"""``driver: docker``: pulumi-docker resources, one per container.

A ``Network`` (``networkMode: bridge``), a ``RemoteImage`` per service that builds its image, and a ``Container``
per service whose ``envs`` are the service's env mapping (the same mapping as its ``.env`` file), with ports,
healthcheck, restart policy, labels and ``networks_advanced``. Containers are declared with their dependencies
first. ``pulumi_docker`` is imported only when this driver declares something, so stacks on the other drivers never
need the docker provider plugin.

pulumi-docker returns once a container has started (or, with a healthcheck, is healthy): a container whose process
exits at once and is restarted by its restart policy looks created. ``{stack}-ready`` (infra/deploy/readiness.py)
then waits until every container is healthy or stays up, and fails the deploy naming a service that exits or
restarts, with its exit code and last log lines.

Logical names: ``{stack}-network``, ``{stack}-{service}-image``, ``{stack}-{service}`` (container), ``{stack}-ready``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi

from infra.deploy.protocol import Deployed, DeployRequest
from infra.deploy.readiness import Readiness
from infra.render import service_labels
from infra.settings import ServiceSettings, StackSettings


def docker_envs(env: Mapping[str, str]) -> list[str]:
    """A container's ``envs`` (``KEY=VALUE``, sorted) from the service's env mapping."""
    return [f"{key}={value}" for key, value in sorted(env.items())]


def _envs_of(service: str) -> Callable[[dict[str, dict[str, str]]], list[str]]:
    return lambda all_envs: docker_envs(all_envs[service])


def ordered(settings: StackSettings) -> list[ServiceSettings]:
    """Services with their dependencies first (settings guarantee there is no cycle)."""
    done: list[ServiceSettings] = []
    by_name = {s.name: s for s in settings.services}

    def visit(svc: ServiceSettings) -> None:
        if svc in done:
            return
        for dep in svc.depends_on:
            visit(by_name[dep])
        done.append(svc)

    for svc in settings.services:
        visit(svc)
    return done


class DockerDriver:
    """One pulumi-docker container per service."""

    name = "docker"
    runs_containers = True
    mounts_env_files = False  # the containers get the mapping as envs; nothing is mounted

    def declare(self, request: DeployRequest) -> Deployed:
        import pulumi_docker as docker  # only for this driver: its provider plugin is needed only then

        s = request.settings
        child = pulumi.ResourceOptions(parent=request.parent)
        out = Deployed()
        if s.network_mode == "bridge":
            out.network = docker.Network(
                f"{s.stack}-network",
                name=s.compose_project,
                driver="bridge",
                labels=[
                    docker.NetworkLabelArgs(label=k, value=v)
                    for k, v in sorted({"sentry-stacks.stack": s.stack, "sentry-stacks.project": s.project}.items())
                ],
                opts=child,
            )
        for svc in ordered(s):
            image: pulumi.Input[str] = svc.image
            if svc.build is not None:
                context = Path(svc.build.context)
                remote = docker.RemoteImage(
                    f"{s.stack}-{svc.name}-image",
                    name=svc.image,
                    keep_locally=True,
                    build=docker.RemoteImageBuildArgs(
                        context=str(context if context.is_absolute() else request.root / context),
                        dockerfile=svc.build.dockerfile,
                        build_args=dict(svc.build.args) or None,
                        target=svc.build.target,
                    ),
                    opts=child,
                )
                out.images[svc.name] = remote
                image = remote.image_id
            out.containers[svc.name] = _container(docker, request, svc, image, out)
        ready = Readiness(f"{s.stack}-ready", containers={n: c.id for n, c in out.containers.items()},
                          health_timeout=s.health_timeout, opts=child)  # fmt: skip
        out.outputs = {"containers": {n: c.id for n, c in out.containers.items()}, "status": ready.status}
        return out


def _container(docker: Any, request: DeployRequest, svc: ServiceSettings, image: pulumi.Input[str],
               out: Deployed) -> pulumi.CustomResource:  # fmt: skip
    s = request.settings
    args: dict[str, Any] = {
        "name": f"{s.compose_project}-{svc.name}",
        "image": image,
        "envs": pulumi.Output.secret(request.envs.apply(_envs_of(svc.name))),
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
        assert out.network is not None
        args["network_mode"] = "bridge"
        args["networks_advanced"] = [
            docker.ContainerNetworksAdvancedArgs(name=out.network.name, aliases=[svc.name])  # type: ignore[attr-defined]
        ]
        if svc.public and svc.port is not None:
            args["ports"] = [
                docker.ContainerPortArgs(internal=svc.port, external=svc.host_port or svc.port, ip=svc.host_ip,
                                         protocol="tcp")
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
    depends = [out.containers[d] for d in svc.depends_on]
    return docker.Container(  # type: ignore[no-any-return]
        f"{s.stack}-{svc.name}",
        **args,
        opts=pulumi.ResourceOptions(parent=request.parent, depends_on=depends, additional_secret_outputs=["envs"]),
    )


DRIVER = DockerDriver()

__all__ = ["DRIVER", "DockerDriver", "docker_envs", "ordered"]
