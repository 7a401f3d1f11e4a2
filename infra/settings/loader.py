"""load_settings: a stack's raw config -> the validated model -> :class:`StackSettings`, or every problem at once.

Steps: decode what Pulumi hands over as JSON text; merge ``serviceOverrides`` into ``services`` (remembering
which key set each field, so a problem names the key the user wrote); resolve the Sentry connection (the one
resolver, :mod:`infra.connection`); validate :class:`~infra.settings.model.StackFile`; build the frozen
settings, resolving placeholders (``${stack}``, ``${<service>.url}``...; ``$${`` is a literal ``${``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.connection import resolve_connection
from infra.settings.model import NS, SENTRY_NS, Context, StackConfig, StackFile, describe, key_of
from infra.settings.problems import MISSING, Loc, Problem, Renderer, SettingsError, problems_from, suggest
from infra.settings.result import (
    BuildSpec,
    Healthcheck,
    SentryTarget,
    ServiceKeys,
    ServiceSentry,
    ServiceSettings,
    StackSettings,
    internal_host,
    public_url,
    url_host,
)
from infra.settings.services import MERGED_FIELDS, ServiceSettingsModel, env_template, reporting
from infra.specs import (
    AlertAction,
    AlertCondition,
    AlertSpec,
    InboundFilterSpec,
    KeySpec,
    LoaderOptions,
    MonitorCondition,
    MonitorSpec,
    RateLimit,
)

PLACEHOLDER_RE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_STRUCTURED = {"alerts", "keys", "labels", "monitors", "rotation", "sampling", "serviceOverrides", "services"}


def git_short_head(root: Path) -> str | None:
    """``git rev-parse --short HEAD`` in `root`, or None when there is no git or no commit."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return text if out.returncode == 0 and text else None


