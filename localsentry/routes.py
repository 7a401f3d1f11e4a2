"""The one router: every route module registers its paths here (imported by the app, never by a route module)."""

from __future__ import annotations

from localsentry import web
from localsentry.api import (
    alerts,
    artifact_bundles,
    client_keys,
    control,
    environments,
    events,
    explore,
    inbound_filters,
    internal,
    issues,
    legacy_metric_alerts,
    legacy_rules,
    metric_monitors,
    monitors,
    organizations,
    plugins,
    projects,
    release_files,
    releases,
    sessions,
    teams,
    workflow_fires,
)
from localsentry.http import Router
from localsentry.ingest import endpoints as ingest


def build_router() -> Router:
    router = Router()
    for module in (
        internal, organizations, teams, projects, client_keys, environments, inbound_filters, alerts, metric_monitors,
        monitors, legacy_rules, legacy_metric_alerts, releases, release_files, artifact_bundles, events, explore,
        issues, sessions, control, ingest, web, plugins, workflow_fires,
    ):  # fmt: skip
        module.register(router)
    return router
