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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from infra.sentry.alert import Alert
from infra.sentry.client_key import ClientKey
from infra.sentry.inbound_filter import InboundFilter
from infra.sentry.issue_alert import IssueAlert
from infra.sentry.legacy_model import LegacyConversionError, issue_rule_from_workflow, metric_alert_from_monitor
from infra.sentry.metric_alert import MetricAlert
from infra.sentry.metric_monitor import MetricMonitor
from infra.sentry.project import Project

ProjectMode = Literal["shared", "per-environment"]
DefaultKeyPolicy = Literal["keep", "deactivate", "delete"]


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
class RateLimit:
    """A client key's rate limit: at most ``count`` events per ``window`` seconds (1..86400).

    Sentry applies it only when the organisation's plan has ``projects:rate-limits``; otherwise it is
    silently dropped, which the ClientKey resource reports in its ``rateLimitApplied`` output.
    """

    count: int
    window: int


@dataclass(frozen=True)
class LoaderOptions:
    """The JavaScript loader options of a key (``dynamicSdkLoaderOptions``). None = leave as is."""

    has_replay: bool | None = None
    has_performance: bool | None = None
    has_debug: bool | None = None
    has_feedback: bool | None = None
    has_logs_and_metrics: bool | None = None


@dataclass(frozen=True)
class KeySpec:
    """One client key (DSN) of a service in this environment.

    ``generation``: short label, unique per service, ``[a-z0-9][a-z0-9_.-]*`` (e.g. ``"g1"``,
    ``"2026-03"``); part of the Sentry key name ``{stack}-{generation}`` and the logical name.
    Several generations exist during a DSN rotation.
    ``active``: False disables the key in Sentry (ingest then answers 403). A disabled key can never
    be the service's ``current_key``.
    ``rate_limit``: optional per-key event rate limit.
    ``browser_sdk_version``: loader SDK version (e.g. ``"8.x"``); None keeps the project default.
    ``loader``: loader options; None leaves them as Sentry sets them.
    """

    generation: str
    active: bool = True
    rate_limit: RateLimit | None = None
    browser_sdk_version: str | None = None
    loader: LoaderOptions | None = None


@dataclass(frozen=True)
class ServiceSentrySpec:
    """A service of the app and the Sentry project it reports to.

    ``service``: service name (``backend``, ``frontend``, ...), key of ``dsns``/``keys``/``projects``.
    ``project_slug``: Sentry project slug (``^[a-z0-9_-]+$``, not all digits, <= 100 chars; in
    per-environment mode ``-{stack}`` is appended). ``project_name``: display name (<= 50 chars).
    ``platform``: Sentry platform id (``python-django``, ``javascript``, ``other``, ...).
    ``keys``: this environment's key generations (at least one). ``current_key``: the generation
    whose DSN is rendered (must name an active key in ``keys``).
    Shared project settings (all stacks sharing the project must agree on them):
    ``resolve_age_hours`` (0 = off), ``allowed_domains`` (None = Sentry's default ``["*"]``),
    ``subject_prefix`` (None = leave as is), ``default_key`` (what to do with the "Default" key
    Sentry creates with the project), ``default_alert`` (keep Sentry's default alert at creation).
    """

    service: str
    project_slug: str
    project_name: str
    platform: str
    keys: tuple[KeySpec, ...]
    current_key: str
    resolve_age_hours: int | None = None
    allowed_domains: tuple[str, ...] | None = None
    subject_prefix: str | None = None
    default_key: DefaultKeyPolicy = "delete"
    default_alert: bool = False


@dataclass(frozen=True)
class AlertCondition:
    """A workflow trigger or filter condition: ``{"type", "comparison", "conditionResult"}``.

    ``type`` e.g. ``first_seen_event``, ``regression_event``, ``event_frequency_count``,
    ``level``, ``tagged_event``; ``comparison`` is the type's parameter object (or ``True`` for
    types without parameters); ``result`` is the ``conditionResult``.
    """

    type: str
    comparison: Any = True
    result: bool = True