def project_defaults(pulumi_yaml: Path, project: str = NS) -> dict[str, Any]:
    """The ``default:`` values declared in Pulumi.yaml's ``config:``, as full keys (the CLI applies them
    before running the program; scripts that read ``pulumi config`` and the tests apply them with this)."""
    import yaml

    data = yaml.safe_load(pulumi_yaml.read_text(encoding="utf-8")) or {}
    out: dict[str, Any] = {}
    for key, decl in (data.get("config") or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(decl, Mapping):
            if "default" in decl:
                out[full] = decl["default"]
            elif "value" in decl:
                out[full] = decl["value"]
        else:
            out[full] = decl
    return out


def with_defaults(config: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    merged.update(config)
    return merged


class _Merged:
    """services with serviceOverrides applied, and which override key set each (service, field[, sub])."""

    def __init__(self) -> None:
        self.services: dict[str, Any] = {}
        self.moves: list[tuple[Loc, Loc]] = []
        self.problems: list[tuple[Loc, Any, str]] = []

    def key_path(self, loc: Loc) -> Loc:
        """A location in the merged services -> the location the user wrote (longest match first)."""
        for old, new in self.moves:
            if loc[: len(old)] == old:
                return (*new, *loc[len(old):])
        return loc


def _merge(services: Any, overrides: Any) -> _Merged:
    out = _Merged()
    out.services = services if not isinstance(services, dict) else {k: v for k, v in services.items()}
    if not isinstance(services, dict) or not isinstance(overrides, dict):
        if overrides is not MISSING and overrides is not None and not isinstance(overrides, dict):
            out.problems.append(((NS, "serviceOverrides"), overrides,
                                 "must be a map of service names to settings replacing those in services"))
        return out
    moves: list[tuple[Loc, Loc]] = []
    for name, patch in overrides.items():
        src: Loc = (NS, "serviceOverrides", name)
        if name not in services:
            names = ", ".join(sorted(services))
            out.problems.append((src, patch, f"no such service in {NS}:services; {suggest(name, services)}"
                                             f"services: {names}"))
            continue
        if not isinstance(patch, dict):
            out.problems.append((src, patch, "must be an object with settings that replace the service's"))
            continue
        base = services[name]
        if not isinstance(base, dict):
            continue
        merged = dict(base)
        dst: Loc = (NS, "services", name)
        for field, value in patch.items():
            if field in ("environment", *MERGED_FIELDS) and isinstance(value, dict) and isinstance(
                    merged.get(field), dict):
                combined = dict(merged[field])
                for sub, sub_value in value.items():
                    if sub_value is None:
                        combined.pop(sub, None)
                    else:
                        combined[sub] = sub_value
                        moves.append(((*dst, field, sub), (*src, field, sub)))
                merged[field] = combined
            elif field == "environment" and isinstance(value, dict):
                merged[field] = {k: v for k, v in value.items() if v is not None}
                moves.append(((*dst, field), (*src, field)))
            else:
                merged[field] = value
                moves.append(((*dst, field), (*src, field)))
        out.services[name] = merged
    out.moves = sorted(moves, key=lambda m: -len(m[0]))
    return out


def load_settings(
    config: Mapping[str, Any],
    *,
    stack: str,
    project: str = NS,
    secret_keys: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
    git_release: Callable[[], str | None] | None = None,
    require_sentry: bool = True,
) -> StackSettings:
    """Validate a stack's config and build its settings, or raise SettingsError with all problems.

    `config`: full keys (``sentry-stacks:services``, ``sentry:baseUrl``...) to raw values (Pulumi's strings,
    objects as JSON text, or YAML values). `require_sentry`: a Sentry to create projects in must be
    configured; scripts that only render files pass False.
    """
    env = os.environ if environ is None else environ
    root = root or Path.cwd()
    prefix = f"{project}:"
    merged = _Merged()

    def full_key(loc: Loc) -> str:
        return key_of(merged.key_path(loc), project)

    render = Renderer(full_key, secret_keys)
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    for full, value in config.items():
        if full.startswith(prefix):
            name = full[len(prefix):]
            if name in _STRUCTURED and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    problems.append(render.problem((NS, name), value, "must be an object or list (the stack file"
                                                   " gives it as YAML; the CLI as JSON text)"))
                    continue
            raw[name] = value
    merged = _merge(raw.pop("services", MISSING), raw.pop("serviceOverrides", MISSING))
    problems += [render.problem(loc, value, message) for loc, value, message in merged.problems]
    if merged.services is not MISSING:
        raw["services"] = merged.services
    connection = resolve_connection(lambda key: config.get(key), env, root)
    sentry: dict[str, Any] = {}
    if connection.base_url is not None:
        sentry["baseUrl"] = connection.base_url
    if connection.organization is not None:
        sentry["organization"] = connection.organization
    context = Context(stack, connection, require_sentry, git_release or (lambda: git_short_head(root)))
    try:
        model = StackFile.model_validate({SENTRY_NS: sentry, NS: raw}, context={"settings": context})
    except ValidationError as exc:
        problems += problems_from(exc, render, describe)
        raise SettingsError(problems) from None
    if problems:
        raise SettingsError(problems)
    target = SentryTarget(
        None if connection.localsentry else model.sentry.base_url,
        model.sentry.organization,
        model.stack.team or connection.team,
    )
    settings, late = _build(model.stack, stack, project, target, render)
    if late:
        raise SettingsError(late)
    return settings


# --------------------------------------------------------------------------- building the settings


def _build(
    cfg: StackConfig, stack: str, project: str, target: SentryTarget, render: Renderer
) -> tuple[StackSettings, list[Problem]]:
    problems: list[Problem] = []
    environment = cfg.environment or stack
    release = cfg.release or ""
    globals_ = {"stack": stack, "environment": environment, "release": release, "app": cfg.app}
    owners = reporting(cfg.services)
    staged: dict[str, ServiceSettings] = {}
    for name, declared in sorted(cfg.services.items()):
        staged[name] = _service(name, declared, cfg.network_mode, owners.get(name))
    final: list[ServiceSettings] = []
    for name, svc in sorted(staged.items()):
        model = cfg.services[name]
        resolve = _Resolver(render, staged, cfg.network_mode, globals_, name, problems)
        base: Loc = (NS, "services", name)
        command = None if model.command is None else tuple(resolve((*base, "command"), p) for p in model.command)
        health = svc.healthcheck
        if health is not None:
            test = tuple(resolve((*base, "healthcheck", "test"), part) for part in health.test)
            health = Healthcheck(test, health.interval, health.timeout, health.retries, health.start_period)
        env = tuple(sorted((var, resolve((*base, "environment", var), val)) for var, val in model.environment.items()))
        final.append(replace(svc, command=command, healthcheck=health, environment=env))
    keys = {n: ServiceKeys(k.current, tuple(_key(g, spec) for g, spec in sorted(k.generations.items())))
            for n, k in cfg.keys.items()}
    for name in sorted(n for n, s in cfg.services.items() if s.sentry is not None):
        keys.setdefault(name, ServiceKeys(current="g1", generations=(KeySpec("g1"),)))
    settings = StackSettings(
        project=project,
        stack=stack,
        app=cfg.app,
        environment=environment,
        release=release,
        release_source="config" if "release" in cfg.model_fields_set else "git",
        driver=cfg.driver,
        network_mode=cfg.network_mode,
        deploy_dir=cfg.deploy_dir or f"deploy/{stack}",
        project_mode=cfg.project_mode,
        delete_shared_projects=cfg.delete_shared_projects,
        adopt_existing=cfg.adopt_existing,
        legacy_alerts=cfg.legacy_alerts,
        send_default_pii=cfg.send_default_pii,
        debug=cfg.debug,
        sampling=cfg.sampling.to_config(),
        services=tuple(final),
        keys=tuple(sorted(keys.items())),
        alerts=tuple(_alert(n, a, owners) for n, a in sorted(cfg.alerts.items())),
        monitors=tuple(_monitor(n, m, owners) for n, m in sorted(cfg.monitors.items())),
        labels=tuple(sorted(cfg.labels.items())),
        health_timeout=cfg.health_timeout,
        dsn_host=cfg.dsn_host,
        sentry=target,
        compose_project_name=cfg.compose_project,
    )
    return settings, problems


def _service(name: str, svc: ServiceSettingsModel, mode: str, owner: tuple[str, str] | None) -> ServiceSettings:
    sentry = None
    if svc.sentry is not None:
        s = svc.sentry
        sentry = ServiceSentry(
            project=s.project, name=s.name or s.project, platform=s.platform, resolve_age_hours=s.resolve_age_hours,
            allowed_domains=None if s.allowed_domains is None else tuple(s.allowed_domains),
            subject_prefix=s.subject_prefix, default_key=s.default_key, default_alert=s.default_alert,
            inbound_filters=tuple(
                InboundFilterSpec(name, fid, True, tuple(v)) if isinstance(v, list) else InboundFilterSpec(name, fid, v)
                for fid, v in sorted(s.inbound_filters.items())
            ),
        )
    build = None
    if svc.build is not None:
        b = svc.build
        build = BuildSpec(context=b.context, dockerfile=b.dockerfile, args=tuple(sorted(b.args.items())),
                          target=b.target)
    health = None
    if svc.healthcheck is not None:
        h = svc.healthcheck
        health = Healthcheck(test=h.test, interval=h.interval, timeout=h.timeout, retries=h.retries,
                             start_period=h.start_period)
    platform = owner[1] if owner else None
    depends = tuple(dict.fromkeys(svc.depends_on))
    return ServiceSettings(
        name=name, image=svc.image, build=build, command=None, port=svc.port,
        host_port=svc.host_port if mode == "bridge" else None, host_ip=svc.host_ip,
        bind=svc.bind or ("127.0.0.1" if mode == "host" else "0.0.0.0"),
        public=svc.public if svc.public is not None else svc.port is not None,
        healthcheck=health, depends_on=depends, environment=(), sentry=sentry, dsn_from=svc.dsn_from,
        env_template=env_template(svc, platform), restart=svc.restart, labels=tuple(sorted(svc.labels.items())),
        dsn_service=owner[0] if owner else None, platform=platform,
    )


def _key(label: str, g: Any) -> KeySpec:
    loader = None
    if g.loader is not None:
        lo = g.loader
        loader = LoaderOptions(has_replay=lo.has_replay, has_performance=lo.has_performance, has_debug=lo.has_debug,
                               has_feedback=lo.has_feedback, has_logs_and_metrics=lo.has_logs_and_metrics)
    rate = None if g.rate_limit is None else RateLimit(g.rate_limit.count, g.rate_limit.window)
    return KeySpec(generation=label, active=g.active, rate_limit=rate, browser_sdk_version=g.browser_sdk_version,
                   loader=loader)


def _alert(name: str, a: Any, owners: Mapping[str, tuple[str, str]]) -> AlertSpec:
    services = tuple(dict.fromkeys(owners[s][0] for s in a.services))
    spec = AlertSpec(
        name=name, services=services,
        actions=tuple(AlertAction(x.type, x.target_type, x.target_identifier, x.integration_id,
                                  tuple(sorted(x.data.items()))) for x in a.actions),
        trigger_logic=a.trigger_logic,
        filters=tuple(AlertCondition(c.type, c.comparison, c.result) for c in a.filters),
        filter_logic=a.filter_logic, monitors=tuple(a.monitors), frequency_minutes=a.frequency_minutes,
        environment=a.environment, owner=a.owner, enabled=a.enabled,
    )
    if a.triggers is not None:
        spec = replace(spec, triggers=tuple(AlertCondition(c.type, c.comparison, c.result) for c in a.triggers))
    return spec


def _monitor(name: str, m: Any, owners: Mapping[str, tuple[str, str]]) -> MonitorSpec:
    return MonitorSpec(
        name=name, service=owners[m.service][0], aggregate=m.aggregate,
        conditions=tuple(MonitorCondition(c.type, c.comparison, c.result) for c in m.conditions),
        dataset=m.dataset, query=m.query, time_window_seconds=m.time_window_seconds,
        event_types=tuple(m.event_types), detection_type=m.detection_type,
        comparison_delta_seconds=m.comparison_delta_seconds, environment=m.environment, owner=m.owner,
        description=m.description, enabled=m.enabled,
    )


class _Resolver:
    """Resolves ``${...}`` placeholders in one service's strings."""

    ATTRS = ("bind", "host", "port", "url", "publicUrl")

    def __init__(self, render: Renderer, services: Mapping[str, ServiceSettings], mode: Any,
                 globals_: Mapping[str, str], self_name: str, problems: list[Problem]) -> None:
        self.render, self.services, self.mode, self.globals = render, services, mode, globals_
        self.self_name, self.problems = self_name, problems

    def allowed(self) -> str:
        return (
            "${stack}, ${environment}, ${release}, ${app}, ${<service>.host|port|bind|url|publicUrl}"
            " with <service> one of " + ", ".join(["self", *sorted(self.services)]) + "; write $${ for a literal ${"
        )

    def __call__(self, loc: Loc, text: str) -> str:
        def add(message: str) -> None:
            self.problems.append(self.render.problem(loc, text, message))

        def sub(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            expr = match.group(1).strip()
            if expr in self.globals:
                return self.globals[expr]
            svc_name, _, attr = expr.partition(".")
            svc = self.services.get(self.self_name if svc_name == "self" else svc_name)
            if svc is None or attr not in self.ATTRS:
                shown = "" if self.render.is_secret(self.render.key_of(loc)) else f" ${{{expr}}}"
                add(f"unknown placeholder{shown}; allowed: {self.allowed()}")
                return match.group(0)
            if svc.port is None:
                add(f"${{{expr}}}: service {svc.name} has no port")
                return match.group(0)
            host = internal_host(svc, self.mode)
            url = f"http://{url_host(host)}:{svc.port}"
            values = {"bind": svc.bind, "host": host, "port": str(svc.port), "url": url}
            if attr in values:
                return values[attr]
            public = public_url(svc, self.mode)
            if public is None:
                add(f"${{{expr}}}: service {svc.name} is not public (public: false)")
                return match.group(0)
            return public

        return PLACEHOLDER_RE.sub(sub, text)


def config_from_pulumi() -> tuple[dict[str, Any], set[str]]:
    """All stack config the running program sees (full keys), and the keys that are secret."""
    from pulumi.runtime import config as runtime_config

    values: dict[str, Any] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    return values, secret


__all__ = ["config_from_pulumi", "git_short_head", "load_settings", "project_defaults", "with_defaults"]
