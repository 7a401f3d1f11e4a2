"""The management API, one module per resource family, mirroring infra/sentry/<singular>.py."""

from __future__ import annotations

from localsentry.http import Router


def build_router() -> Router:
    from localsentry import web
    from localsentry.api import (
        alerts,
        client_keys,
        control,
        environments,
        events,
        inbound_filters,
        legacy_metric_alerts,
        legacy_rules,
        metric_monitors,
        organizations,
        projects,
        releases,
        teams,
    )
    from localsentry.ingest import endpoints as ingest

    router = Router()
    for module in (
        organizations, teams, projects, client_keys, environments, inbound_filters, alerts, metric_monitors,
        legacy_rules, legacy_metric_alerts, releases, events, control, ingest, web,
    ):  # fmt: skip
        module.register(router)
    return router