@dataclass(frozen=True)
class AlertAction:
    """A workflow action. ``type``: ``email|slack|pagerduty|discord|msteams|opsgenie|...``.

    ``target_type``: ``user|team|issue_owners|specific``; ``target_identifier``: user/team id or
    channel; ``integration_id``: required for non-email actions; ``data``: extra action data
    (e.g. ``{"fallthroughType": "ActiveMembers"}``).
    """

    type: str
    target_type: str = "issue_owners"
    target_identifier: str | None = None
    integration_id: str | None = None
    data: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class AlertSpec:
    """An alert (Sentry workflow) of this environment.

    ``name``: unique within the app; Sentry name ``[{app}/{stack}] {name}``.
    ``services``: the services whose projects' issue streams feed the alert.
    ``monitors``: names of :class:`MonitorSpec` whose detectors also feed it.
    ``triggers`` / ``trigger_logic`` (``any|any-short|all|none``): when the alert fires.
    ``filters`` / ``filter_logic``: the action filter's conditions. ``actions``: at least one.
    ``frequency_minutes``: one of 0, 5, 10, 30, 60, 180, 720, 1440.
    ``environment``: None = this stack's environment. ``owner``: ``team:<id>``/``user:<id>``/None.
    """

    name: str
    services: tuple[str, ...]
    actions: tuple[AlertAction, ...]
    triggers: tuple[AlertCondition, ...] = (
        AlertCondition("first_seen_event"),
        AlertCondition("regression_event"),
    )
    trigger_logic: str = "any-short"
    filters: tuple[AlertCondition, ...] = ()
    filter_logic: str = "all"
    monitors: tuple[str, ...] = ()
    frequency_minutes: int = 30
    environment: str | None = None
    owner: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class MonitorCondition:
    """A metric monitor condition: ``type`` ``gt|lte|anomaly_detection``, ``comparison`` threshold,
    ``result`` priority 75 (high), 50 (low) or 0 (resolved)."""

    type: str
    comparison: float
    result: int


@dataclass(frozen=True)
class MonitorSpec:
    """A metric monitor (Sentry detector ``metric_issue``) of this environment on one service.

    ``aggregate`` e.g. ``count()``, ``p95(transaction.duration)``; ``dataset`` e.g. ``events``,
    ``events_analytics_platform``; ``time_window_seconds`` (60..86400); ``query`` an event search;
    ``event_types`` (default by dataset); ``detection_type`` ``static|percent|dynamic``;
    ``comparison_delta_seconds`` for ``percent``; ``environment`` None = this stack's environment.
    """

    name: str
    service: str
    aggregate: str
    conditions: tuple[MonitorCondition, ...]
    dataset: str = "events"
    query: str = ""
    time_window_seconds: int = 3600
    event_types: tuple[str, ...] = ()
    detection_type: str = "static"
    comparison_delta_seconds: int | None = None
    environment: str | None = None
    owner: str | None = None
    description: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class InboundFilterSpec:
    """An inbound data filter of a service's project.

    ``filter_id``: ``browser-extensions|localhost|web-crawlers|filtered-transaction|legacy-browsers``.
    ``active`` for the boolean filters; ``subfilters`` for ``legacy-browsers`` (e.g. ``("ie",
    "safari")``). Filters are project-wide: in shared mode every stack must declare the same ones.
    """

    service: str
    filter_id: str
    active: bool = True
    subfilters: tuple[str, ...] | None = None


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
    """Raise :class:`SentryAppError` for the first inconsistency in `args` (naming what and where)."""
    if args.project_mode not in ("shared", "per-environment"):
        raise SentryAppError(f"project_mode {args.project_mode!r} is not allowed; allowed: shared, per-environment")
    for field_name in ("app", "environment", "stack", "team"):
        if not getattr(args, field_name):
            raise SentryAppError(f"{field_name} must not be empty")
    _unique("service", [s.service for s in args.services])
    services = {s.service for s in args.services}
    for svc in args.services:
        if not svc.keys:
            raise SentryAppError(f"service {svc.service!r} has no client key: declare at least one key generation")
        _unique(f"key generation of service {svc.service!r}", [k.generation for k in svc.keys])
        for key in svc.keys:
            if not _GENERATION.match(key.generation):
                raise SentryAppError(
                    f"service {svc.service!r}: key generation {key.generation!r} is invalid; use lowercase "
                    "letters, digits, '.', '_' and '-', starting with a letter or digit"
                )
        by_generation = {k.generation: k for k in svc.keys}
        current = by_generation.get(svc.current_key)
        if current is None:
            raise SentryAppError(
                f"service {svc.service!r}: current_key {svc.current_key!r} is not one of its key generations "
                f"({', '.join(sorted(by_generation))})"
            )
        if not current.active:
            raise SentryAppError(
                f"service {svc.service!r}: current_key {svc.current_key!r} is a disabled key (active=False); "
                "Sentry rejects events sent with a disabled key's DSN. Make an active generation current first"
            )
    _unique("alert", [a.name for a in args.alerts])
    _unique("monitor", [m.name for m in args.monitors])
    monitors = {m.name for m in args.monitors}
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
    _unique("inbound filter", [f"{f.service}/{f.filter_id}" for f in args.filters])
    for flt in args.filters:
        if flt.service not in services:
            raise SentryAppError(f"inbound filter {flt.filter_id!r} is on unknown service {flt.service!r}")


