"""The notes example (examples/notes): its images, built once per session by its own build script under this
worktree's image prefix (SENTRY_STACKS_IMAGE_PREFIX), and a stack of its own Pulumi project in a throw-away copy."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.docker_support import built, image_prefix, run_build
from tests.e2e.pulumi_support import ROOT, PulumiProject, require_langhost, require_pulumi
from tests.e2e.stack_support import copy_project, free_port
from tests.support.localsentry import LocalSentry

EXAMPLE = ROOT / "examples" / "notes"
NAMESPACE = "notes"  # the example's project name: the namespace of its settings
MAPS = EXAMPLE / "dist" / "sourcemaps" / "web"  # the web build's hidden source maps (scripts/build-frontend)


@dataclass(frozen=True)
class NotesImages:
    api: str
    web: str


@functools.cache
def _build() -> NotesImages | str:
    done = run_build([str(EXAMPLE / "build"), "--tag-prefix", f"{image_prefix()}notes-"], timeout=1800)
    if isinstance(done, str):
        return done
    api, web = done.stdout.split()[-2:]
    return NotesImages(api=api, web=web)


def notes_images() -> NotesImages:
    """The example's images, built once per session (the same worktree image prefix as the demo's)."""
    return built(_build())


class NotesStack(PulumiProject):
    """One stack of the example's own project, on free ports, with this worktree's images and a fixed release."""

    ports: dict[str, int]

    @classmethod
    def create(cls, workdir: Path, ls: LocalSentry, stack: str, release: str) -> NotesStack:
        require_pulumi()
        require_langhost()
        images = notes_images()
        copy_project(workdir, ls, source=EXAMPLE)
        proj = cls(workdir, stack=stack)
        proj.init()
        proj.ports = {"api": free_port(), "web": free_port()}
        for svc in ("api", "web"):
            proj.run("config", "set", "--path", f"{NAMESPACE}:serviceOverrides.{svc}.port", str(proj.ports[svc]))
            proj.run("config", "set", "--path", f"{NAMESPACE}:serviceOverrides.{svc}.image", getattr(images, svc))
        # the build's source maps (examples/notes/build) stay in the example: the copy uploads them from there
        proj.run("config", "set", "--path", f"{NAMESPACE}:serviceOverrides.web.sentry.sourceMaps.path", str(MAPS))
        proj.config_set(f"{NAMESPACE}:release", release)
        proj.config_set(f"{NAMESPACE}:composeProject", f"e2enotes{uuid.uuid4().hex[:8]}")
        return proj

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


__all__ = ["EXAMPLE", "MAPS", "NAMESPACE", "NotesImages", "NotesStack", "notes_images"]
