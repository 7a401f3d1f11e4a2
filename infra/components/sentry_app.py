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

from dataclasses import dataclass
from typing import Any, Literal

import pulumi

ProjectMode = Literal["shared", "per-environment"]
DefaultKeyPolicy = Literal["keep", "deactivate", "delete"]


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
    only; refused against sentry.io).
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


class SentryApp(pulumi.ComponentResource):
    """The Sentry side of one environment of the app (type ``sentry-stacks:index:SentryApp``).

    Raises :class:`SentryAppError` for inconsistent args, e.g. a ``current_key`` that names an
    inactive or unknown key generation (the message names the service and the generation).
    """

    dsns: dict[str, pulumi.Output[str]]
    keys: dict[str, dict[str, Any]]
    projects: dict[str, Any]
    alerts: dict[str, Any]
    monitors: dict[str, Any]
    filters: dict[str, dict[str, Any]]

    def __init__(self, name: str, args: SentryAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sentry-stacks:index:SentryApp", name, None, opts)
        self.dsns = {}
        self.keys = {}
        self.projects = {}
        self.alerts = {}
        self.monitors = {}
        self.filters = {}
        self.register_outputs({})


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
]
