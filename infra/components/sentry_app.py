"""SentryApp: one environment's Sentry objects, built from the stack's settings in one place.

This is where the settings model's objects (:class:`~infra.settings.StackSettings`: each service's
``ServiceSentrySettings``, its ``ServiceKeysSettings``, the ``AlertSettings``, ``MonitorSettings`` and cron monitors)
become the Sentry resources' typed inputs (:mod:`infra.sentry`), the only place it happens: a field both declare
under the same name (``platform``, ``resolve_age_hours``, ``active``, ``time_window_seconds``...) is copied by
:func:`shared`, and what depends on the stack (names, slugs, the stack's environment, shared-project flags) is set
here. The resources are served by the ``sentrystacks`` provider plugin given in ``provider``.

Naming (stable; changing it renames Sentry objects):

* Pulumi logical names: ``{stack}-{service}`` (project), ``{stack}-{service}-key-{generation}``,
  ``{stack}-alert-{name}``, ``{stack}-monitor-{name}``, ``{stack}-{service}-filter-{filter_id}``,
  ``{stack}-cron-{name}``, ``{stack}-release``, ``{stack}-deploy-start``, ``{stack}-sentry-deploy``,
  ``{stack}-{service}-sourcemaps``.
* Sentry project slug: the service's ``project`` in ``"shared"`` mode, ``{project}-{stack}`` in
  ``"per-environment"`` mode. Key name: ``{stack}-{generation}``. Alert / monitor name: ``[{app}/{stack}] {name}``.

Public attributes: ``dsns`` (service -> secret DSN of its current key), ``keys`` (service -> generation ->
ClientKey), ``projects``, ``alerts``, ``monitors``, ``filters`` (service -> filter id -> resource), ``cron_monitors``,
``release``, ``source_maps`` (service -> the build's source maps in its project for the stack's release, from the
``source_maps`` uploads the program found); :meth:`deploy_start` and :meth:`record_deploy` add the deploy record
around the containers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

import pulumi
from pydantic import BaseModel

from infra import privacy as pv
from infra import sdk_debug, stack_trace
from infra.components.sentry_resources import (
    Alert,
    ClientKey,
    CronMonitor,
    Deploy,
    DeployStart,
    InboundFilter,
    IssueAlert,
    MetricAlert,
    MetricMonitor,
    Project,
    Release,
    SentryStacks,
    SourceMaps,
    ref,
)
from infra.crons import CronMonitorSpec
from infra.sentry.alert_model import AlertInputs
from infra.sentry.client_key_model import ClientKeyInputs
from infra.sentry.cron_monitor_model import CronMonitorInputs
from infra.sentry.deploy import DeployInputs, DeployStartInputs, deploy_name
from infra.sentry.inbound_filter import InboundFilterInputs
from infra.sentry.issue_alert import IssueAlertInputs
from infra.sentry.legacy_model import LegacyConversionError, issue_rule_from_workflow, metric_alert_from_monitor
from infra.sentry.metric_alert import MetricAlertInputs
from infra.sentry.metric_monitor_model import MetricMonitorInputs
from infra.sentry.project_model import ProjectInputs
from infra.sentry.release import ReleaseInputs
from infra.sentry.shape import SentryModel, declared, parse, props_of
from infra.sentry.source_maps import SourceMapsInputs
from infra.sentry.source_maps_upload import SourceMapsUpload
from infra.settings import ServiceSettings, StackSettings
from infra.settings.sentry_objects import (
    DEFAULT_TRIGGER_TYPES,
    ActionSettings,
    AlertSettings,
    ConditionSettings,
    MonitorSettings,
)

M = TypeVar("M", bound=SentryModel)
# Keys, alerts and monitors carry this stack's name in their Sentry names ("{stack}-{generation}",
# "[app/stack] name"), so an object found under such a name at create time is this stack's own: a create
# interrupted by a crash (kill -9 of the CLI) whose POST had landed. Adopting it is what makes the rerun
# converge without a duplicate. (adoptExisting still governs projects, whose slugs are not stack-scoped.)
# Such a create looks its name up first only when a killed run may have made it (infra/sentry/recovery.py) or
# its POST's outcome is unknown (`lookupFirst: False`), or always when the stack adopts existing objects.
OWN_NAME_ADOPT = True
#: the triggers of an alert that declares none
DEFAULT_TRIGGERS = tuple({"type": kind} for kind in DEFAULT_TRIGGER_TYPES)


class SentryAppError(ValueError):
    """Settings that cannot become Sentry objects (raised at construction, i.e. during preview)."""


def shared(source: BaseModel, target: type[M], **values: Any) -> M:
    """`target` built from `values` and from every field of `source` that `target` declares under the same name
    (the settings model and a resource's inputs share a field by declaring it with the same name and type)."""
    given = {name: _dump(getattr(source, name)) for name in type(source).model_fields if name in target.model_fields}
    return parse(target, {**given, **values})


def _dump(value: Any) -> Any:
    """Settings objects as plain values (the inputs validate them as their own types)."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _name_part(text: str) -> str:
    """`text` as a logical-name fragment: lowercase, runs of other characters turned into '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _condition(cond: ConditionSettings) -> dict[str, Any]:
    return {"type": cond.type, "comparison": cond.comparison, "conditionResult": cond.result}


def _action(action: ActionSettings) -> dict[str, Any]:
    config: dict[str, Any] = {"targetType": action.target_type}
    if action.target_identifier is not None:
        config["targetIdentifier"] = action.target_identifier
    return {"type": action.type, "integrationId": action.integration_id, "data": dict(action.data), "config": config}


class SentryApp(pulumi.ComponentResource):
    """The Sentry side of one environment of the app (type ``sentry-stacks:index:SentryApp``)."""

    dsns: dict[str, pulumi.Output[str]]
    keys: dict[str, dict[str, ClientKey]]
    projects: dict[str, Project]
    alerts: dict[str, pulumi.CustomResource]
    monitors: dict[str, pulumi.CustomResource]
    filters: dict[str, dict[str, InboundFilter]]
    cron_monitors: dict[str, CronMonitor]
    release: Release | None
    source_maps: dict[str, SourceMaps]

    def __init__(self, name: str, settings: StackSettings, provider: SentryStacks,
                 opts: pulumi.ResourceOptions | None = None, source_maps: Sequence[SourceMapsUpload] = ()) -> None:
        stack_trace.trim()  # the state keeps only the program's frames of each registration (infra/stack_trace.py)
        sdk_debug.quiet()  # no debug message per registration to the engine, unless asked for (infra/sdk_debug.py)
        super().__init__("sentry-stacks:index:SentryApp", name, None,
                         pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers={"sentrystacks":
                                                                                              provider})))
        if settings.sentry.team is None:
            raise SentryAppError("no Sentry team: set sentry-stacks:team")
        self.settings, self.team = settings, settings.sentry.team
        self.dsns, self.keys, self.projects = {}, {}, {}
        self.alerts, self.monitors, self.filters = {}, {}, {}
        self.cron_monitors, self.release, self.source_maps = {}, None, {}
        self._slugs: dict[str, pulumi.Output[str]] = {}  # a project's slug, with the project as its dependency
        for svc in settings.sentry_services():
            self._service(svc)
        for monitor_name, monitor in settings.monitors.items():
            self._monitor(monitor_name, monitor)
        for cron in settings.cron_monitors:
            self._cron_monitor(cron)
        self._release()
        for upload in source_maps:
            self._source_maps(upload)
        for alert_name, alert in settings.alerts.items():
            self._alert(alert_name, alert)
        for svc in settings.sentry_services():
            for filter_id, value in sorted(svc.sentry.inbound_filters.items() if svc.sentry else ()):
                self._filter(svc.name, filter_id, value)
        # nothing that grows with the stack in the component's own state entry: the program exports what it needs
        self.register_outputs({})

    @property
    def shared(self) -> bool:
        return self.settings.project_mode == "shared"

    def _opts(self, **kw: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kw)

    def project_slug(self, project: str) -> str:
        """The Sentry slug of a service's project in this stack's mode."""
        return project if self.shared else f"{project}-{_name_part(self.settings.stack)}"[:100]

    def _sentry_of(self, service: str) -> str:
        sentry = self.settings.service(service).sentry
        assert sentry is not None
        return sentry.project

    def _known_slugs(self) -> list[str]:
        """The slugs of the stack's projects, as known values (their resources are dependencies of the user)."""
        return [self.project_slug(self._sentry_of(svc)) for svc in self.projects]

    def _sentry_name(self, name: str) -> str:
        return f"[{self.settings.app}/{self.settings.stack}] {name}"

    def _service(self, svc: ServiceSettings) -> None:
        s, sentry = self.settings, svc.sentry
        assert sentry is not None
        name = sentry.name or sentry.project
        if not self.shared and len(f"{name} ({s.stack})") <= 50:
            name = f"{name} ({s.stack})"
        privacy = pv.project_values(s.privacy, s.shared_privacy)
        inputs = shared(
            sentry, ProjectInputs, slug=self.project_slug(sentry.project), name=name, teams=[self.team],
            shared=self.shared, delete_on_destroy=s.delete_shared_projects if self.shared else True,
            adopt=s.adopt_existing, stack=s.stack,
            # defaultKey delete: the current key takes over Sentry's "Default" key (one write, not a delete + create)
            default_key_reuse=True if sentry.default_key == "delete" else None,
            privacy_others=dict(s.shared_privacy.others) if self.shared and s.shared_privacy else
            ({} if self.shared else None),
        )
        project = Project(f"{s.stack}-{_name_part(svc.name)}", inputs.with_settings(privacy), self._opts())
        self.projects[svc.name], self._slugs[svc.name] = project, project.slug
        keys = s.keys_for(svc.name)
        self.keys[svc.name] = {}
        for generation, key in keys.generations.items():
            takes_default = sentry.default_key == "delete" and generation == keys.current
            key_inputs = shared(
                key, ClientKeyInputs, project=ref(project.slug), name=f"{s.stack}-{generation}",
                loader=key.loader if key.loader is not None and props_of(key.loader) else None,
                adopt=OWN_NAME_ADOPT, lookup_first=s.adopt_existing,
                reuse_default=ref(project.adopted.apply(lambda adopted: not adopted)) if takes_default else None)
            self.keys[svc.name][generation] = ClientKey(
                f"{s.stack}-{_name_part(svc.name)}-key-{generation}", key_inputs, self._opts())
        self.dsns[svc.name] = pulumi.Output.secret(self.keys[svc.name][keys.current].dsn)

    def _monitor(self, name: str, spec: MonitorSettings) -> None:
        s = self.settings
        logical = f"{s.stack}-monitor-{_name_part(name)}"
        common: dict[str, Any] = {
            "project": ref(self._slugs[s.owner_of(spec.service)]), "name": self._sentry_name(name)[:200],
            "environment": spec.environment or s.environment, "event_types": spec.event_types or None,
            "adopt": OWN_NAME_ADOPT,
        }
        if s.legacy_alerts:
            conditions = [{"type": c.type, "comparison": c.comparison, "conditionResult": c.result}
                          for c in spec.conditions]
            actions = [_action(act) for alert in s.alerts.values() if name in alert.monitors for act in alert.actions]
            try:
                fields = metric_alert_from_monitor(conditions, spec.time_window_seconds, actions)
            except LegacyConversionError as exc:
                raise SentryAppError(f"monitor {name!r}: {exc}") from None
            delta = spec.comparison_delta_seconds // 60 if spec.comparison_delta_seconds else None
            self.monitors[name] = MetricAlert(logical, parse(MetricAlertInputs, {
                **_props(common), "aggregate": spec.aggregate, "dataset": spec.dataset, "query": spec.query,
                "owner": spec.owner, **fields, "comparisonDelta": delta}), self._opts())
            return
        self.monitors[name] = MetricMonitor(logical, shared(spec, MetricMonitorInputs, **common,
                                                            lookup_first=s.adopt_existing), self._opts())

    def _alert(self, name: str, spec: AlertSettings) -> None:
        s = self.settings
        logical = f"{s.stack}-alert-{_name_part(name)}"
        services = list(dict.fromkeys(s.owner_of(svc) for svc in spec.services))
        triggers = [_condition(c) for c in spec.triggers] if spec.triggers is not None else list(DEFAULT_TRIGGERS)
        filters = [_condition(c) for c in spec.filters]
        actions = [_action(act) for act in spec.actions]
        if s.legacy_alerts:
            try:
                rule = issue_rule_from_workflow([_condition_of(t) for t in triggers], spec.trigger_logic, filters,
                                                spec.filter_logic, actions, spec.frequency_minutes)
            except LegacyConversionError as exc:
                raise SentryAppError(f"alert {name!r}: {exc}") from None
            # A legacy rule belongs to one project, and may only name an environment that already exists in
            # Sentry (environments appear with the first event): the stack's environment is not implied here.
            for svc in services:
                self.alerts[f"{name}/{svc}"] = IssueAlert(f"{logical}-{_name_part(svc)}", parse(IssueAlertInputs, {
                    "project": ref(self._slugs[svc]), "name": self._sentry_name(name)[:256], **rule,
                    "environment": spec.environment, "owner": spec.owner, "adopt": OWN_NAME_ADOPT,
                }), self._opts())
            return
        detector_ids: list[Any] = [
            m.detectorId for n, m in self.monitors.items() if n in spec.monitors and isinstance(m, MetricMonitor)]
        detector_ids += [c.detectorId for n, c in self.cron_monitors.items() if n in spec.monitors]
        detectors: Any = detector_ids
        if any(n in spec.monitors for n in self.cron_monitors):  # a server without cron detectors gives ""
            detectors = ref(pulumi.Output.all(*detector_ids).apply(lambda ids: [i for i in ids if i]))
        self.alerts[name] = Alert(logical, parse(AlertInputs, {
            "name": self._sentry_name(name)[:256],
            # the slugs as known values: the alert depends on the projects through projectIds, once (a list of
            # dependencies per property grows with the stack, in every checkpoint)
            "projects": [self.project_slug(self._sentry_of(svc)) for svc in services],
            "projectIds": [self.projects[svc].projectId for svc in services],
            "detectorIds": detectors,
            "triggers": {"logicType": spec.trigger_logic, "conditions": [_condition_of(t) for t in triggers]},
            "actionFilters": [{"logicType": spec.filter_logic, "conditions": filters, "actions": actions}],
            "frequency": spec.frequency_minutes, "environment": spec.environment or s.environment,
            "owner": spec.owner, "enabled": spec.enabled, "adopt": OWN_NAME_ADOPT, "lookupFirst": s.adopt_existing,
            "webhookUrls": sorted({url for act in spec.actions for url in act.urls}) or None,
        }), self._opts())

    def _cron_monitor(self, spec: CronMonitorSpec) -> None:
        s, cron = self.settings, spec.settings
        self.cron_monitors[spec.name] = CronMonitor(f"{s.stack}-cron-{_name_part(spec.name)}", shared(
            cron, CronMonitorInputs, project=ref(self._slugs[spec.service]), slug=spec.slug,
            name=self._sentry_name(spec.name)[:128], schedule_type=cron.schedule_type, schedule=cron.sentry_schedule(),
            status="active" if cron.enabled else "disabled", muted=cron.muted,
            environment=cron.environment or s.environment, adopt=s.adopt_existing,
        ), self._opts())

    def _release(self) -> None:
        s, tracking = self.settings, self.settings.release_tracking
        if not tracking.enabled or not s.release or not self._slugs:
            return
        self.release = Release(f"{s.stack}-release", ReleaseInputs(
            version=s.release, projects=self._known_slugs(), url=tracking.url, environment=s.environment,
            shared=self.shared, delete_on_destroy=tracking.delete_on_destroy and not self.shared),
            self._opts(depends_on=list(self.projects.values())))

    def _source_maps(self, upload: SourceMapsUpload) -> None:
        s = self.settings
        if not s.release:
            return
        if upload.service not in self.projects:
            raise SentryAppError(f"source maps of unknown service {upload.service!r}")
        after = [self.projects[upload.service], *([self.release] if self.release is not None else [])]
        self.source_maps[upload.service] = SourceMaps(f"{s.stack}-{_name_part(upload.service)}-sourcemaps",
                                                      SourceMapsInputs(
            project=self.project_slug(self._sentry_of(upload.service)), release=s.release, dist=upload.dist,
            url_prefix=upload.url_prefix, path=upload.path, bundle_hash=upload.bundle_hash,
        ), self._opts(depends_on=after))  # fmt: skip

    def before_deploy(self) -> list[pulumi.Resource]:
        """What the containers wait for: the cron monitors (else the SDK's first check-in would create them), the
        release, and the source maps (an event of the new build is symbolicated when it arrives, never later)."""
        return [*self.cron_monitors.values(), *([self.release] if self.release is not None else []),
                *self.source_maps.values()]

    def deploy_start(self, fingerprint: pulumi.Input[str]) -> DeployStart | None:
        """The marker of when the rollout of `fingerprint` (e.g. the compose file's hash) began, or None when the
        stack records no deploys. Create it before the containers."""
        if self.release is None or not self.settings.release_tracking.deploys:
            return None
        s = self.settings
        return DeployStart(f"{s.stack}-deploy-start", declared(DeployStartInputs.model_construct(
            version=ref(self.release.version), environment=s.environment,
            fingerprint=ref(pulumi.Output.from_input(fingerprint)))), self._opts())

    def record_deploy(self, start: DeployStart | None, fingerprint: pulumi.Input[str],
                      after: pulumi.Resource) -> Deploy | None:
        """The deploy record of the release to this environment, written once `after` (the containers) is done."""
        if start is None or self.release is None:
            return None
        s = self.settings
        fp = pulumi.Output.from_input(fingerprint)
        return Deploy(f"{s.stack}-sentry-deploy", declared(DeployInputs.model_construct(
            version=ref(self.release.version), environment=s.environment,
            projects=self._known_slugs(),
            name=ref(fp.apply(lambda value: deploy_name(s.stack, value))), date_started=ref(start.dateStarted),
            fingerprint=ref(fp))), self._opts(depends_on=[after, start, *self.projects.values()]))

    def _filter(self, service: str, filter_id: str, value: bool | list[str]) -> None:
        s, project = self.settings, self.projects[service]
        read_only: Any = ref(project.adopted.apply(lambda adopted: bool(adopted))) if self.shared else False
        props: dict[str, Any] = {
            "project": ref(project.slug), "filterId": filter_id, "readOnly": read_only,
            "resetOnDelete": not self.shared or s.delete_shared_projects, "shared": self.shared,
        }
        if filter_id == "legacy-browsers" and value is True:
            props["active"] = True  # all legacy browsers (Sentry's `active: true`), not none
        elif filter_id == "legacy-browsers":
            props["subfilters"] = list(value) if isinstance(value, list) else []
        else:
            props["active"] = bool(value)
        self.filters.setdefault(service, {})[filter_id] = InboundFilter(
            f"{s.stack}-{_name_part(service)}-filter-{filter_id}", parse(InboundFilterInputs, props), self._opts())


def _condition_of(cond: dict[str, Any]) -> dict[str, Any]:
    """A condition with the defaults of a workflow condition filled in."""
    return {"comparison": True, "conditionResult": True, **cond}


def _props(values: dict[str, Any]) -> dict[str, Any]:
    """Attribute names -> Pulumi names, for the legacy resources built from props."""
    aliases = {"event_types": "eventTypes"}
    return {aliases.get(k, k): v for k, v in values.items()}


__all__ = ["OWN_NAME_ADOPT", "SentryApp", "SentryAppError", "shared"]
