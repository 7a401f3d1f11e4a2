"""A Pulumi program that declares only Sentry objects through SentryApp, for the e2e tests and the benchmarks.

Config (project namespace): `app`, `services` (N; 0 declares nothing), `environment`, `team`, optional `extras`
(default true: per service 2 inbound filters and a metric monitor, plus one alert over all), `projectMode`,
`adoptExisting`. With extras it declares 5N+1 objects: per service a project, a key, 2 filters and a monitor.
Optional `legacyBrowsers` (`none` or `ie,safari,...`) adds a legacy-browsers filter to every service.
Optional `cron: true` adds a cron monitor `heartbeat` on svc0 that the alert also watches (its detector).
Optional `webhook: <url>` adds a webhook action with that callback URL to the alert (the WebHooks plugin of each
project); optional `sourceMaps: <folder>` uploads that build's source maps to svc0's project for release `bench`.

The stack is described as a stack file would (the settings model validates it and SentryApp builds the resources
from it, as the toolkit's own program does), served by an explicit `sentrystacks` provider made from the stack's
`sentry:` config and registered first, as the toolkit's program does (infra/provider/resource.py), without a
preflight (so a benchmark counts the objects' requests only). With the code of a release before the provider plugin
(the benchmarks' baseline checkout), the same stack is declared through that release's SentryAppArgs and its dynamic
providers.
"""

