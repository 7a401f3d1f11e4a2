"""The deploy drivers behind one protocol (infra/deploy/): one module per driver, the names the settings allow,
shared check/diff between the two file deployments, and the provider paths earlier stacks hold in their state."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra.deploy import driver
from infra.deploy.base import DeployError, FileDeploymentProvider
from infra.deploy.compose import ComposeError, ComposeProvider
from infra.deploy.swarm import SwarmError, SwarmProvider
from infra.settings import DRIVERS

ROOT = Path(__file__).resolve().parents[2]

#: the providers as the previous release pickled them into every stack's state (`serialize_provider` of
#: infra.compose.ComposeProvider() and infra.swarm.SwarmProvider() at main 9ae4e70): refresh and destroy of such a
#: stack load exactly these bytes until an update stores the new path
PREVIOUS_RELEASE_BLOBS = {
    "infra.compose.ComposeProvider": "gASVKAAAAAAAAACMDWluZnJhLmNvbXBvc2WUjA9Db21wb3NlUHJvdmlkZXKUk5QpgZQu",
    "infra.swarm.SwarmProvider": "gASVJAAAAAAAAACMC2luZnJhLnN3YXJtlIwNU3dhcm1Qcm92aWRlcpSTlCmBlC4=",
}


def test_every_allowed_driver_is_one_module_of_infra_deploy() -> None:
    modules = sorted(p.stem for p in (ROOT / "infra" / "deploy").glob("*.py")
                     if p.stem not in ("__init__", "base", "image_ids", "protocol", "readiness"))  # fmt: skip
    assert sorted(DRIVERS) == modules
    for name in DRIVERS:
        found = driver(name)
        assert found.name == name
        assert isinstance(found.runs_containers, bool) and isinstance(found.mounts_env_files, bool)
    assert [n for n in DRIVERS if not driver(n).runs_containers] == ["none"]
    assert [n for n in DRIVERS if driver(n).mounts_env_files] == ["compose", "swarm"]


def test_an_unknown_driver_is_no_module() -> None:
    with pytest.raises(ModuleNotFoundError):
        driver("kubernetes")


def props(name_key: str, **kw: Any) -> dict[str, Any]:
    base = {name_key: "shop-dev", "file": "/tmp/x/docker-compose.yml", "fileSha256": "a" * 64,
            "services": ["backend", "redis"], "healthTimeout": 60}  # fmt: skip
    base.update(kw)
    return base


@pytest.mark.parametrize("provider", [ComposeProvider, SwarmProvider])
def test_file_deployments_share_check_and_diff_under_their_own_name(provider: type[FileDeploymentProvider]) -> None:
    p = provider()
    key = p.name_key
    assert {ComposeProvider.name_key, SwarmProvider.name_key} == {"project", "stack"}
    bad = p.check({}, props(key, **{key: "Shop Dev"}, file="", services=[], healthTimeout=0))
    assert sorted(f.property for f in bad.failures) == sorted([key, "file", "healthTimeout", "services"])
    assert p.check({}, props(key)).failures == []
    outs = {**props(key), "status": {"backend": "healthy", "redis": "running"}}
    assert p.diff("shop-dev", outs, props(key)).changes is False
    assert p.diff("shop-dev", outs, props(key, fileSha256="b" * 64)).changes is True
    renamed = p.diff("shop-dev", outs, props(key, **{key: "shop-prod"}))
    assert renamed.replaces == [key] and renamed.delete_before_replace is True
    assert issubclass(p.error, DeployError) and p.error in (ComposeError, SwarmError)


@pytest.mark.parametrize(("provider", "module"), [(ComposeProvider, "infra.deploy.compose"),
                                                  (SwarmProvider, "infra.deploy.swarm")])  # fmt: skip
def test_new_resources_pickle_the_provider_by_reference(provider: type[FileDeploymentProvider], module: str) -> None:
    blob = base64.b64decode(serialize_provider(provider()))
    assert module.encode() in blob and len(blob) < 80  # a reference, no code


@pytest.mark.parametrize("path", sorted(PREVIOUS_RELEASE_BLOBS))
def test_providers_stored_by_the_previous_release_still_load(path: str) -> None:
    """The provider process (cwd = the project root) loads the old path and gets today's provider: refresh and
    destroy of an old stack work, and its diff is today's."""
    code = (
        "import base64, dill, sys\n"
        "p = dill.loads(base64.b64decode(sys.argv[1]))\n"
        "key = p.name_key\n"
        "outs = {key: 'shop-dev', 'file': '/tmp/f.yml', 'fileSha256': 'a' * 64, 'services': ['web'],"
        " 'healthTimeout': 180, 'status': {'web': 'healthy'}}\n"
        "news = {k: v for k, v in outs.items() if k != 'status'}\n"
        "print(type(p).__module__, type(p).__name__, p.diff('shop-dev', outs, news).changes)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, PREVIOUS_RELEASE_BLOBS[path]], cwd=ROOT, capture_output=True,
                         text=True, check=True)  # fmt: skip
    module, name, changes = out.stdout.split()
    assert f"{module.replace('deploy.', '')}.{name}" == path and changes == "False"
