"""SentryApp: one environment's Sentry objects for an app, built from plain settings.

The program (``infra/program.py``) builds a :class:`SentryAppArgs` from the stack settings and
creates one ``SentryApp``. The component creates, per service, the Sentry project (shared by all
stacks of the app by default), that environment's client keys (one per key generation), and the
environment's alerts, metric monitors and inbound filters.

Naming (stable; changing it renames Sentry objects):

* Pulumi logical names: ``{stack}-{service}`` (project), ``{stack}-{service}-key-{generation}``,
  ``{stack}-alert-{name}``, ``{stack}-monitor-{name}``, ``{stack}-{service}-filter-{filter_id}``.
* Sentry project slug: ``project_slug`` in ``"shared"`` mode, ``{project_slug}-{stack}`` in
  ``"per-environment"`` mode.
* Sentry key name: ``{stack}-{generation}`` (unique per stack within the service's project).
* Sentry alert / monitor name: ``[{app}/{stack}] {name}``.

Public attributes once constructed:

* ``dsns``: service -> secret ``Output[str]``, the public DSN of the service's ``current_key``.
* ``keys``: service -> generation -> :class:`~infra.sentry.client_key.ClientKey`.
* ``projects``: service -> :class:`~infra.sentry.project.Project`.
* ``alerts``, ``monitors``: name -> resource; ``filters``: service -> filter id -> resource.
* ``source_maps``: service -> :class:`~infra.sentry.source_maps.SourceMaps` (``{stack}-{service}-sourcemaps``), the
  build's source maps in the service's project for the stack's release (:class:`SourceMapsUpload`).
* ``cron_monitors``: name -> :class:`~infra.sentry.cron_monitor.CronMonitor` (logical name ``{stack}-cron-{name}``;
  alerts may list them in ``monitors``); ``release``: the stack's :class:`~infra.sentry.release.Release`
  (``{stack}-release``) or None. :meth:`SentryApp.deploy_start` and :meth:`SentryApp.record_deploy` add the
  deploy record around the containers (``{stack}-deploy-start``, ``{stack}-sentry-deploy``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.crons import CronMonitorSpec, ReleaseTracking
from infra.sentry.alert import Alert
from infra.sentry.client_key import ClientKey
from infra.sentry.cron_monitor import CronMonitor
from infra.sentry.deploy import Deploy, DeployStart, deploy_name
from infra.sentry.inbound_filter import InboundFilter
from infra.sentry.issue_alert import IssueAlert
from infra.sentry.legacy_model import LegacyConversionError, issue_rule_from_workflow, metric_alert_from_monitor
from infra.sentry.metric_alert import MetricAlert
from infra.sentry.metric_monitor import MetricMonitor
from infra.sentry.project import Project
from infra.sentry.release import Release
from infra.sentry.source_maps import SourceMaps
from infra.specs import (
    AlertAction,
    AlertCondition,
    AlertSpec,
    DefaultKeyPolicy,
    InboundFilterSpec,
    KeySpec,
    LoaderOptions,
    MonitorCondition,
    MonitorSpec,
    ProjectMode,
    RateLimit,
    ServiceSentrySpec,
    SourceMapsUpload,
)

# Keys, alerts and monitors carry this stack's name in their Sentry names ("{stack}-{generation}",
# "[app/stack] name"), so an object found under such a name at create time is this stack's own: a create
# interrupted by a crash (kill -9 of the CLI) whose POST had landed. Adopting it is what makes the rerun
# converge without a duplicate. (adoptExisting still governs projects, whose slugs are not stack-scoped.)
# Such a create looks its name up first only when a killed run may have made it (infra/sentry/recovery.py) or
# its POST's outcome is unknown (`lookupFirst: False`), or always when the stack adopts existing objects.
OWN_NAME_ADOPT = True


class SentryAppError(ValueError):
    """An inconsistent SentryAppArgs (raised at construction, i.e. during preview)."""


@dataclass(frozen=True)
class SentryAppArgs:
    """Everything SentryApp needs; built by the program from StackSettings.

    ``app``: app name (used in alert/monitor names). ``environment``: Sentry environment of this
    stack (``development``, ``production``...). ``stack``: Pulumi stack name (naming, ownership).
    ``team``: slug of the team that owns created projects.
    ``project_mode``: ``"shared"`` (default; one project per service for all stacks, created by the
    first stack, adopted by the others, never deleted by a destroy unless
    ``delete_shared_projects``) or ``"per-environment"`` (one project per service per stack).
    ``adopt_existing``: adopt Sentry objects (per-environment projects, keys, alerts, monitors) that
    already exist under this stack's names instead of failing.
    ``legacy_alerts``: use the legacy issue-alert / metric-alert APIs (self-hosted Sentry < 26.7
    only; refused against sentry.io). Each alert becomes one issue rule per service; each monitor a
    metric alert whose actions come from the alerts that reference it (email to a user or team). A
    legacy issue rule gets an environment only when the AlertSpec names one (Sentry refuses
    environments that have not received an event yet).
    """

    app: str
    environment: str
    stack: str
    team: str
    services: tuple[ServiceSentrySpec, ...]
    alerts: tuple[AlertSpec, ...] = ()
    monitors: tuple[MonitorSpec, ...] = ()
    filters: tuple[InboundFilterSpec, ...] = ()
    project_mode: ProjectMode = "shared"
    delete_shared_projects: bool = False
    adopt_existing: bool = False
    legacy_alerts: bool = False
    cron_monitors: tuple[CronMonitorSpec, ...] = ()
    release: str | None = None
    release_tracking: ReleaseTracking | None = None
    #: shared mode: the other stacks' privacy asks read from this checkout (infra/sentry/privacy_floor.py)
    privacy_others: tuple[tuple[str, Any], ...] = ()
    source_maps: tuple[SourceMapsUpload, ...] = ()


def _name_part(text: str) -> str:
    """`text` as a logical-name fragment: lowercase, runs of other characters turned into '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _condition(cond: AlertCondition) -> dict[str, Any]:
    return {"type": cond.type, "comparison": cond.comparison, "conditionResult": cond.result}