PROGRAM = '''
from pathlib import Path

import pulumi

cfg = pulumi.Config()
n = cfg.require_int("services")
stack = pulumi.get_stack()
app = cfg.require("app")
with_extras = cfg.get_bool("extras") is not False
legacy = cfg.get("legacyBrowsers")  # optional: "none" or a comma-separated list of browsers, per service
browsers = [b for b in (legacy or "").split(",") if b and b != "none"]
names = [f"svc{i}" for i in range(n)]
webhook = cfg.get("webhook")
maps = cfg.get("sourceMaps")
try:
    from infra.components.sentry_resources import SentryStacks
except ImportError:  # a release before the provider plugin (the benchmarks' baseline)
    SentryStacks = None
try:  # as the toolkit's program: the provider first, so its plugin starts while the program loads
    from infra.provider.resource import stack_provider, start as start_provider
except ImportError:  # a release that made the provider after the settings
    stack_provider = start_provider = None
if n > 0 and start_provider is not None:
    start_provider()

if n > 0 and SentryStacks is not None:
    from infra.components.sentry_app import SentryApp
    from infra.settings import load_settings

    filters = {"browser-extensions": True, "web-crawlers": True} if with_extras else {}
    if legacy is not None:
        filters["legacy-browsers"] = browsers if browsers else False
    services = {s: {"image": "bench/app:1", "sentry": {"project": f"{app}-{s}", "name": f"{app} {s}",
                                                        "platform": "python", "inboundFilters": filters}}
                for s in names}
    monitors = {f"errors-{s}": {"service": s, "aggregate": "count()", "conditions": [
        {"type": "gt", "comparison": 100, "result": 75}, {"type": "lte", "comparison": 100, "result": 0}]}
        for s in names} if with_extras else {}
    crons = {"heartbeat": {"service": "svc0", "schedule": "* * * * *"}} if cfg.get_bool("cron") else {}
    email = {"type": "email", "targetType": "issue_owners", "data": {"fallthroughType": "ActiveMembers"}}
    actions = [email, *([{"type": "webhook", "urls": [webhook]}] if webhook else [])]
    if maps:
        services["svc0"]["sentry"]["sourceMaps"] = {"path": maps}
    config = {
        "sentry-stacks:app": app, "sentry-stacks:environment": cfg.require("environment"),
        "sentry-stacks:team": cfg.require("team"), "sentry-stacks:services": services,
        "sentry-stacks:monitors": monitors, "sentry-stacks:cronMonitors": crons,
        "sentry-stacks:alerts": {"new-issues": {"services": names, "actions": actions,
                                                "monitors": [*monitors, *crons]}},
        "sentry-stacks:projectMode": cfg.get("projectMode") or "shared",
        "sentry-stacks:adoptExisting": cfg.get_bool("adoptExisting") or False,
        "sentry-stacks:releaseTracking": {"enabled": False}, "sentry-stacks:release": "bench",
        **{f"sentry:{k}": v for k in ("baseUrl", "organization") if (v := pulumi.Config("sentry").get(k))},
    }
    settings = load_settings(config, stack=stack, project="sentry-stacks", root=Path.cwd())
    if stack_provider is not None:
        provider = stack_provider(pulumi.get_project())
    else:
        sentry_cfg = pulumi.Config("sentry")
        provider = SentryStacks(f"{stack}-sentrystacks", base_url=sentry_cfg.get("baseUrl"),
                                organization=sentry_cfg.get("organization"), token=sentry_cfg.get_secret("token"),
                                upload_token=sentry_cfg.get_secret("uploadToken"))
    uploads = ()
    if maps:
        from infra.program import source_map_uploads

        uploads = source_map_uploads(settings, Path.cwd())
    sentry = SentryApp(f"{stack}-sentry", settings, provider, source_maps=uploads)
    pulumi.export("dsns", sentry.dsns)
elif n > 0:
    from infra.components.sentry_app import (
        AlertAction, AlertSpec, InboundFilterSpec, KeySpec, MonitorCondition, MonitorSpec, SentryApp,
        SentryAppArgs, ServiceSentrySpec,
    )

    services = tuple(
        ServiceSentrySpec(service=s, project_slug=f"{app}-{s}", project_name=f"{app} {s}", platform="python",
                          keys=(KeySpec("g1"),), current_key="g1")
        for s in names
    )
    email = AlertAction(type="email", target_type="issue_owners", data=(("fallthroughType", "ActiveMembers"),))
    monitors = tuple(
        MonitorSpec(name=f"errors-{s.service}", service=s.service, aggregate="count()",
                    conditions=(MonitorCondition("gt", 100, 75), MonitorCondition("lte", 100, 0)))
        for s in services
    ) if with_extras else ()
    filters = tuple(
        InboundFilterSpec(service=s.service, filter_id=f, active=True)
        for s in services for f in ("browser-extensions", "web-crawlers")
    ) if with_extras else ()
    if legacy is not None:
        filters += tuple(InboundFilterSpec(s.service, "legacy-browsers", bool(browsers), tuple(browsers))
                         for s in services)
    crons = ()
    if cfg.get_bool("cron"):
        from infra.crons import CronMonitorSettings, CronMonitorSpec

        heartbeat = CronMonitorSettings.model_validate({"service": "svc0", "schedule": "* * * * *"})
        crons = (CronMonitorSpec("heartbeat", heartbeat, f"heartbeat-{stack}", "svc0"),)
    actions = (email,)
    if webhook:
        actions += (AlertAction(type="webhook", target_type="specific", target_identifier="webhooks",
                                urls=(webhook,)),)
    uploads = ()
    if maps:
        from infra.sentry.source_maps_upload import bundle_hash

        try:
            from infra.sentry.source_maps_upload import SourceMapsUpload
        except ImportError:  # the previous release (tests/e2e/test_upgrade_cli.py) kept it in infra/specs.py
            from infra.specs import SourceMapsUpload  # type: ignore[no-redef]

        folder = Path(maps)
        uploads = (SourceMapsUpload("svc0", str(folder), bundle_hash(folder)),)
    alerts = (
        AlertSpec(name="new-issues", services=tuple(s.service for s in services), actions=actions,
                  monitors=tuple(m.name for m in monitors) + tuple(c.name for c in crons)),
    )
    sentry = SentryApp(f"{stack}-sentry", SentryAppArgs(
        app=app, environment=cfg.require("environment"), stack=stack, team=cfg.require("team"),
        services=services, alerts=alerts, monitors=monitors, filters=filters,
        project_mode=cfg.get("projectMode") or "shared", adopt_existing=cfg.get_bool("adoptExisting") or False,
        cron_monitors=crons, **({"release": "bench", "source_maps": uploads} if maps else {}),
    ))
    pulumi.export("dsns", sentry.dsns)
'''
