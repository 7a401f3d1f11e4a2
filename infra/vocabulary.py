"""Sentry's value sets, declared once: the settings model and the providers' models both import them.

A leaf module (standard library only). Where earlier copies in the toolkit disagreed, the set here follows
Sentry's published API description (``../shared/sentry-api/``) and the reference notes
(``../shared/reference/sentry-api.md``); each constant says where it comes from.
"""

from __future__ import annotations

import re

#: Sentry's platform ids: ``GETTING_STARTED_DOCS_PLATFORMS`` (``src/sentry/models/project.py``) across the
#: releases this toolkit talks to (ids added by newer releases included, none removed), plus ``other``.
#: The console platforms (nintendo-switch, playstation, xbox) also need an organization opt-in.
PLATFORMS: frozenset[str] = frozenset(
    """
    android apple apple-ios apple-macos bun capacitor cloudflare-pages cloudflare-workers cordova dart deno
    dotnet dotnet-aspnet dotnet-aspnetcore dotnet-awslambda dotnet-gcpfunctions dotnet-maui dotnet-uwp
    dotnet-winforms dotnet-wpf dotnet-xamarin electron elixir flutter go go-echo go-fasthttp go-fiber go-gin
    go-http go-iris go-martini go-negroni ionic java java-log4j2 java-logback java-spring java-spring-boot
    javascript javascript-angular javascript-astro javascript-ember javascript-gatsby javascript-nextjs
    javascript-nuxt javascript-react javascript-react-router javascript-remix javascript-solid
    javascript-solidstart javascript-svelte javascript-sveltekit javascript-tanstackstart-react javascript-vue
    kotlin minidump native native-qt nintendo-switch node node-awslambda node-azurefunctions
    node-cloudflare-pages node-cloudflare-workers node-connect node-express node-fastify node-gcpfunctions
    node-hapi node-koa node-nestjs other php php-laravel php-symfony playstation powershell python
    python-aiohttp python-asgi python-awslambda python-bottle python-celery python-chalice python-django
    python-falcon python-fastapi python-flask python-gcpfunctions python-pylons python-pymongo python-pyramid
    python-quart python-rq python-sanic python-serverless python-starlette python-tornado python-tryton
    python-wsgi react-native ruby ruby-rack ruby-rails rust unity unreal xbox
    """.split()
)

#: Slugs of organizations, teams and projects (``^(?![0-9]+$)[a-z0-9_\-]+$``; projects at most 100 long).
SLUG_RE = re.compile(r"^(?![0-9]+$)[a-z0-9_\-]+$")
SLUG_RULE = "a slug: lowercase letters, digits, '-' and '_', not only digits (^(?![0-9]+$)[a-z0-9_\\-]+$)"
PROJECT_SLUG_MAX = 100
TEAM_SLUG_MAX = 50
PROJECT_NAME_MAX = 50

#: Owners of alerts and monitors.
OWNER_RE = re.compile(r"^(team|user):[0-9]+$")

#: What to do with the "Default" key Sentry creates with a project.
DEFAULT_KEY_POLICIES = ("keep", "deactivate", "delete")

#: Client-key generation labels of this toolkit (part of the key's Sentry name ``{stack}-{generation}``).
GENERATION_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
GENERATION_RULE = "1-32 of a-z, 0-9, '_', '.', '-', starting with a letter or digit"

# --------------------------------------------------------------------------- workflows (alerts)

#: ``triggers.logicType`` and ``actionFilters[].logicType``.
LOGIC_TYPES = ("any", "any-short", "all", "none")
#: ``config.frequency`` in minutes (the documented values).
FREQUENCIES = (0, 5, 10, 30, 60, 180, 720, 1440)
#: Workflow action types, as the workflow API documents them, plus ``webhook`` (Sentry's ``Action.Type.WEBHOOK``:
#: ``config.targetIdentifier`` names the service, ``webhooks`` being the legacy WebHooks plugin, which POSTs to the
#: callback URLs of the project's plugin). Actions of other kinds (sentry_app) come from an installed integration.
ACTION_TYPES = (
    "discord", "email", "github", "jira", "jira_server", "msteams", "opsgenie", "pagerduty", "slack", "vsts",
    "webhook",
)
#: Action types that need no integration id (Sentry's ``Action.Type.is_integration()`` is false for them).
NON_INTEGRATION_ACTIONS = ("email", "plugin", "sentry_app", "webhook")
#: The legacy WebHooks plugin: its slug (a webhook action's ``targetIdentifier``).
WEBHOOKS_PLUGIN = "webhooks"
#: ``config.targetType`` of a workflow action.
TARGET_TYPES = ("issue_owners", "specific", "team", "user")
TRIGGER_TYPES = (
    "first_seen_event", "regression_event", "reappeared_event", "issue_resolved_trigger",
    "seer_activity_trigger", "new_high_priority_issue", "existing_high_priority_issue",
)
FILTER_TYPES = (
    "age_comparison", "assigned_to", "issue_category", "issue_occurrences", "issue_priority_deescalating",
    "issue_priority_greater_or_equal", "event_unique_user_frequency_count", "event_frequency_count",
    "event_frequency_percent", "percent_sessions_count", "percent_sessions_percent", "event_attribute",
    "tagged_event", "latest_release", "latest_adopted_release", "level",
)