_GENERATION = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,40}$")


class SentryApp(pulumi.ComponentResource):
    """The Sentry side of one environment of the app (type ``sentry-stacks:index:SentryApp``).

    Raises :class:`SentryAppError` for inconsistent args, e.g. a ``current_key`` that names an
    inactive or unknown key generation (the message names the service and the generation).
    """

    dsns: dict[str, pulumi.Output[str]]
    keys: dict[str, dict[str, ClientKey]]
    projects: dict[str, Project]
    alerts: dict[str, pulumi.CustomResource]
    monitors: dict[str, pulumi.CustomResource]
    filters: dict[str, dict[str, InboundFilter]]

    def __init__(self, name: str, args: SentryAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sentry-stacks:index:SentryApp", name, None, opts)
        validate(args)
        self.args = args
        self.dsns, self.keys, self.projects = {}, {}, {}
        self.alerts, self.monitors, self.filters = {}, {}, {}
        self._slugs: dict[str, pulumi.Output[str]] = {}
        for svc in args.services:
            self._service(svc)
        for monitor in args.monitors:
            self._monitor(monitor)
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
        detectors = [
            m.detectorId for n, m in self.monitors.items() if n in spec.monitors and isinstance(m, MetricMonitor)
        ]
        self.alerts[spec.name] = Alert(logical, {
            "name": self._sentry_name(spec.name)[:256],
            "projects": [self._slugs[s] for s in spec.services],
            "projectIds": [self.projects[s].projectId for s in spec.services],
            "detectorIds": detectors,
            "triggers": {"logicType": spec.trigger_logic, "conditions": triggers},
            "actionFilters": [{"logicType": spec.filter_logic, "conditions": filters, "actions": actions}],
            "frequency": spec.frequency_minutes, "environment": environment, "owner": spec.owner,
            "enabled": spec.enabled, "adopt": OWN_NAME_ADOPT, "lookupFirst": a.adopt_existing,
        }, self._opts())

    def _filter(self, spec: InboundFilterSpec) -> None:
        a = self.args
        project = self.projects[spec.service]
        read_only: Any = project.adopted.apply(lambda adopted: bool(adopted)) if self.shared else False
        props: dict[str, Any] = {
            "project": project.slug, "filterId": spec.filter_id, "readOnly": read_only,
            "resetOnDelete": not self.shared or a.delete_shared_projects, "shared": self.shared,
        }
        if spec.filter_id == "legacy-browsers":
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
    "validate",
]
