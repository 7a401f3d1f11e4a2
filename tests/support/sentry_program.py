"""A Pulumi program that declares only Sentry objects through SentryApp, for the e2e tests and the benchmarks.

Config (project namespace): `app`, `services` (N; 0 declares nothing), `environment`, `team`, optional `extras`
(default true: per service 2 inbound filters and a metric monitor, plus one alert over all), `projectMode`,
`adoptExisting`. With extras it declares 5N+1 objects: per service a project, a key, 2 filters and a monitor.
Optional `legacyBrowsers` (`none` or `ie,safari,...`) adds a legacy-browsers filter to every service.
Optional `cron: true` adds a cron monitor `heartbeat` on svc0 that the alert also watches (its detector).
"""

PROGRAM = '''
import pulumi

cfg = pulumi.Config()
n = cfg.require_int("services")
if n > 0:
    from infra.components.sentry_app import (
        AlertAction, AlertSpec, InboundFilterSpec, KeySpec, MonitorCondition, MonitorSpec, SentryApp,
        SentryAppArgs, ServiceSentrySpec,
    )

    stack = pulumi.get_stack()
    app = cfg.require("app")
    with_extras = cfg.get_bool("extras") is not False
    services = tuple(
        ServiceSentrySpec(
            service=f"svc{i}", project_slug=f"{app}-svc{i}", project_name=f"{app} svc{i}", platform="python",
            keys=(KeySpec("g1"),), current_key="g1",
        )
        for i in range(n)
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
    legacy = cfg.get("legacyBrowsers")  # optional: "none" or a comma-separated list of browsers, per service
    if legacy is not None:
        browsers = tuple(b for b in legacy.split(",") if b and b != "none")
        filters += tuple(InboundFilterSpec(s.service, "legacy-browsers", bool(browsers), browsers) for s in services)
    crons = ()
    if cfg.get_bool("cron"):
        from infra.crons import CronMonitorSettings, CronMonitorSpec

        heartbeat = CronMonitorSettings.model_validate({"service": "svc0", "schedule": "* * * * *"})
        crons = (CronMonitorSpec("heartbeat", heartbeat, f"heartbeat-{stack}", "svc0"),)
    alerts = (
        AlertSpec(name="new-issues", services=tuple(s.service for s in services), actions=(email,),
                  monitors=tuple(m.name for m in monitors) + tuple(c.name for c in crons)),
    )
    sentry = SentryApp(f"{stack}-sentry", SentryAppArgs(
        app=app, environment=cfg.require("environment"), stack=stack, team=cfg.require("team"),
        services=services, alerts=alerts, monitors=monitors, filters=filters,
        project_mode=cfg.get("projectMode") or "shared", adopt_existing=cfg.get_bool("adoptExisting") or False,
        cron_monitors=crons,
    ))
    pulumi.export("dsns", sentry.dsns)
'''
