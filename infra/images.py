"""Before anything is declared: can every service's image be had? (compose, docker and swarm drivers)

Without this, a service whose image is not on the host (a new user's own app before its first build, a typo in a
tag) passed `pulumi preview`, and `up` created the Sentry objects and files, then failed inside `docker compose up`
("Pulling db (postgres:16)… no such host"). :func:`image_problems` runs in the program, for preview and `up` alike,
once per image: an image is fine when it is on the host (``docker image inspect``), when the service builds it
(``build``), or when its registry lists it (``docker manifest inspect``, a few seconds at most); a registry that
does not answer counts as not pullable, and the message says so. When the Docker engine itself does not answer,
nothing can be checked: :func:`image_problems` says that once, as a warning, and the deploy step will fail alone.
The IDs of the images found on the host are the check's by-product (``ids``): the compose and swarm deployments
record them, so an image rebuilt under the same tag redeploys its services (infra/deploy/image_ids.py).
``SENTRY_STACKS_IMAGE_CHECK=off`` skips the check, for runs that deploy no container on this machine (`pulumi up
--exclude '**-deploy**' --exclude-dependents`: Sentry objects and files only); it records no ID either, so a rebuild
under the same tag is then not seen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.deploy.image_ids import local_image_id

#: seconds for one registry lookup (a registry that does not answer in this time is not usable for a pull)
REGISTRY_TIMEOUT = 15.0
ENGINE_TIMEOUT = 10.0


@dataclass(frozen=True)
class ImageCheck:
    """What the check found: one line per image that cannot be had (``problems``), ``warnings``, and the ID of each
    image on the host that no service builds (``ids``: reference -> ``sha256:…``)."""

    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    ids: Mapping[str, str] = field(default_factory=dict)


def _docker(*args: str, timeout: float) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    except (subprocess.TimeoutExpired, OSError):
        return None


def _registry_of(image: str) -> str:
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no details"


def image_problems(images: dict[str, tuple[str, bool]], key_of: dict[str, str]) -> ImageCheck:
    """`images`: service -> (image, built by the stack); `key_of`: service -> the config key naming its image.

    Each image is looked up once, however many services use it."""
    if not images or os.environ.get("SENTRY_STACKS_IMAGE_CHECK", "").lower() in ("off", "0", "false", "no"):
        return ImageCheck((), ())
    if shutil.which("docker") is None:
        return ImageCheck((), ("cannot check the services' images: the docker CLI is not installed (install Docker; in"
                               " the toolkit's repository `make docker`); the deploy will fail if an image cannot be"
                               " had",))
    engine = _docker("version", "--format", "{{.Server.Version}}", timeout=ENGINE_TIMEOUT)
    if engine is None or engine.returncode != 0:
        return ImageCheck((), ("cannot check the services' images: the Docker engine does not answer (start it; in the"
                               " toolkit's repository `make docker`); the deploy will fail if an image cannot be had",))
    found: dict[str, str | None] = {}  # image -> None (can be had) or why not
    ids: dict[str, str] = {}
    problems: list[str] = []
    for service, (image, built) in sorted(images.items()):
        if built:
            continue
        if image not in found:
            local = local_image_id(image, ENGINE_TIMEOUT)
            if local is not None:
                ids[image] = local
            found[image] = None if local is not None else _why_not(image)
        if found[image] is not None:
            problems.append(
                f"{key_of[service]} = {image}: service {service} cannot get its image: it is not on this host, the "
                f"service has no build, and {found[image]}. Build or load it (`docker build -t {image} …`, "
                "`docker load`), add a build to the service, or fix the name or tag"
            )
    return ImageCheck(tuple(problems), (), ids)


def _why_not(image: str) -> str | None:
    """None when the registry of `image` (not on the host) lists it; else why it cannot be pulled."""
    registry = _registry_of(image)
    remote = _docker("manifest", "inspect", image, timeout=REGISTRY_TIMEOUT)
    if remote is None:
        return f"its registry {registry} does not answer (no reply in {REGISTRY_TIMEOUT:.0f} s), so it cannot be pulled"
    if remote.returncode == 0:
        return None
    detail = _last_line(remote.stderr or remote.stdout)
    lowered = detail.lower()
    if any(w in lowered for w in ("no such host", "timeout", "connection refused", "dial tcp", "network is",
                                  "i/o timeout", "tls", "eof")):
        return f"its registry {registry} does not answer ({detail}), so it cannot be pulled"
    return f"its registry {registry} does not have it ({detail})"


__all__ = ["ENGINE_TIMEOUT", "REGISTRY_TIMEOUT", "ImageCheck", "image_problems"]
