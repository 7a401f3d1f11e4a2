"""Docker helpers for the e2e tier: the engine check, the demo images, containers on the host network.

- `require_docker()`: skips with exactly what to install when no engine answers; fails when CI=true.
- `demo_images()`: runs scripts/build-images once per session (a no-op when the images are current)
  and returns the image names, base image included.
- `Containers`: starts labelled containers (`--network host` by default, so DSNs on 127.0.0.1 work)
  and removes every one of them on `close()`, whatever happened.
- `free_port()`, `wait_http()`, `Container.wait_healthy()`: readiness without fixed sleeps.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import requests

from tests.support.ports import free_port as free_port  # the containers' host ports

ROOT = Path(__file__).resolve().parents[2]
TEST_LABEL = "org.sentry-stacks.test"
INSTALL_HINT = (
    "run `scripts/docker-engine` (Debian as root: installs docker.io and docker-compose from apt and starts "
    "dockerd), or install Docker Engine (https://docs.docker.com/engine/install/) and start it"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(message: str) -> None:
    """Skip locally, fail in CI (CI must provide every real component)."""
    if in_ci():
        pytest.fail(f"CI requires a Docker engine. {message}")
    pytest.skip(message)


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} … failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


@functools.cache
def _engine_problem() -> str | None:
    if shutil.which("docker") is None:
        return f"the docker CLI is not installed: {INSTALL_HINT}"
    try:
        result = docker("info", "--format", "{{.ServerVersion}}", timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return f"`docker info` did not answer within 30 s: {INSTALL_HINT}"
    if result.returncode != 0:
        return f"no Docker engine answers `docker info` ({result.stderr.strip()[:200]}): {INSTALL_HINT}"
    return None


def require_docker() -> None:
    problem = _engine_problem()
    if problem is not None:
        missing(problem)


@dataclass(frozen=True)
class DemoImages:
    base: str
    node_base: str
    backend: str
    frontend: str
    redis: str


#: another image name prefix (e.g. `sentry-stacks-mybranch/`) keeps a worktree's demo images apart from the
#: shared `sentry-stacks/*:latest` while several branches build theirs on one engine; stacks then pin them
IMAGE_PREFIX_VAR = "SENTRY_STACKS_IMAGE_PREFIX"
T = TypeVar("T")
DEFAULT_PREFIX = "sentry-stacks/"


def image_prefix() -> str:
    return os.environ.get(IMAGE_PREFIX_VAR) or DEFAULT_PREFIX


def run_build(args: list[str], timeout: float = 3600) -> subprocess.CompletedProcess[str] | str:
    """A build script's run, or why it failed (the tail of its output)."""
    name = Path(args[0]).relative_to(ROOT)
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"{name} did not finish within {timeout / 60:.0f} minutes"
    if result.returncode != 0:
        return f"{name} failed ({result.returncode}):\n{result.stderr[-4000:]}"
    return result


def built(images: T | str) -> T:
    """Images built once per session (a cached build's result), or the test fails saying why not."""
    require_docker()
    if isinstance(images, str):
        pytest.fail(images)
    return images


@functools.cache
def _build_images() -> DemoImages | str:
    args = [str(ROOT / "scripts" / "build-images"), "--json"]
    if image_prefix() != DEFAULT_PREFIX:
        args += ["--tag-prefix", image_prefix(), "--base-image", f"{DEFAULT_PREFIX}base:bookworm"]
    result = run_build(args)
    if isinstance(result, str):
        return result
    found = json.loads(result.stdout)
    return DemoImages(
        base=found["base"]["image"],
        node_base=found["node_base"]["image"],
        backend=found["backend"]["image"],
        frontend=found["frontend"]["image"],
        redis=found["redis"]["image"],
    )


def demo_images() -> DemoImages:
    """The base and demo images, built (or found current) once per session."""
    require_docker()
    return built(_build_images())


@dataclass
class Container:
    name: str
    image: str

    def logs(self, tail: int = 60) -> str:
        result = docker("logs", "--tail", str(tail), self.name, check=False, timeout=30)
        return (result.stdout + result.stderr).strip()

    def state(self) -> dict[str, object]:
        result = docker("inspect", "--format", "{{json .State}}", self.name, check=False, timeout=30)
        return dict(json.loads(result.stdout)) if result.returncode == 0 else {}

    def exec(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.name, *cmd, check=False, timeout=timeout)

    def wait_healthy(self, timeout: float = 120) -> None:
        """Until Docker reports the image's HEALTHCHECK healthy; fails with the logs otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            health = state.get("Health")
            status = health.get("Status") if isinstance(health, dict) else None
            if status == "healthy":
                return
            if not state.get("Running", False) or status == "unhealthy" or time.monotonic() > deadline:
                raise AssertionError(
                    f"container {self.name} ({self.image}) is not healthy: running={state.get('Running')} "
                    f"health={status} exit={state.get('ExitCode')}\n--- health log ---\n"
                    f"{json.dumps(health, indent=1)[-1500:]}\n--- logs ---\n{self.logs()}"
                )
            time.sleep(0.5)


    def wait_exit(self, timeout: float = 60) -> dict[str, object]:
        """The container's state once it has stopped running (or after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while self.state().get("Running") and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.state()


class Containers:
    """Starts containers for one test (or module) and removes all of them on close()."""

    def __init__(self, prefix: str = "ss-e2e") -> None:
        self.prefix = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.started: list[Container] = []

    def run(
        self,
        image: str,
        *command: str,
        role: str,
        env: Mapping[str, str] | None = None,
        network: str = "host",
        health_interval: str = "2s",
        extra: Iterable[str] = (),
    ) -> Container:
        name = f"{self.prefix}-{role}"
        args = ["run", "--detach", "--name", name, "--network", network, "--label", f"{TEST_LABEL}={self.prefix}"]
        args += ["--health-interval", health_interval, "--health-start-period", "60s"]
        for key, value in sorted((env or {}).items()):
            args += ["--env", f"{key}={value}"]
        container = Container(name, image)
        self.started.append(container)  # removed on close() even if `docker run` fails half-way
        docker(*args, *extra, image, *command, timeout=120)
        return container

    def logs(self) -> str:
        return "\n".join(f"--- {c.name} ---\n{c.logs()}" for c in self.started)

    def close(self) -> None:
        if self.started:
            docker("rm", "--force", "--volumes", *(c.name for c in self.started), check=False, timeout=120)
        self.started.clear()


def wait_http(url: str, timeout: float = 60, expect: int = 200, **kw: object) -> requests.Response:
    """GET until the expected status answers; raises with the last error otherwise."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=5, **kw)  # type: ignore[arg-type]
            if response.status_code == expect:
                return response
            last = f"HTTP {response.status_code}: {response.text[:300]}"
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"{url} did not answer {expect} within {timeout} s (last: {last})")
