"""Building :class:`StackSettings` from the validated model: defaults that depend on other keys, the service
each one reports through, and placeholders (``${stack}``, ``${environment}``, ``${release}``, ``${app}``,
``${<service>.host|port|bind|url|publicUrl}``, ``self`` for the service itself; ``$${`` is a literal ``${``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import infra.contract as contract
from infra.crons import CronMonitorSpec
from infra.settings.frameworks import guessed_warning, sdk
from infra.settings.frameworks import resolve as resolve_framework
from infra.settings.model import NS, StackConfig
from infra.settings.problems import Loc, Problem, Renderer
from infra.settings.result import (
    DEFAULT_KEYS,
    BuildSpec,
    Healthcheck,
    SentryTarget,
    ServiceSettings,
    StackSettings,
    internal_host,
    public_url,
    url_host,
    url_scheme,
)
from infra.settings.services import ServiceSettingsModel, env_template, reporting

PLACEHOLDER_RE = re.compile(r"\$\$\{|\$\{([^}]*)\}")



def build(
    cfg: StackConfig, stack: str, project: str, target: SentryTarget, render: Renderer
) -> tuple[StackSettings, list[Problem]]:
    problems: list[Problem] = []
    environment = cfg.environment or stack
    release = cfg.release or ""
    globals_ = {"stack": stack, "environment": environment, "release": release, "app": cfg.app}
    owners = reporting(cfg.services)
    staged: dict[str, ServiceSettings] = {}
    jobs = {name: tuple(n for n, c in sorted(cfg.cron_monitors.items()) if c.service == name) for name in cfg.services}
    warnings: list[str] = []
    for name, declared in sorted(cfg.services.items()):
        staged[name] = replace(_service(name, declared, cfg.network_mode, owners.get(name)), cron_monitors=jobs[name])
        platform = staged[name].platform
        if platform is not None and staged[name].framework_own and resolve_framework(declared.framework, platform)[1]:
            warnings.append(guessed_warning(project, name, platform))
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
    keys = {name: cfg.keys.get(name, DEFAULT_KEYS) for name in sorted(cfg.services) if cfg.services[name].sentry}
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
        send_default_pii=bool(cfg.send_default_pii),  # deprecated alias: see privacy
        debug=cfg.debug,
        sampling=cfg.sampling.to_config(),
        services=tuple(final),
        keys=keys,
        alerts=dict(sorted(cfg.alerts.items())),
        monitors=dict(sorted(cfg.monitors.items())),
        labels=tuple(sorted(cfg.labels.items())),
        health_timeout=cfg.health_timeout,
        dsn_host=cfg.dsn_host,
        sentry=target,
        compose_project_name=cfg.compose_project,
        swarm_endpoint_mode=cfg.swarm_endpoint_mode,
        swarm_publish_mode=cfg.swarm_publish_mode,
        privacy=cfg.stack_privacy(stack),
        cron_monitors=tuple(
            CronMonitorSpec(name=n, settings=c, slug=c.slug or f"{n}-{stack}", service=owners[c.service][0])
            for n, c in sorted(cfg.cron_monitors.items())
        ),
        release_tracking=cfg.release_tracking,
        warnings=tuple(warnings),
    )
    return settings, problems


def _service(name: str, svc: ServiceSettingsModel, mode: str, owner: tuple[str, str] | None) -> ServiceSettings:
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
    framework = resolve_framework(svc.framework, platform)[0]
    framework_own = svc.framework is not None or owner is None or owner[0] == name
    if not framework_own and contract.public_prefix(framework):
        # a process with a browser app's DSN (a Node worker of a Next.js app) is no browser app: it runs the Node
        # SDK, and no browser copies (NEXT_PUBLIC_SENTRY_*...) go into its environment unless it says so
        framework = "node"
    depends = tuple(dict.fromkeys(svc.depends_on))
    return ServiceSettings(
        name=name, image=svc.image, build=build, port=svc.port,
        command=svc.command,  # as declared (its URL scheme is that of its program); placeholders resolved later
        host_port=svc.host_port if mode == "bridge" else None, host_ip=svc.host_ip,
        bind=svc.bind or ("127.0.0.1" if mode == "host" else "0.0.0.0"),
        public=svc.public if svc.public is not None else svc.port is not None,
        healthcheck=health, depends_on=depends, environment=(), sentry=svc.sentry, dsn_from=svc.dsn_from,
        env_template=env_template(svc, platform), restart=svc.restart, labels=tuple(sorted(svc.labels.items())),
        dsn_service=owner[0] if owner else None, platform=platform, replicas=svc.replicas,
        dsn_reload=svc.dsn_reload, user=svc.user, framework=framework, sdk=sdk(framework, platform),
        framework_own=framework_own,
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
            url = f"{url_scheme(svc)}://{url_host(host)}:{svc.port}"
            values = {"bind": svc.bind, "host": host, "port": str(svc.port), "url": url}
            if attr in values:
                return values[attr]
            public = public_url(svc, self.mode)
            if public is None:
                add(f"${{{expr}}}: service {svc.name} is not public (public: false)")
                return match.group(0)
            return public

        return PLACEHOLDER_RE.sub(sub, text)


__all__ = ["PLACEHOLDER_RE", "build"]
