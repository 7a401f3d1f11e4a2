"""`pulumi preview` fails, naming the service and the image, when an image can be had neither from the host nor by
a build nor by a pull (issue 22), with the compose, docker and swarm drivers, through the real CLI and the real
Docker engine; `up` then creates nothing. A registry that does not answer counts as not pullable and is said so."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.docker_support import require_docker
from tests.e2e.stack_support import AppStack, copy_project
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.e2e
#: on no host, built by nothing; its registry answers nothing (a port nobody listens on)
MISSING = "127.0.0.1:9/sentry-stacks-e2e/nope:missing"


@pytest.mark.parametrize("driver", ["compose", "docker", "swarm"])
def test_an_image_that_cannot_be_had_fails_preview_and_up_creates_nothing(tmp_path: Path, driver: str) -> None:
    require_docker()
    assert subprocess.run(["docker", "image", "inspect", MISSING], capture_output=True).returncode != 0
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        stack = AppStack.create(copy_project(tmp_path / "proj", ls), "dev", "image-check")
        stack.config_set("sentry-stacks:driver", driver)
        if driver == "swarm":
            stack.config_set("sentry-stacks:networkMode", "bridge")
        stack.run("config", "set", "--path", "sentry-stacks:serviceOverrides.redis.image", MISSING)
        preview = stack.run("preview", check=False)
        output = preview.stdout + preview.stderr
        assert preview.returncode != 0, output
        assert f"sentry-stacks:services.redis.image = {MISSING}: service redis cannot get its image: it is not on " \
               "this host, the service has no build, and its registry 127.0.0.1:9 does not answer" in output, output
        assert "Traceback" not in output
        up = stack.run("up", "--yes", "--skip-preview", check=False)
        assert up.returncode != 0 and "service redis cannot get its image" in up.stdout + up.stderr
        assert ls.api("GET", f"/api/0/organizations/{ls.org}/projects/").json() == [], "nothing may be created"
        assert not (stack.workdir / "deploy").exists(), "no file may be written"
    finally:
        ls.stop()
