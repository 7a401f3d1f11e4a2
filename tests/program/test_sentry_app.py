"""SentryApp under Pulumi mocks: the settings become the resource graph (names per environment, secret DSNs,
legacy mode), through the sentrystacks provider."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra.components.sentry_app import SentryApp, SentryAppError
from infra.components.sentry_resources import SentryStacks
from infra.settings import StackSettings, load_settings

PREFIX = "sentrystacks:index:"


class Mocks(pulumi.runtime.Mocks):
    def __init__(self, adopted: bool = False) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.adopted = adopted

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outs = dict(args.inputs)
        kind = args.typ.removeprefix(PREFIX)
        if kind == "Project":
            outs.update(projectId="42", adopted=self.adopted)
        elif kind == "ClientKey":
            public = hashlib.md5(args.name.encode()).hexdigest()
            outs.update(keyId=public, public=public, dsn=f"http://{public}@localhost:9/42", secret="s" * 32)
        elif kind == "MetricMonitor":
            outs.update(detectorId="7")
        elif kind == "Alert":
            outs.update(workflowId="9")
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


SERVICES = {
    "backend": {"image": "shop/backend:1", "sentry": {"project": "shop-backend", "name": "Shop backend",
                                                      "platform": "python-django", "resolveAgeHours": 24}},
    "frontend": {"image": "shop/frontend:1", "sentry": {
        "project": "shop-frontend", "name": "Shop frontend", "platform": "javascript", "allowedDomains": ["*"],
        "inboundFilters": {"localhost": True, "legacy-browsers": ["ie"]}}},
}
KEYS = {"backend": {"current": "g2", "generations": {"g1": False, "g2": {"rateLimit": {"count": 100, "window": 60}}}},
        "frontend": {"current": "g1", "generations": {"g1": {"browserSdkVersion": "8.x"}}}}


def settings(stack: str = "dev", **overrides: Any) -> StackSettings:
    """A stack of two services with keys, a monitor, an alert and filters, as the settings model builds it."""
    config: dict[str, Any] = {
        "sentry:baseUrl": "https://sentry.example.com", "sentry:organization": "acme",
        "sentry-stacks:app": "shop", "sentry-stacks:team": "platform", "sentry-stacks:release": "r1",
        "sentry-stacks:environment": "development" if stack == "dev" else "production",
        "sentry-stacks:services": SERVICES, "sentry-stacks:keys": KEYS,
        "sentry-stacks:monitors": {"error spike": {"service": "backend", "aggregate": "count()",
                                                   "conditions": [{"type": "gt", "comparison": 100}]}},
        "sentry-stacks:alerts": {"new issues": {"services": ["backend", "frontend"], "actions": [{"type": "email"}],
                                                "monitors": ["error spike"]}},
        "sentry-stacks:releaseTracking": {"enabled": False},
    }
    config.update({f"sentry-stacks:{k}": v for k, v in overrides.items()})
    return load_settings(config, stack=stack, git_release=lambda: "r1", root=Path("/nonexistent"), environ={})


def app(stack: str = "dev", **overrides: Any) -> SentryApp:
    given = settings(stack, **overrides)
    return SentryApp(f"{stack}-sentry", given, SentryStacks(f"{stack}-sentrystacks", base_url=None,
                                                             organization=None, token=None))


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="dev", preview=False)
    return m


def everything(app: SentryApp) -> pulumi.Output[list[Any]]:
    """An output that resolves once every resource of the component is registered."""
    resources: list[pulumi.CustomResource] = [*app.projects.values(), *app.alerts.values(), *app.monitors.values()]
    resources += [k for ks in app.keys.values() for k in ks.values()]
    resources += [f for fs in app.filters.values() for f in fs.values()]
    return pulumi.Output.all(*app.dsns.values(), *(r.id for r in resources))


def by_kind(mocks: Mocks, kind: str) -> list[pulumi.runtime.MockResourceArgs]:
    return [r for r in mocks.resources if r.typ == PREFIX + kind]


@pulumi.runtime.test
def test_resource_graph_and_names(mocks: Mocks) -> Any:
    sentry = app("dev")

    def check(_: Any) -> None:
        projects = {r.name: r.inputs for r in by_kind(mocks, "Project")}
        assert set(projects) == {"dev-backend", "dev-frontend"}
        assert projects["dev-backend"]["slug"] == "shop-backend"  # shared: same slug in every stack
        assert projects["dev-backend"]["shared"] is True and projects["dev-backend"]["deleteOnDestroy"] is False
        assert projects["dev-backend"]["teams"] == ["platform"] and projects["dev-backend"]["resolveAge"] == 24
        keys = {r.name: r.inputs for r in by_kind(mocks, "ClientKey")}
        assert set(keys) == {"dev-backend-key-g1", "dev-backend-key-g2", "dev-frontend-key-g1"}
        assert keys["dev-backend-key-g1"]["name"] == "dev-g1" and keys["dev-backend-key-g1"]["isActive"] is False
        assert keys["dev-backend-key-g2"]["rateLimit"] == {"count": 100, "window": 60}
        assert keys["dev-backend-key-g2"]["project"] == "shop-backend"
        assert keys["dev-frontend-key-g1"]["browserSdkVersion"] == "8.x"
        alerts = by_kind(mocks, "Alert")
        assert [a.inputs["name"] for a in alerts] == ["[shop/dev] new issues"]
        assert alerts[0].inputs["projects"] == ["shop-backend", "shop-frontend"]
        assert alerts[0].inputs["detectorIds"] == ["7"] and alerts[0].inputs["environment"] == "development"
        monitors = by_kind(mocks, "MetricMonitor")
        assert monitors[0].inputs["timeWindow"] == 3600 and monitors[0].inputs["project"] == "shop-backend"
        filters = {r.name: r.inputs for r in by_kind(mocks, "InboundFilter")}
        assert filters["dev-frontend-filter-legacy-browsers"]["subfilters"] == ["ie"]
        assert filters["dev-frontend-filter-localhost"]["readOnly"] is False  # this stack created the project
        assert filters["dev-frontend-filter-localhost"]["resetOnDelete"] is False
        assert filters["dev-frontend-filter-localhost"]["shared"] is True
        for resource in mocks.resources:
            assert resource.typ.startswith(PREFIX) or resource.typ in (
                "sentry-stacks:index:SentryApp", "pulumi:providers:sentrystacks")

    return everything(sentry).apply(check)


@pulumi.runtime.test
def test_dsns_are_secret_and_come_from_current_key(mocks: Mocks) -> Any:
    sentry = app("dev")
    expected = hashlib.md5(b"dev-backend-key-g2").hexdigest()

    async def check() -> None:
        assert set(sentry.dsns) == {"backend", "frontend"}
        assert await sentry.dsns["backend"].is_secret()
        assert await sentry.dsns["backend"].future() == f"http://{expected}@localhost:9/42"
        assert set(sentry.keys["backend"]) == {"g1", "g2"}
        assert set(sentry.projects) == {"backend", "frontend"}

    return pulumi.Output.from_input(check())


@pulumi.runtime.test
def test_key_names_differ_per_environment_and_per_env_projects() -> Any:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="prod", preview=False)
    sentry = app("prod", projectMode="per-environment", adoptExisting=True)

    def check(_: Any) -> None:
        projects = {r.name: r.inputs for r in by_kind(m, "Project")}
        assert projects["prod-backend"]["slug"] == "shop-backend-prod"
        assert projects["prod-backend"]["shared"] is False and projects["prod-backend"]["deleteOnDestroy"] is True
        assert projects["prod-backend"]["adopt"] is True
        assert projects["prod-backend"]["name"] == "Shop backend (prod)"
        names = sorted(r.inputs["name"] for r in by_kind(m, "ClientKey"))
        assert names == ["prod-g1", "prod-g1", "prod-g2"]
        assert by_kind(m, "Alert")[0].inputs["environment"] == "production"
        assert by_kind(m, "InboundFilter")[0].inputs["resetOnDelete"] is True

    return everything(sentry).apply(check)


@pulumi.runtime.test
def test_adopting_stack_makes_filters_read_only() -> Any:
    m = Mocks(adopted=True)
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="prod", preview=False)
    sentry = app("prod")

    def check(_: Any) -> None:
        for flt in by_kind(m, "InboundFilter"):
            assert flt.inputs["readOnly"] is True

    return everything(sentry).apply(check)


@pulumi.runtime.test
def test_legacy_browsers_true_means_all_and_false_none(mocks: Mocks) -> Any:
    """`legacy-browsers: true` (no list) is Sentry's "all legacy browsers", never written as none."""
    services = {
        "backend": {**SERVICES["backend"], "sentry": {**SERVICES["backend"]["sentry"],
                                                      "inboundFilters": {"legacy-browsers": False}}},
        "frontend": {**SERVICES["frontend"], "sentry": {**SERVICES["frontend"]["sentry"],
                                                        "inboundFilters": {"legacy-browsers": True}}},
    }
    sentry = app("dev", services=services)

    def check(_: Any) -> None:
        got = {r.name: r.inputs for r in by_kind(mocks, "InboundFilter")}
        assert got["dev-frontend-filter-legacy-browsers"]["active"] is True
        assert "subfilters" not in got["dev-frontend-filter-legacy-browsers"]
        assert got["dev-backend-filter-legacy-browsers"]["subfilters"] == []
        assert "active" not in got["dev-backend-filter-legacy-browsers"]

    return everything(sentry).apply(check)


