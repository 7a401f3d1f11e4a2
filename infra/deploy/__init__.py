"""How a stack's services are run: one driver per module, each an implementation of :class:`DeployDriver`.

| driver | module | runs |
| --- | --- | --- |
| ``compose`` | ``compose.py`` | ``docker compose`` on the rendered file, one host |
| ``docker`` | ``docker.py`` | one pulumi-docker container per service |
| ``swarm`` | ``swarm.py`` | ``docker stack deploy`` of the rendered file on a swarm manager |
| ``none`` | ``none.py`` | nothing: the Sentry side and the rendered files, for another pipeline |

``base.py`` holds what the drivers on the rendered compose file share (the error, the inputs, check, diff and the
provider's life cycle); ``readiness.py`` the wait after a deploy that the compose and docker drivers share (healthy,
or up without restarts); ``protocol.py`` the protocol. A new driver is one module here exposing ``DRIVER``, and its
name among the settings' allowed drivers (``infra/settings/services.py``); :func:`driver` finds it by name.
"""

from __future__ import annotations

import importlib

from infra.deploy.protocol import DeployDriver, Deployed, DeployRequest


def driver(name: str) -> DeployDriver:
    """The driver called `name` (the module ``infra.deploy.<name>``)."""
    found: DeployDriver = importlib.import_module(f"infra.deploy.{name}").DRIVER
    if found.name != name:
        raise ValueError(f"infra/deploy/{name}.py declares the driver {found.name!r}")
    return found


__all__ = ["DeployDriver", "DeployRequest", "Deployed", "driver"]