# --------------------------------------------------------------------------- detectors (metric monitors)

#: Snuba datasets of a metric monitor's data source.
DATASETS = ("events", "events_analytics_platform", "generic_metrics", "metrics", "sessions", "transactions")
#: The ``queryType`` each dataset implies (0 error, 1 transaction, 2 crash rate).
QUERY_TYPES = {"events": 0, "transactions": 1, "generic_metrics": 1, "events_analytics_platform": 1,
               "metrics": 2, "sessions": 2}
#: Metric windows in MINUTES (the legacy metric-alert API's documented values).
METRIC_WINDOWS_MINUTES = (1, 5, 10, 15, 30, 60, 120, 240, 1440)
#: The same windows in SECONDS, the unit of a detector's ``timeWindow``.
MONITOR_WINDOWS = tuple(m * 60 for m in METRIC_WINDOWS_MINUTES)
DETECTION_TYPES = ("dynamic", "percent", "static")
#: ``config.comparisonDelta`` of a percent detector, in seconds.
COMPARISON_DELTAS = (300, 900, 3600, 86400, 604800, 2592000)
MONITOR_CONDITION_TYPES = ("anomaly_detection", "gt", "lte")
#: ``conditionResult``: 75 high priority, 50 low, 0 resolved.
MONITOR_RESULTS = (0, 50, 75)
EVENT_TYPES = ("error", "default", "transaction", "trace_item_span", "trace_item_log")

# --------------------------------------------------------------------------- inbound filters

FILTER_IDS = ("browser-extensions", "filtered-transaction", "legacy-browsers", "localhost", "web-crawlers")
#: Subfilters of ``legacy-browsers``.
SUBFILTERS = ("ie", "edge", "safari", "firefox", "chrome", "opera", "android", "opera_mini",
              "ie_pre_9", "ie9", "ie10", "ie11", "opera_pre_15", "android_pre_4", "safari_pre_6",
              "opera_mini_pre_8", "edge_pre_79")

#: Where a build's files are served, as sentry-cli's ``--url-prefix`` and the artifact bundles name them: ``~/``
#: (any host) or an absolute ``https://host/`` or ``app:///`` URL, then a path.
URL_PREFIX_RE = re.compile(r"^(~/|https?://[^\s/]+/|[a-z][a-z0-9+.-]*:///)\S*$")
URL_PREFIX_RULE = "'~/' (any host), 'https://host/' or 'app:///', then a path, e.g. '~/static/js'"
#: A webhook action's callback URL.
WEBHOOK_URL_RE = re.compile(r"^https?://[^/\s]+(/\S*)?$")
#: A release's distribution (``dist``): at most 64 characters, no '/' or whitespace.
DIST_RE = re.compile(r"^[^\s/]{1,64}$")
DIST_RULE = "a dist name: 1-64 characters, no '/' or spaces"


__all__ = [
    "ACTION_TYPES",
    "COMPARISON_DELTAS",
    "DATASETS",
    "DEFAULT_KEY_POLICIES",
    "DETECTION_TYPES",
    "DIST_RE",
    "DIST_RULE",
    "EVENT_TYPES",
    "FILTER_IDS",
    "FILTER_TYPES",
    "FREQUENCIES",
    "GENERATION_RE",
    "GENERATION_RULE",
    "LOGIC_TYPES",
    "METRIC_WINDOWS_MINUTES",
    "MONITOR_CONDITION_TYPES",
    "MONITOR_RESULTS",
    "MONITOR_WINDOWS",
    "NON_INTEGRATION_ACTIONS",
    "OWNER_RE",
    "PLATFORMS",
    "PROJECT_NAME_MAX",
    "PROJECT_SLUG_MAX",
    "QUERY_TYPES",
    "SLUG_RE",
    "SLUG_RULE",
    "SUBFILTERS",
    "TARGET_TYPES",
    "TEAM_SLUG_MAX",
    "TRIGGER_TYPES",
    "URL_PREFIX_RE",
    "URL_PREFIX_RULE",
    "WEBHOOKS_PLUGIN",
    "WEBHOOK_URL_RE",
]