@pulumi.runtime.test
def test_legacy_mode_uses_legacy_resources(mocks: Mocks) -> Any:
    sentry = app("dev", legacyAlerts=True, alerts={"new issues": {
        "services": ["backend"], "actions": [{"type": "email", "targetType": "team", "targetIdentifier": "5"}],
        "filters": [{"type": "level", "comparison": {"level": 40, "match": "gte"}}], "monitors": ["error spike"]}})

    def check(_: Any) -> None:
        assert not by_kind(mocks, "Alert") and not by_kind(mocks, "MetricMonitor")
        rule = by_kind(mocks, "IssueAlert")[0].inputs
        assert rule["actionMatch"] == "any" and rule["frequency"] == 30
        assert rule["filters"][0] == {"id": "sentry.rules.filters.level.LevelFilter", "level": "40", "match": "gte"}
        assert rule["actions"][0]["targetType"] == "Team"
        metric = by_kind(mocks, "MetricAlert")[0].inputs
        assert metric["timeWindow"] == 60  # minutes in the legacy API
        assert metric["triggers"][0]["label"] == "critical"
        assert metric["triggers"][0]["actions"] == [{"type": "email", "targetType": "team", "targetIdentifier": "5"}]

    return everything(sentry).apply(check)


def test_what_has_no_legacy_form_is_refused() -> None:
    """Everything else that does not hang together is the settings model's to refuse (tests/unit/test_settings.py);
    what only SentryApp can tell is an alert that the legacy alert APIs cannot express."""
    pulumi.runtime.set_mocks(Mocks(), project="sentry-stacks", stack="dev", preview=False)
    with pytest.raises(SentryAppError, match="alert 'a': action type 'slack'"):
        app("dev", legacyAlerts=True, monitors={}, alerts={"a": {"services": ["backend"], "actions": [
            {"type": "slack", "integrationId": "1", "targetType": "specific", "targetIdentifier": "#a"}]}})


