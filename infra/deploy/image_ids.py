"""The image each service runs, by ID: a rebuild under the same tag is a change of the deployment.

The compose and swarm drivers deploy the rendered compose file, which names images by reference (``shop/web:latest``).
A rebuild under the same tag leaves the file, and so the deployment's inputs, as they were: ``up`` ran nothing and the
old container kept running. So the deployment's ``images`` input records, per service that does not build its image,
the reference and the image ID it has on the Docker host (``docker image inspect``, resolved by the program at preview
and ``up``: infra/images.py): ``{"web": "shop/web:latest sha256:…"}``. A new ID is a diff naming the service and the
image (``pulumi preview --diff``), and the update redeploys; ``docker compose up -d`` (v1 and v2) recreates exactly the
containers whose image ID changed, the swarm driver forces an update of exactly those services.

* An image not on the host at preview (pulled by the deploy) is recorded as its reference alone, which is no change:
  the provider records its ID after the deploy, so the next preview compares it (no false drift).
* A service that builds its image is not recorded (as before: its build is the driver's).
* A deployment whose state has no ``images`` (made before this module) updates once, re-recording the IDs; compose
  then recreates nothing whose image did not change.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.dynamic import CheckFailure

#: seconds for one ``docker image inspect``
INSPECT_TIMEOUT = 30.0


def local_image_id(ref: str, timeout: float = INSPECT_TIMEOUT) -> str | None:
    """The ID (``sha256:…``) of the image `ref` on the Docker host, or None when it is not there (or no engine)."""
    try:
        proc = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], capture_output=True,
                              text=True, timeout=timeout, check=False)  # fmt: skip
    except (subprocess.TimeoutExpired, OSError):
        return None
    found = proc.stdout.strip()
    return found if proc.returncode == 0 and found.startswith("sha256:") else None


def image_record(ref: str, image_id: str | None) -> str:
    """``"<ref> <id>"``, or ``"<ref>"`` when the image is not on the host."""
    return f"{ref} {image_id}" if image_id else ref


def split_record(record: str) -> tuple[str, str | None]:
    """(reference, ID or None) of a record."""
    ref, _, image_id = str(record).strip().partition(" ")
    return ref, image_id.strip() or None


def image_records(services: Iterable[tuple[str, str]], ids: Mapping[str, str]) -> dict[str, str]:
    """`services`: (service, image reference) of the services that do not build their image; `ids`: reference ->
    ID on the host. Service -> its record."""
    return {name: image_record(ref, ids.get(ref)) for name, ref in services}


def rerecorded(images: Mapping[str, str]) -> dict[str, str]:
    """The records after a deploy: every reference resolved again (an image pulled by the deploy now has its ID)."""
    out: dict[str, str] = {}
    for service, record in images.items():
        ref, known = split_record(record)
        out[service] = image_record(ref, local_image_id(ref) or known)
    return out


def changed_images(olds: Mapping[str, Any] | None, news: Mapping[str, Any] | None) -> list[str]:
    """The services whose image is a change: a new reference, or an ID other than the one recorded (none recorded
    counts as other). A new record without an ID (not on the host: the deploy pulls it) is no change."""
    old = dict(olds or {})
    out = []
    for service, record in sorted(dict(news or {}).items()):
        ref, image_id = split_record(record)
        old_ref, old_id = split_record(old[service]) if service in old else (None, None)
        if old_ref != ref or (image_id is not None and image_id != old_id):
            out.append(service)
    return out


def check_images_prop(value: Any) -> CheckFailure | None:
    """The problem of an ``images`` input (a map of service -> record), if any."""
    if value is None or (isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                         for k, v in value.items())):  # fmt: skip
        return None
    return CheckFailure("images", "must map each service to its image reference and ID (\"<ref> sha256:<id>\")")


__all__ = [
    "INSPECT_TIMEOUT",
    "changed_images",
    "check_images_prop",
    "image_record",
    "image_records",
    "local_image_id",
    "rerecorded",
    "split_record",
]