def _action(action: AlertAction) -> dict[str, Any]:
    config: dict[str, Any] = {"targetType": action.target_type}
    if action.target_identifier is not None:
        config["targetIdentifier"] = action.target_identifier
    return {"type": action.type, "integrationId": action.integration_id, "data": dict(action.data), "config": config}


def _loader(options: LoaderOptions | None) -> dict[str, bool] | None:
    if options is None:
        return None
    values = {
        "hasReplay": options.has_replay, "hasPerformance": options.has_performance, "hasDebug": options.has_debug,
        "hasFeedback": options.has_feedback, "hasLogsAndMetrics": options.has_logs_and_metrics,
    }
    return {k: v for k, v in values.items() if v is not None} or None


def _unique(kind: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SentryAppError(f"{kind} {name!r} is declared twice")
        seen.add(name)


def validate(args: SentryAppArgs) -> None:
    """Raise :class:`SentryAppError` when `args` do not hang together as a graph of resources.

    Only what code may get wrong that no setting expresses: names declared twice, references to services,
    key generations or monitors that are not there. The values themselves (slugs, generation labels, project
    modes, a disabled current key...) are the settings model's business (:mod:`infra.settings`), checked once
    there with the config key in the message; SentryApp does not check them again.
    """
    _unique("service", [s.service for s in args.services])
    services = {s.service for s in args.services}
    for svc in args.services:
        if not svc.keys:
            raise SentryAppError(f"service {svc.service!r} has no client key: declare at least one key generation")
        _unique(f"key generation of service {svc.service!r}", [k.generation for k in svc.keys])
        generations = {k.generation for k in svc.keys}
        if svc.current_key not in generations:
            raise SentryAppError(
                f"service {svc.service!r}: current_key {svc.current_key!r} is not one of its key generations "
                f"({', '.join(sorted(generations))})"
            )
    _unique("alert", [a.name for a in args.alerts])
    _unique("monitor", [m.name for m in args.monitors] + [c.name for c in args.cron_monitors])
    monitors = {m.name for m in args.monitors} | {c.name for c in args.cron_monitors}
    for alert in args.alerts:
        for svc_name in alert.services:
            if svc_name not in services:
                raise SentryAppError(f"alert {alert.name!r} watches unknown service {svc_name!r}")
        for monitor in alert.monitors:
            if monitor not in monitors:
                raise SentryAppError(f"alert {alert.name!r} references unknown monitor {monitor!r}")
        if not alert.services and not alert.monitors:
            raise SentryAppError(f"alert {alert.name!r} watches nothing: give it services or monitors")
    for monitor_spec in args.monitors:
        if monitor_spec.service not in services:
            raise SentryAppError(f"monitor {monitor_spec.name!r} is on unknown service {monitor_spec.service!r}")
    for cron in args.cron_monitors:
        if cron.service not in services:
            raise SentryAppError(f"cron monitor {cron.name!r} is on unknown service {cron.service!r}")
    _unique("cron monitor slug", [c.slug for c in args.cron_monitors])
    _unique("source maps of service", [u.service for u in args.source_maps])
    for upload in args.source_maps:
        if upload.service not in services:
            raise SentryAppError(f"source maps of unknown service {upload.service!r}")
    _unique("inbound filter", [f"{f.service}/{f.filter_id}" for f in args.filters])
    for flt in args.filters:
        if flt.service not in services:
            raise SentryAppError(f"inbound filter {flt.filter_id!r} is on unknown service {flt.service!r}")


class SentryApp(pulumi.ComponentResource):
    """The Sentry side of one environment of the app (type ``sentry-stacks:index:SentryApp``).

    Raises :class:`SentryAppError` for args that do not hang together, e.g. a ``current_key`` that names
    no key generation of the service (the message names the service and the generation).
    """

    dsns: dict[str, pulumi.Output[str]]
    keys: dict[str, dict[str, ClientKey]]
    projects: dict[str, Project]
    alerts: dict[str, pulumi.CustomResource]
    monitors: dict[str, pulumi.CustomResource]
    filters: dict[str, dict[str, InboundFilter]]
    cron_monitors: dict[str, CronMonitor]
    release: Release | None
    source_maps: dict[str, SourceMaps]

    def __init__(self, name: str, args: SentryAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sentry-stacks:index:SentryApp", name, None, opts)
        validate(args)
        self.args = args
        self.dsns, self.keys, self.projects = {}, {}, {}
        self.alerts, self.monitors, self.filters = {}, {}, {}
        self.cron_monitors, self.release, self.source_maps = {}, None, {}
        self._slugs: dict[str, pulumi.Output[str]] = {}
        for svc in args.services:
            self._service(svc)
        for monitor in args.monitors:
            self._monitor(monitor)
        for cron in args.cron_monitors:
            self._cron_monitor(cron)
        self._release()
        for upload in args.source_maps:
            self._source_maps(upload)
        for alert in args.alerts:
            self._alert(alert)
        for flt in args.filters:
            self._filter(flt)
        self.register_outputs({
            "dsns": self.dsns,
            "projects": dict(self._slugs),
            "keyIds": {s: {g: k.keyId for g, k in keys.items()} for s, keys in self.keys.items()},
        })

    @property
    def shared(self) -> bool:
        return self.args.project_mode == "shared"

    def _opts(self, **kw: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kw)

    def project_slug(self, svc: ServiceSentrySpec) -> str:
        """The Sentry slug of `svc`'s project in this stack's mode."""
        return svc.project_slug if self.shared else f"{svc.project_slug}-{_name_part(self.args.stack)}"[:100]

    def _service(self, svc: ServiceSentrySpec) -> None:
        a = self.args
        name = svc.project_name
        if not self.shared and len(f"{name} ({a.stack})") <= 50:
            name = f"{name} ({a.stack})"
        props: dict[str, Any] = {
            "slug": self.project_slug(svc), "name": name, "platform": svc.platform, "teams": [a.team],
            "resolveAge": svc.resolve_age_hours,
            "allowedDomains": list(svc.allowed_domains) if svc.allowed_domains is not None else None,
            "subjectPrefix": svc.subject_prefix,
            "shared": self.shared,
            "deleteOnDestroy": a.delete_shared_projects if self.shared else True,
            "adopt": a.adopt_existing,
            "defaultKey": svc.default_key, "defaultRules": svc.default_alert, "stack": a.stack,
            # defaultKey delete: the current key takes over Sentry's "Default" key (one write, not a delete + create)
            "defaultKeyReuse": True if svc.default_key == "delete" else None,
        }
        props.update({k: list(v) if isinstance(v, tuple | list) else v for k, v in svc.privacy})
        if self.shared:
            props["privacyOthers"] = dict(a.privacy_others)
        project = Project(f"{a.stack}-{_name_part(svc.service)}", props, self._opts())
        self.projects[svc.service] = project
        self._slugs[svc.service] = project.slug
        self.keys[svc.service] = {}
        for key in svc.keys:
            key_props: dict[str, Any] = {
                "project": project.slug, "name": f"{a.stack}-{key.generation}", "isActive": key.active,
                "rateLimit": (
                    {"count": key.rate_limit.count, "window": key.rate_limit.window} if key.rate_limit else None
                ),
                "browserSdkVersion": key.browser_sdk_version, "dynamicSdkLoaderOptions": _loader(key.loader),
                "adopt": OWN_NAME_ADOPT, "lookupFirst": a.adopt_existing,
            }
            if svc.default_key == "delete" and key.generation == svc.current_key:
                key_props["reuseDefault"] = project.adopted.apply(lambda adopted: not adopted)
            resource = ClientKey(f"{a.stack}-{_name_part(svc.service)}-key-{key.generation}", key_props, self._opts())
            self.keys[svc.service][key.generation] = resource
        self.dsns[svc.service] = pulumi.Output.secret(self.keys[svc.service][svc.current_key].dsn)

    def _sentry_name(self, name: str) -> str:
        return f"[{self.args.app}/{self.args.stack}] {name}"

    def _monitor(self, spec: MonitorSpec) -> None:
        a = self.args
        logical = f"{a.stack}-monitor-{_name_part(spec.name)}"
        conditions = [
            {"type": c.type, "comparison": c.comparison, "conditionResult": c.result} for c in spec.conditions
        ]
        common: dict[str, Any] = {
            "project": self._slugs[spec.service], "name": self._sentry_name(spec.name)[:200],
            "aggregate": spec.aggregate, "dataset": spec.dataset, "query": spec.query,
            "environment": spec.environment or a.environment, "owner": spec.owner,
            "eventTypes": list(spec.event_types) or None, "adopt": OWN_NAME_ADOPT, "lookupFirst": a.adopt_existing,
        }
        if a.legacy_alerts:
            actions = [_action(act) for alert in a.alerts if spec.name in alert.monitors for act in alert.actions]
            try:
                fields = metric_alert_from_monitor(conditions, spec.time_window_seconds, actions)
            except LegacyConversionError as exc:
                raise SentryAppError(f"monitor {spec.name!r}: {exc}") from None
            delta = spec.comparison_delta_seconds // 60 if spec.comparison_delta_seconds else None
            self.monitors[spec.name] = MetricAlert(
                logical, {**common, **fields, "comparisonDelta": delta}, self._opts())
            return
        self.monitors[spec.name] = MetricMonitor(logical, {
            **common, "timeWindow": spec.time_window_seconds, "conditions": conditions,
            "detectionType": spec.detection_type, "comparisonDelta": spec.comparison_delta_seconds,
            "description": spec.description, "enabled": spec.enabled,
        }, self._opts())

    def _alert(self, spec: AlertSpec) -> None:
        a = self.args
        logical = f"{a.stack}-alert-{_name_part(spec.name)}"
        triggers = [_condition(c) for c in spec.triggers]
        filters = [_condition(c) for c in spec.filters]
        actions = [_action(act) for act in spec.actions]
        environment = spec.environment or a.environment
        if a.legacy_alerts:
            try:
                rule = issue_rule_from_workflow(triggers, spec.trigger_logic, filters, spec.filter_logic, actions,
                                                spec.frequency_minutes)
            except LegacyConversionError as exc:
                raise SentryAppError(f"alert {spec.name!r}: {exc}") from None
            # A legacy rule belongs to one project, and may only name an environment that already exists in
            # Sentry (environments appear with the first event): the stack's environment is not implied here.
            for svc in spec.services:
                self.alerts[f"{spec.name}/{svc}"] = IssueAlert(f"{logical}-{_name_part(svc)}", {
                    "project": self._slugs[svc], "name": self._sentry_name(spec.name)[:256], **rule,
                    "environment": spec.environment, "owner": spec.owner, "adopt": OWN_NAME_ADOPT,
                }, self._opts())
            return
        detector_ids: list[pulumi.Output[Any]] = [
            m.detectorId for n, m in self.monitors.items() if n in spec.monitors and isinstance(m, MetricMonitor)
        ]
        detector_ids += [c.detectorId for n, c in self.cron_monitors.items() if n in spec.monitors]
        detectors: Any = detector_ids
        if any(n in spec.monitors for n in self.cron_monitors):  # a server without cron detectors gives None
            detectors = pulumi.Output.all(*detector_ids).apply(lambda ids: [i for i in ids if i])
        self.alerts[spec.name] = Alert(logical, {
            "name": self._sentry_name(spec.name)[:256],
            "projects": [self._slugs[s] for s in spec.services],
            "projectIds": [self.projects[s].projectId for s in spec.services],
            "detectorIds": detectors,
            "triggers": {"logicType": spec.trigger_logic, "conditions": triggers},
            "actionFilters": [{"logicType": spec.filter_logic, "conditions": filters, "actions": actions}],
            "frequency": spec.frequency_minutes, "environment": environment, "owner": spec.owner,
            "enabled": spec.enabled, "adopt": OWN_NAME_ADOPT, "lookupFirst": a.adopt_existing,
            "webhookUrls": sorted({url for act in spec.actions for url in act.urls}) or None,
        }, self._opts())

    def _cron_monitor(self, spec: CronMonitorSpec) -> None:
        a, cron = self.args, spec.settings
        self.cron_monitors[spec.name] = CronMonitor(f"{a.stack}-cron-{_name_part(spec.name)}", {
            "project": self._slugs[spec.service], "slug": spec.slug, "name": self._sentry_name(spec.name)[:128],
            "scheduleType": cron.schedule_type, "schedule": cron.sentry_schedule(), "timezone": cron.timezone,
            "checkinMargin": cron.checkin_margin_minutes, "maxRuntime": cron.max_runtime_minutes,
            "failureIssueThreshold": cron.failure_issue_threshold, "recoveryThreshold": cron.recovery_threshold,
            "status": "active" if cron.enabled else "disabled", "isMuted": cron.muted, "owner": cron.owner,
            "environment": cron.environment or a.environment, "adopt": a.adopt_existing,
        }, self._opts())

    def _release(self) -> None:
        a = self.args
        tracking = a.release_tracking
        if tracking is None or not tracking.enabled or not a.release or not self._slugs:
            return
        self.release = Release(f"{a.stack}-release", {
            "version": a.release, "projects": [self._slugs[s.service] for s in a.services], "url": tracking.url,
            "environment": a.environment, "shared": self.shared,
            "deleteOnDestroy": tracking.delete_on_destroy and not self.shared,
        }, self._opts())

    def _source_maps(self, upload: SourceMapsUpload) -> None:
        a = self.args
        if not a.release:
            return
        after = [self.release] if self.release is not None else []
        self.source_maps[upload.service] = SourceMaps(f"{a.stack}-{_name_part(upload.service)}-sourcemaps", {
            "project": self._slugs[upload.service], "release": a.release, "dist": upload.dist,
            "urlPrefix": upload.url_prefix, "path": upload.path, "bundleHash": upload.bundle_hash,
        }, self._opts(depends_on=after))

    def before_deploy(self) -> list[pulumi.Resource]:
        """What the containers wait for: the cron monitors (else the SDK's first check-in would create them), the
        release, and the source maps (an event of the new build is symbolicated when it arrives, never later)."""
        return [*self.cron_monitors.values(), *([self.release] if self.release is not None else []),
                *self.source_maps.values()]

    def deploy_start(self, fingerprint: pulumi.Input[str]) -> DeployStart | None:
        """The marker of when the rollout of `fingerprint` (e.g. the compose file's hash) began, or None when the
        stack records no deploys. Create it before the containers."""
        tracking = self.args.release_tracking
        if self.release is None or tracking is None or not tracking.deploys:
            return None
        a = self.args
        return DeployStart(f"{a.stack}-deploy-start", {
            "version": self.release.version, "environment": a.environment, "fingerprint": fingerprint,
        }, self._opts())

    def record_deploy(self, start: DeployStart | None, fingerprint: pulumi.Input[str],
                      after: pulumi.Resource) -> Deploy | None:
        """The deploy record of the release to this environment, written once `after` (the containers) is done."""
        if start is None or self.release is None:
            return None
        a = self.args
        return Deploy(f"{a.stack}-sentry-deploy", {
            "version": self.release.version, "environment": a.environment,
            "projects": [self._slugs[s.service] for s in a.services],
            "name": pulumi.Output.from_input(fingerprint).apply(lambda fp: deploy_name(a.stack, fp)),
            "dateStarted": start.dateStarted, "fingerprint": fingerprint,
        }, self._opts(depends_on=[after, start]))

    def _filter(self, spec: InboundFilterSpec) -> None:
        a = self.args
        project = self.projects[spec.service]
        read_only: Any = project.adopted.apply(lambda adopted: bool(adopted)) if self.shared else False
        props: dict[str, Any] = {
            "project": project.slug, "filterId": spec.filter_id, "readOnly": read_only,
            "resetOnDelete": not self.shared or a.delete_shared_projects, "shared": self.shared,
        }
        if spec.filter_id == "legacy-browsers" and spec.subfilters is None and spec.active:
            props["active"] = True  # all legacy browsers (Sentry's `active: true`), not none
        elif spec.filter_id == "legacy-browsers":
            props["subfilters"] = list(spec.subfilters or ())
        else:
            props["active"] = spec.active
        resource = InboundFilter(f"{a.stack}-{_name_part(spec.service)}-filter-{spec.filter_id}", props, self._opts())
        self.filters.setdefault(spec.service, {})[spec.filter_id] = resource


__all__ = [
    "AlertAction",
    "AlertCondition",
    "AlertSpec",
    "DefaultKeyPolicy",
    "InboundFilterSpec",
    "KeySpec",
    "LoaderOptions",
    "MonitorCondition",
    "MonitorSpec",
    "ProjectMode",
    "RateLimit",
    "SentryApp",
    "SentryAppArgs",
    "SentryAppError",
    "ServiceSentrySpec",
    "SourceMapsUpload",
    "validate",
]
