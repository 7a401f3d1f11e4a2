"""The image IDs a file deployment records (infra/deploy/image_ids.py): what is a change, what is not, and the swarm
driver's choice of services to force (the real rebuild and redeploy: tests/e2e/test_image_redeploy_cli.py)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.deploy.base import FileDeploymentProvider
from infra.deploy.compose import ComposeProvider
from infra.deploy.image_ids import changed_images, image_record, image_records, split_record
from infra.deploy.swarm import SwarmProvider, stale_services

OLD, NEW = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def test_a_record_is_the_reference_and_the_id_or_the_reference_alone() -> None:
    assert image_record("shop/web:latest", OLD) == f"shop/web:latest {OLD}"
    assert image_record("shop/web:latest", None) == "shop/web:latest"
    assert split_record(f"shop/web:latest {OLD}") == ("shop/web:latest", OLD)
    assert split_record("127.0.0.1:5000/web:1") == ("127.0.0.1:5000/web:1", None)
    ids = {"shop/web:latest": OLD}
    assert image_records([("web", "shop/web:latest"), ("db", "postgres:16")], ids) == {
        "web": f"shop/web:latest {OLD}", "db": "postgres:16"}


def test_a_new_id_or_reference_is_a_change_an_image_not_on_the_host_is_not() -> None:
    old = {"web": f"shop/web:latest {OLD}", "db": f"postgres:16 {OLD}"}
    assert changed_images(old, dict(old)) == []
    assert changed_images(old, {**old, "web": f"shop/web:latest {NEW}"}) == ["web"]
    assert changed_images(old, {**old, "web": f"shop/web:v2 {OLD}"}) == ["web"]
    # not on the host at preview (the deploy pulls it): no change, whatever was recorded
    assert changed_images(old, {**old, "db": "postgres:16"}) == []
    # recorded without an ID (pulled by the last deploy and not found), now on the host: a change
    assert changed_images({"db": "postgres:16"}, {"db": f"postgres:16 {NEW}"}) == ["db"]
    # a state from before the IDs were recorded: every service once
    assert changed_images(None, old) == ["db", "web"]
    assert changed_images(old, None) == [] and changed_images({}, {}) == []


def props(key: str, **kw: Any) -> dict[str, Any]:
    base = {key: "shop-dev", "file": "/tmp/x/docker-compose.yml", "fileSha256": "a" * 64, "services": ["web"],
            "healthTimeout": 60, "images": {"web": f"shop/web:latest {OLD}"}}  # fmt: skip
    return {**base, **kw}


@pytest.mark.parametrize("provider", [ComposeProvider, SwarmProvider])
def test_the_deployment_diff_and_check_take_the_images(provider: type[FileDeploymentProvider]) -> None:
    p = provider()
    key = p.name_key
    outs = {**props(key), "status": {"web": "running"}}
    assert p.diff("shop-dev", outs, props(key)).changes is False
    assert p.diff("shop-dev", outs, props(key, images={"web": f"shop/web:latest {NEW}"})).changes is True
    assert p.diff("shop-dev", outs, props(key, images={"web": "shop/web:latest"})).changes is False
    before = {k: v for k, v in outs.items() if k != "images"}  # state written before this change
    assert p.diff("shop-dev", before, props(key)).changes is True
    assert p.check({}, props(key)).failures == []
    bad = p.check({}, props(key, images={"web": ""}))
    assert [(f.property, "image reference and ID" in f.reason) for f in bad.failures] == [("images", True)]
    assert [f.property for f in p.check({}, props(key, images=["web"])).failures] == ["images"]


def test_swarm_forces_the_services_whose_tasks_run_another_image() -> None:
    images = {"web": f"shop/web:latest {NEW}", "db": f"postgres:16 {OLD}", "cache": "redis:7"}
    running = {"web": {OLD}, "db": {OLD}, "cache": {OLD}}
    assert stale_services(running, images) == ["web"]
    assert stale_services({"web": {OLD, NEW}}, images) == ["web"]  # a task left on the old image
    assert stale_services({"web": {NEW}}, images) == []
    assert stale_services({}, images) == []  # nothing running yet: the deploy creates it
