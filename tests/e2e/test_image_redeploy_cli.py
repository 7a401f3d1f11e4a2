"""An image rebuilt under the same tag redeploys its service (a new user's trial: `web:latest` rebuilt with new code,
`pulumi up` changed nothing and the old container kept running), through the real CLI and Docker engine with the
toolkit's own program on the compose driver (infra/deploy/image_ids.py).

One stack of two services on images of their own tags: `web` (a tiny image FROM the base image, serving a file) and
`idle` (the base image). The deployment records each image's ID; a state from before (no IDs) updates once and
recreates nothing; a rebuild of `web` under the same tag is a change `preview` names, `up` recreates the `web`
container alone (its ID changes, the new content is served), and the next preview has no change.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from infra.deploy.image_ids import image_record
from infra.deploy.swarm import SwarmProvider
from tests.e2e.docker_support import demo_images, docker, image_prefix, require_docker, wait_http
from tests.e2e.pulumi_support import PulumiProject, compose_shop, require_langhost, require_pulumi
from tests.e2e.swarm_support import containers_by_service, remove_stack, single_node_swarm
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e
DEPLOYMENT = "pulumi-python:dynamic/compose:Deployment"


def build_web(context: Path, base: str, tag: str, content: str) -> str:
    """Build `tag` FROM `base`, serving `content` as /srv/index.html; its image ID."""
    context.mkdir(parents=True, exist_ok=True)
    (context / "index.html").write_text(content)
    (context / "Dockerfile").write_text(f"FROM {base}\nCOPY index.html /srv/index.html\n")
    docker("build", "-q", "-t", tag, str(context), timeout=300)
    return docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()


def service_containers(project: str) -> dict[str, str]:
    """service -> container ID of the compose project's containers."""
    ps = subprocess.run(["docker", "ps", "-a", "--no-trunc", "--filter", f"label=com.docker.compose.project={project}",
                         "--format", '{{.Label "com.docker.compose.service"}} {{.ID}}'], capture_output=True,
                        text=True, check=True)  # fmt: skip
    return dict(line.split(" ", 1) for line in ps.stdout.splitlines() if line.strip())


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PulumiProject, str, int]]:
    require_pulumi()
    require_langhost()
    require_docker()
    base = demo_images().base
    tmp = tmp_path_factory.mktemp("redeploy")
    tag = f"{image_prefix()}redeploy-web:e2e-{uuid.uuid4().hex[:8]}"
    build_web(tmp / "web", base, tag, "version one\n")
    port = free_port()
    serve = ["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", "/srv"]
    services = {
        "web": {"image": tag, "command": serve, "sentry": {"project": "shop-web", "platform": "python"}},
        "idle": {"image": base, "command": ["sleep", "100000"], "environment": {"ROLE": "idle"}},
    }
    try:
        with compose_shop(tmp, services, "ssimg") as proj:
            yield proj, tag, port
    finally:
        docker("rmi", "--force", tag, check=False)


def deployment(proj: PulumiProject) -> dict[str, Any]:
    [res] = [r for r in proj.export()["deployment"]["resources"] if r["type"] == DEPLOYMENT]
    return dict(res)


