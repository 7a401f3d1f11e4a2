"""infra/sdk_outputs.py under Pulumi mocks: a Sentry resource gets an ``Output`` attribute for each output its class
declares and none for its inputs, while every input still reaches the engine and other resources are untouched."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from infra import sdk_outputs
from infra.components.sentry_resources import ClientKey, Project
from infra.sentry.client_key_model import ClientKeyInputs
from infra.sentry.project_model import ProjectInputs


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[args.name] = dict(args.inputs)
        outs = {**args.inputs, "extra": "engine-only"}
        if args.typ.endswith(":Project"):
            outs.update(projectId="42", adopted=False)
        if args.typ.endswith(":ClientKey"):
            outs.update(keyId="k1", public="p" * 32, dsn="http://" + "p" * 32 + "@localhost:9/42", secret="s" * 32)
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


class Thing(pulumi.CustomResource):
    """Any other resource: the SDK's own behaviour, an Output per prop."""

    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__("test:index:Thing", name, props)


def outputs_of(resource: pulumi.Resource) -> set[str]:
    return {name for name, value in vars(resource).items() if isinstance(value, pulumi.Output)}


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="dev", preview=False)
    return m


def test_installed_once_around_the_sdks_own() -> None:
    assert sdk_outputs.declared_only() and sdk_outputs.declared_only()
    wrapper = rpc.transfer_properties
    assert getattr(wrapper, sdk_outputs.MARK) and not hasattr(wrapper.__wrapped__, sdk_outputs.MARK)


@pulumi.runtime.test
def test_declared_outputs_only(mocks: Mocks) -> Any:
    project = Project("dev-backend", ProjectInputs(slug="shop-backend", teams=["platform"], platform="python",
                                                   resolve_age_hours=24))
    key = ClientKey("dev-backend-key", ClientKeyInputs(project="shop-backend", name="dev-g1"))
    thing = Thing("other", {"platform": "python", "teams": ["platform"]})
    # the Sentry resources hold an Output per declared output (and urn, id), the other one an Output per prop
    assert set(Project.read_outputs) <= set(vars(project)) and "platform" not in vars(project)
    assert "teams" not in vars(project) and "resolveAge" not in vars(project)
    assert "dsn" in vars(key) and "name" not in vars(key) and "project" not in vars(key)
    assert isinstance(thing.platform, pulumi.Output) and isinstance(thing.teams, pulumi.Output)  # type: ignore
    assert outputs_of(project) == {"urn", "id", *Project.read_outputs}
    assert outputs_of(key) == {"urn", "id", *ClientKey.read_outputs}
    assert outputs_of(thing) == {"urn", "id", "platform", "teams"}

    def check(values: list[Any]) -> None:
        slug, project_id, dsn, platform = values
        assert (slug, project_id, platform) == ("shop-backend", "42", "python")
        assert dsn.startswith("http://p")
        # every input reached the engine, declared as an output or not
        assert mocks.inputs["dev-backend"]["platform"] == "python"
        assert mocks.inputs["dev-backend"]["teams"] == ["platform"] and mocks.inputs["dev-backend"]["resolveAge"] == 24
        assert mocks.inputs["dev-backend-key"]["name"] == "dev-g1"
        assert mocks.inputs["dev-backend-key"]["project"] == "shop-backend"

    return pulumi.Output.all(project.slug, project.projectId, key.dsn, thing.platform).apply(check)  # type: ignore


@pulumi.runtime.test
def test_legacy_alias_is_the_urn_the_sdk_would_compute(mocks: Mocks) -> Any:
    from pulumi.runtime.resource import create_urn

    from infra.components.sentry_resources import legacy_alias
    from infra.provider.kinds import LEGACY_TYPE

    outer = pulumi.ComponentResource("sentry-stacks:index:SentryApp", "prod-sentry")
    inner = pulumi.ComponentResource("acme:index:Group", "group", opts=pulumi.ResourceOptions(parent=outer))
    legacy = LEGACY_TYPE.format(name="ClientKey")
    top = legacy_alias("ClientKey", "k", None)
    assert top == f"urn:pulumi:dev::sentry-stacks::{legacy}::k"  # no parent: known at once, no Output
    mine = [pulumi.Output.from_input(top), legacy_alias("ClientKey", "k", outer), legacy_alias("ClientKey", "k", inner)]
    sdks = [create_urn("k", legacy), create_urn("k", legacy, outer), create_urn("k", legacy, inner)]

    def check(values: list[str]) -> None:
        assert values[:3] == values[3:]
        assert values[2] == ("urn:pulumi:dev::sentry-stacks::sentry-stacks:index:SentryApp$acme:index:Group$"
                             f"{legacy}::k")

    return pulumi.Output.all(*mine, *sdks).apply(check)
