"""The spec dataclasses: plain, frozen descriptions of the Sentry objects of one environment.

A leaf module (standard library only). The settings build these from the stack config, the program hands them
to :class:`~infra.components.sentry_app.SentryApp`; nothing here imports the layers above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ProjectMode = Literal["shared", "per-environment"]
DefaultKeyPolicy = Literal["keep", "deactivate", "delete"]


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
class SourceMapsSpec:
    """A service's built JavaScript with its hidden source maps (``services.<name>.sentry.sourceMaps``): uploaded to
    the service's Sentry project for the stack's release. ``path``: the folder (relative to the project root unless
    absolute); ``url_prefix``: where its files are served (``~/`` = any host); ``dist``: the release's dist."""

    path: str
    url_prefix: str = "~/"
    dist: str | None = None


@dataclass(frozen=True)
class SourceMapsUpload:
    """A service's build to upload: its folder (absolute), the content hash the program computed from it
    (:func:`~infra.sentry.source_maps_upload.bundle_hash`), the URL prefix it is served under and the dist."""

    service: str
    path: str
    bundle_hash: str
    url_prefix: str = "~/"
    dist: str | None = None


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
    #: the project's privacy fields (Sentry PUT keys: dataScrubber, scrubIPAddresses, sensitiveFields...);
    #: in shared mode already the strictest of the stacks sharing it (infra/privacy/); () = not managed
    privacy: tuple[tuple[str, Any], ...] = ()


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
    urls: tuple[str, ...] = ()  # webhook: the callback URLs of the WebHooks plugin of the alert's projects


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
    "safari")``; with no subfilters, ``active=True`` means all legacy browsers and ``active=False``
    none). Filters are project-wide: in shared mode every stack must declare the same ones.
    """

    service: str
    filter_id: str
    active: bool = True
    subfilters: tuple[str, ...] | None = None


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
    "ServiceSentrySpec",
    "SourceMapsSpec",
    "SourceMapsUpload",
]