def test_declared_outputs_are_state_fields_the_engine_returns() -> None:
    """Each resource class's `pulumi.Output` attributes are the only output properties it asks for; each must be a
    field of its type's state, or the engine would never fill it."""
    from infra.components import sentry_resources as sr
    from infra.provider.kinds import KINDS
    from infra.sentry.shape import fields_of

    for name, kind in KINDS.items():
        cls = getattr(sr, name)
        state = {key for _n, key, _i, _m in fields_of(kind.state)}
        assert set(cls.read_outputs) <= state, f"{name}: {set(cls.read_outputs) - state} are not state fields"
    assert sr.ClientKey.read_outputs == ("dsn", "keyId", "public", "isActive")
    assert sr.InboundFilter.read_outputs == ()


@pulumi.runtime.test
def test_only_declared_outputs_and_inputs_become_outputs(mocks: Mocks) -> Any:
    """A project exposes what the program reads (slug, projectId, adopted) and its inputs, resolved from the engine's
    answer; the other fields of its state (dateCreated, organization...) make no Output."""
    sentry = app("dev")
    project = sentry.projects["backend"]
    assert not hasattr(project, "dateCreated") and not hasattr(project, "organization")

    async def check() -> None:
        assert await project.projectId.future() == "42" and await project.adopted.future() is False
        assert await project.slug.future() == "shop-backend"

    return pulumi.Output.from_input(check())