def test_an_image_rebuilt_under_the_same_tag_is_redeployed_and_nothing_else(
    shop: tuple[PulumiProject, str, int], tmp_path: Path
) -> None:
    proj, tag, port = shop
    base = demo_images().base
    proj.up()
    project = proj.outputs()["composeProject"]
    first = service_containers(project)
    assert sorted(first) == ["idle", "web"], first
    assert wait_http(f"http://127.0.0.1:{port}/index.html").text == "version one\n"
    web_id = docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    recorded = deployment(proj)["outputs"]["images"]
    assert recorded["web"] == f"{tag} {web_id}" and recorded["idle"].startswith(f"{base} sha256:"), recorded
    proj.run("preview", "--expect-no-changes")

    # a state made before the IDs were recorded: one update re-records them and recreates no container
    exported = proj.export()
    [res] = [r for r in exported["deployment"]["resources"] if r["type"] == DEPLOYMENT]
    for part in ("inputs", "outputs"):
        res[part].pop("images")
    (tmp_path / "old.json").write_text(json.dumps(exported))
    proj.run("stack", "import", "--file", str(tmp_path / "old.json"))
    proj.up()
    assert service_containers(project) == first
    assert deployment(proj)["outputs"]["images"] == recorded
    proj.run("preview", "--expect-no-changes")

    # the same tag, new content: preview names the change, up recreates web alone
    new_id = build_web(tmp_path / "web", base, tag, "version two\n")
    assert new_id != web_id
    preview = proj.run("preview", "--diff")
    assert re.search(rf'~ images\s*: {{\n(.*\n)*\s*~ web\s*: "{re.escape(tag)} {web_id}" => "{re.escape(tag)} '
                     rf'{new_id}"', preview.stdout), preview.stdout
    assert "prod-compose" in preview.stdout and "1 to update" in preview.stdout, preview.stdout
    assert proj.run("preview", "--expect-no-changes", check=False).returncode != 0
    proj.up()
    after = service_containers(project)
    assert after["web"] != first["web"] and after["idle"] == first["idle"], (first, after)
    assert docker("inspect", "--format", "{{.Image}}", after["web"]).stdout.strip() == new_id
    docker("rmi", web_id, check=False)  # its container is gone
    assert requests.get(f"http://127.0.0.1:{port}/index.html", timeout=10).text == "version two\n"
    proj.run("preview", "--expect-no-changes")


def test_swarm_forces_an_update_of_the_service_whose_image_was_rebuilt_under_its_tag(tmp_path: Path) -> None:
    require_docker()
    base = demo_images().base
    tag = f"{image_prefix()}redeploy-swarm:e2e-{uuid.uuid4().hex[:8]}"
    old_id = build_web(tmp_path / "web", base, tag, "version one\n")
    name = f"ssimg{uuid.uuid4().hex[:8]}"
    file = tmp_path / "deploy" / "docker-compose.yml"
    file.parent.mkdir()
    sleep = {"command": ["sleep", "100000"], "deploy": {"update_config": {"order": "start-first"}}}
    file.write_text(yaml.safe_dump({"version": "3.8", "services": {"web": {"image": tag, **sleep},
                                                                   "idle": {"image": base, **sleep}}}))
    base_id = docker("image", "inspect", "--format", "{{.Id}}", base).stdout.strip()
    images = {"web": image_record(tag, old_id), "idle": image_record(base, base_id)}
    props: dict[str, Any] = {"stack": name, "file": str(file), "fileSha256": "a" * 64, "services": ["idle", "web"],
                             "healthTimeout": 300, "images": images}
    with single_node_swarm():
        try:
            outs = SwarmProvider().create(props).outs or {}
            first = containers_by_service(name)
            assert outs["images"] == images and len(first["web"]) == 1, (outs, first)
            new_id = build_web(tmp_path / "web", base, tag, "version two\n")
            news = {**props, "images": {**images, "web": image_record(tag, new_id)}}
            assert SwarmProvider().diff(name, outs, news).changes is True
            updated = SwarmProvider().update(name, outs, news)
            after = containers_by_service(name)
            assert after["idle"] == first["idle"] and after["web"] != first["web"], (first, after)
            assert docker("inspect", "--format", "{{.Image}}", after["web"][0]).stdout.strip() == new_id
            assert docker("exec", after["web"][0], "cat", "/srv/index.html").stdout == "version two\n"
            assert SwarmProvider().diff(name, updated.outs, news).changes is False
            SwarmProvider().update(name, updated.outs, news)  # the same again: nothing is forced
            assert containers_by_service(name) == after
        finally:
            SwarmProvider().delete(name, props)
            remove_stack(name)
            docker("rmi", "--force", tag, old_id, check=False)
