"""SentryApp under Pulumi mocks: resource graph, naming per environment, secret DSNs, validation."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
import pytest

from infra.components.sentry_app import (
    AlertAction,
    AlertCondition,
    AlertSpec,
    InboundFilterSpec,
    KeySpec,
    MonitorCondition,
    MonitorSpec,
    RateLimit,
    SentryApp,
    SentryAppArgs,
    SentryAppError,
    ServiceSentrySpec,
)

PREFIX = "pulumi-python:dynamic/sentry:"


class Mocks(pulumi.runtime.Mocks):
    def __init__(self, adopted: bool = False) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.adopted = adopted

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outs = {k: v for k, v in args.inputs.items() if k != "__provider"}
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


def services() -> tuple[ServiceSentrySpec, ...]:
    return (
        ServiceSentrySpec(
            service="backend", project_slug="shop-backend", project_name="Shop backend", platform="python-django",
            keys=(KeySpec("g1", active=False), KeySpec("g2", rate_limit=RateLimit(100, 60))), current_key="g2",
            resolve_age_hours=24,
        ),
        ServiceSentrySpec(
            service="frontend", project_slug="shop-frontend", project_name="Shop frontend", platform="javascript",
            keys=(KeySpec("g1", browser_sdk_version="8.x"),), current_key="g1", allowed_domains=("*",),
        ),
    )


def make_args(stack: str = "dev", **kw: Any) -> SentryAppArgs:
    base: dict[str, Any] = {
        "app": "shop", "environment": "development" if stack == "dev" else "production", "stack": stack,
        "team": "platform", "services": services(),
        "monitors": (MonitorSpec("error spike", "backend", "count()", (MonitorCondition("gt", 100, 75),)),),
        "alerts": (
            AlertSpec("new issues", ("backend", "frontend"), (AlertAction("email"),), monitors=("error spike",)),
        ),
        "filters": (InboundFilterSpec("frontend", "localhost"), InboundFilterSpec("frontend", "legacy-browsers",
                                                                                   subfilters=("ie",))),
    }
    base.update(kw)
    return SentryAppArgs(**base)


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
    app = SentryApp("dev-sentry", make_args("dev"))

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
            assert resource.typ.startswith(PREFIX) or resource.typ == "sentry-stacks:index:SentryApp"

    return everything(app).apply(check)


@pulumi.runtime.test
def test_dsns_are_secret_and_come_from_current_key(mocks: Mocks) -> Any:
    app = SentryApp("dev-sentry", make_args("dev"))
    expected = hashlib.md5(b"dev-backend-key-g2").hexdigest()

    async def check() -> None:
        assert set(app.dsns) == {"backend", "frontend"}
        assert await app.dsns["backend"].is_secret()
        assert await app.dsns["backend"].future() == f"http://{expected}@localhost:9/42"
        assert set(app.keys["backend"]) == {"g1", "g2"}
        assert set(app.projects) == {"backend", "frontend"}

    return pulumi.Output.from_input(check())


@pulumi.runtime.test
def test_key_names_differ_per_environment_and_per_env_projects() -> Any:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="prod", preview=False)
    app = SentryApp("prod-sentry", make_args("prod", project_mode="per-environment", adopt_existing=True))

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

    return everything(app).apply(check)


@pulumi.runtime.test
def test_adopting_stack_makes_filters_read_only() -> Any:
    m = Mocks(adopted=True)
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="prod", preview=False)
    app = SentryApp("prod-sentry", make_args("prod"))

    def check(_: Any) -> None:
        for flt in by_kind(m, "InboundFilter"):
            assert flt.inputs["readOnly"] is True

    return everything(app).apply(check)


@pulumi.runtime.test
def test_legacy_browsers_true_means_all_and_false_none(mocks: Mocks) -> Any:
    """`legacy-browsers: true` (no list) is Sentry's "all legacy browsers", never written as none."""
    filters = (InboundFilterSpec("frontend", "legacy-browsers", True), InboundFilterSpec("backend", "legacy-browsers",
                                                                                          False))
    app = SentryApp("dev-sentry", make_args("dev", filters=filters))

    def check(_: Any) -> None:
        got = {r.name: r.inputs for r in by_kind(mocks, "InboundFilter")}
        assert got["dev-frontend-filter-legacy-browsers"]["active"] is True
        assert "subfilters" not in got["dev-frontend-filter-legacy-browsers"]
        assert got["dev-backend-filter-legacy-browsers"]["subfilters"] == []
        assert "active" not in got["dev-backend-filter-legacy-browsers"]

    return everything(app).apply(check)


@pulumi.runtime.test
def test_legacy_mode_uses_legacy_resources(mocks: Mocks) -> Any:
    args = make_args(
        "dev", legacy_alerts=True,
        alerts=(AlertSpec("new issues", ("backend",),
                          (AlertAction("email", target_type="team", target_identifier="5"),),
                          filters=(AlertCondition("level", {"level": 40, "match": "gte"}),),
                          monitors=("error spike",)),),
    )
    app = SentryApp("dev-sentry", args)

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

    return everything(app).apply(check)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"current_key": "g9"}, "current_key 'g9' is not one of its key generations (g1, g2)"),
        ({"keys": ()}, "service 'backend' has no client key"),
        ({"keys": (KeySpec("g1"), KeySpec("g1")), "current_key": "g1"}, "'g1' is declared twice"),
    ],
)
def test_invalid_keys_are_refused(change: dict[str, Any], message: str) -> None:
    svc = services()[0]
    fields = {**svc.__dict__, **change}
    bad = ServiceSentrySpec(**fields)
    pulumi.runtime.set_mocks(Mocks(), project="sentry-stacks", stack="dev", preview=False)
    with pytest.raises(SentryAppError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SentryApp("dev-sentry", make_args("dev", services=(bad, services()[1])))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alerts": (AlertSpec("a", ("nope",), (AlertAction("email"),)),)}, "alert 'a' watches unknown service 'nope'"),
        ({"alerts": (AlertSpec("a", ("backend",), (AlertAction("email"),), monitors=("x",)),)},
         "alert 'a' references unknown monitor 'x'"),
        ({"monitors": (MonitorSpec("m", "nope", "count()", ()),), "alerts": ()},
         "monitor 'm' is on unknown service 'nope'"),
        ({"filters": (InboundFilterSpec("nope", "localhost"),)}, "inbound filter 'localhost' is on unknown service"),
        ({"legacy_alerts": True, "monitors": (), "alerts": (AlertSpec("a", ("backend",), (AlertAction("slack"),)),)},
         "alert 'a': action type 'slack'"),
    ],
)
def test_inconsistent_args_are_refused(change: dict[str, Any], message: str) -> None:
    pulumi.runtime.set_mocks(Mocks(), project="sentry-stacks", stack="dev", preview=False)
    with pytest.raises(SentryAppError, match=message):
        SentryApp("dev-sentry", make_args("dev", **change))
