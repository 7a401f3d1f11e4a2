"""One environment mapping per service: what its ``.env`` file says and what its container gets.

:func:`service_env` builds it from the service's own ``environment``, its listen address and, for a service that
reports to Sentry, the values the stack decides (DSN, environment, release, rates, data collection, debug, the cron
monitors it runs, whether events are logged). Which of those values a service gets, under which names, is the
variables contract's (``packages/contract.json``, read by infra/contract.py), by the service's framework:

* the process reads the contract's server variables for its SDK (``SENTRY_PROFILE_*`` only for Python; a foreign
  SDK's service, Go, Ruby, Java..., none that only a runtime package reads, such as ``SENTRY_STACKS_LOG_EVENTS``),
  each value in that SDK's shape (``SENTRY_DATA_COLLECTION``: sentry-python's ``data_collection`` or the JavaScript
  SDK's ``dataCollection``; ``SENTRY_STACKS_CRON_MONITORS``: each SDK's monitor config; a foreign SDK's code gets
  sentry-python's to map);
* a framework with a browser gets copies of the contract's public variables under its public prefix (``PUBLIC_``
  SvelteKit, ``NEXT_PUBLIC_`` Next.js, ``VITE_`` Vite, ``NUXT_PUBLIC_`` Nuxt), the browser's DSN without
  ``dsnHost`` (the browser is not in a container). Nothing else ever gets a public name: a ``SENTRY_*`` variable of
  the service's own environment (a token, say) stays where it is.

``SENTRY_STACKS_LOG_EVENTS``: the runtime packages log events instead of sending them in development environments
(the contract's ``developmentEnvironments``) unless told otherwise; a deployed stack sends, so the toolkit renders
``false`` there (for a service a runtime package runs), unless the service's own environment sets it (``true`` keeps
a noisy stack's events local).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import infra.contract as contract
from infra import privacy as pv
from infra.crons import CronMonitorSpec
from infra.sampling import SampleRates, format_rate
from infra.settings import ServiceSettings, StackSettings

LOG_EVENTS = "SENTRY_STACKS_LOG_EVENTS"
CRON_MONITORS = "SENTRY_STACKS_CRON_MONITORS"
#: sentry-python's monitor_config keys; the JavaScript SDK's MonitorConfig has the same in camelCase
_MONITOR_KEYS = {"checkin_margin": "checkinMargin", "max_runtime": "maxRuntime",
                 "failure_issue_threshold": "failureIssueThreshold", "recovery_threshold": "recoveryThreshold"}


def container_dsn(dsn: str, dsn_host: str | None) -> str:
    """The DSN as containers see it: with ``dsnHost`` its host (and port) replaced."""
    if not dsn_host or not dsn:
        return dsn
    parts = urlsplit(dsn)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{dsn_host}" if userinfo else dsn_host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def monitor_config(spec: CronMonitorSpec, sdk: str) -> dict[str, Any]:
    """The SDK's monitor config of a cron monitor, exactly as the stack declares the Sentry monitor (a check-in that
    carries it upserts the monitor: it must never say anything else)."""
    c = spec.settings
    schedule: dict[str, Any]
    if c.interval is not None:
        schedule = {"type": "interval", "value": c.interval.every, "unit": c.interval.unit}
    else:
        schedule = {"type": "crontab", "value": c.schedule}
    config = {"schedule": schedule, "timezone": c.timezone, "checkin_margin": c.checkin_margin_minutes,
              "max_runtime": c.max_runtime_minutes, "failure_issue_threshold": c.failure_issue_threshold,
              "recovery_threshold": c.recovery_threshold}  # fmt: skip
    return config if contract.value_shape(sdk) == "python" else {_MONITOR_KEYS.get(k, k): v for k, v in config.items()}


def cron_monitors_json(settings: StackSettings, svc: ServiceSettings) -> str:
    """``SENTRY_STACKS_CRON_MONITORS`` of a service: name -> {slug, config} of the cron monitors it runs."""
    monitors = {name: {"slug": settings.cron_monitor(name).slug,
                       "config": monitor_config(settings.cron_monitor(name), svc.sdk)}
                for name in svc.cron_monitors}  # fmt: skip
    return json.dumps(monitors, sort_keys=True, separators=(",", ":"))


def sentry_values(settings: StackSettings, svc: ServiceSettings, dsn: str, rates: SampleRates) -> dict[str, str]:
    """Every contract variable the stack gives this service a value for (before names are chosen)."""
    collection = settings.privacy.collection
    python = contract.value_shape(svc.sdk) == "python"
    options = pv.python_options(collection) if python else pv.javascript_options(collection)
    values = {
        "SENTRY_DEBUG": "true" if settings.debug else "false",
        "SENTRY_DSN": dsn,
        "SENTRY_ENVIRONMENT": settings.environment,
        "SENTRY_RELEASE": settings.release,
        "SENTRY_SAMPLE_RATE": format_rate(rates.errors),
        "SENTRY_TRACES_SAMPLE_RATE": format_rate(rates.traces),
        "SENTRY_PROFILES_SAMPLE_RATE": format_rate(rates.profiles),
        "SENTRY_PROFILE_SESSION_SAMPLE_RATE": format_rate(rates.profile_session),
        "SENTRY_PROFILE_LIFECYCLE": rates.profile_lifecycle,
        "SENTRY_DATA_COLLECTION": pv.env_json(options),
        "SENTRY_REPLAYS_SESSION_SAMPLE_RATE": format_rate(rates.replays_session),
        "SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE": format_rate(rates.replays_on_error),
    }
    if settings.environment.strip().lower() in contract.development_environments():
        values[LOG_EVENTS] = "false"  # deployed: send (the runtime's default would log)
    if svc.cron_monitors:
        values[CRON_MONITORS] = cron_monitors_json(settings, svc)
    return values


def service_env(
    settings: StackSettings, svc: ServiceSettings, dsns: Mapping[str, str], rates: SampleRates
) -> dict[str, str]:
    """The one environment mapping of a service (keys sorted)."""
    env: dict[str, str] = dict(svc.environment)
    if svc.port is not None:
        env["PORT"] = str(svc.port)
        env["BIND"] = svc.bind
    if svc.env_template != "service":
        assert svc.dsn_service is not None
        dsn = dsns.get(svc.dsn_service)
        if dsn is None:
            raise KeyError(f"no DSN for service {svc.dsn_service} (used by {svc.name})")
        values = sentry_values(settings, svc, dsn, rates)
        own = dict(env)
        env.update({name: values[name] for name in contract.server_names(svc.sdk) if name in values})
        env["SENTRY_DSN"] = container_dsn(dsn, settings.dsn_host)
        prefix = contract.public_prefix(svc.framework)
        if prefix:
            env.update({f"{prefix}{name}": values[name] for name in contract.rendered_public_names()})
        env.update({k: v for k, v in own.items() if k == LOG_EVENTS})  # the service's own choice wins
    return dict(sorted(env.items()))


def all_envs(settings: StackSettings, dsns: Mapping[str, str], rates: SampleRates) -> dict[str, dict[str, str]]:
    return {svc.name: service_env(settings, svc, dsns, rates) for svc in settings.services}


__all__ = ["CRON_MONITORS", "LOG_EVENTS", "all_envs", "container_dsn", "cron_monitors_json", "monitor_config",
           "sentry_values", "service_env"]  # fmt: skip
