"""``sentry-stacks:services``: the app's containers, and the rules between them."""

from __future__ import annotations

import difflib
import ipaddress
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, WithJsonSchema, WrapValidator, model_validator

from infra.fields import (
    DEFAULT_ALERT,
    DEFAULT_KEY_POLICY,
    AllowedDomain,
    Dist,
    KeyPolicy,
    Platform,
    ProjectName,
    ProjectSlug,
    ResolveAgeHours,
    SubjectPrefix,
    UrlPrefix,
)
from infra.settings.frameworks import FRAMEWORK_RULE, FRAMEWORKS, framework_hint, framework_issues, owned_names, resolve
from infra.settings.frameworks import sdk as framework_sdk
from infra.settings.problems import Issue, check, fail, rule_error
from infra.settings.types import Bool, Model, Scalar, choice, name_map, text, whole
from infra.vocabulary import FILTER_IDS, PROJECT_SLUG_MAX, SLUG_RULE

Driver = Literal["docker", "compose", "swarm", "none"]
NetworkMode = Literal["host", "bridge"]
EnvTemplate = Literal["backend", "frontend", "service"]
#: one module each in infra/deploy/ (tests/unit/test_deploy.py checks that they agree)
DRIVERS: tuple[Driver, ...] = ("compose", "docker", "swarm", "none")
# the swarm driver and the live DSN reload (docs/scaling.md)
DsnReload = Literal["restart", "file"]
DSN_RELOADS: tuple[DsnReload, ...] = ("restart", "file")
USER_RE = r"^[0-9]{1,10}(:[0-9]{1,10})?$"
MAX_REPLICAS = 100
NETWORK_MODES: tuple[NetworkMode, ...] = ("host", "bridge")
ENV_TEMPLATES: tuple[EnvTemplate, ...] = ("backend", "frontend", "service")
RESTART_POLICIES = ("no", "always", "on-failure", "unless-stopped")

SERVICE_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
NAME_RULE = "a service name: a lowercase letter, then lowercase letters, digits or '-' (at most 31)"
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_KEY_RULE = "an environment variable name: letters, digits and '_', not starting with a digit"
LABEL_KEY_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._/-]{0,127}$")
IMAGE_RE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
IMAGE_RULE = "a Docker image reference such as 'sentry-stacks/backend:latest' or 'redis:7@sha256:...'"
RESERVED_ENV = frozenset({"PORT", "BIND"})
#: service fields that serviceOverrides merges one level deep (a null sub-field removes it)
MERGED_FIELDS = ("build", "healthcheck", "labels", "sentry")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


IP = Annotated[str, text("an IP address such as 127.0.0.1 or 0.0.0.0", check=_is_ip)]
ServiceName = Annotated[str, text(NAME_RULE, pattern=SERVICE_NAME_RE)]


def _filters(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, dict):
        raise rule_error("a map of filter ids to true/false (legacy-browsers: a list)")
    issues: list[Issue] = []
    for fid, fval in sorted(value.items()):
        if fid not in FILTER_IDS:
            hint = difflib.get_close_matches(fid, FILTER_IDS, n=1, cutoff=0.6)
            did = f"did you mean '{hint[0]}'? " if hint else ""
            issues.append(Issue((fid,), fval, f"unknown inbound filter; {did}allowed: {', '.join(FILTER_IDS)}"))
        elif fid == "legacy-browsers" and isinstance(fval, list):
            if not fval or not all(isinstance(x, str) and x for x in fval):
                issues.append(Issue((fid,), fval, "must be true/false or a non-empty list of browser ids (ie, ...)"))
        elif not isinstance(fval, bool):
            allowed = "true/false or a list of browser ids" if fid == "legacy-browsers" else "true or false"
            issues.append(Issue((fid,), fval, f"must be {allowed}"))
    check(issues)
    return handler(value)


_FILTER_SCHEMA = {
    "type": "object",
    "propertyNames": {"enum": list(FILTER_IDS)},
    "additionalProperties": {"anyOf": [{"type": "boolean"}, {"type": "array", "items": {"type": "string"}}]},
}
InboundFilters = Annotated[dict[str, bool | list[str]], WrapValidator(_filters), WithJsonSchema(_FILTER_SCHEMA)]


class SourceMapsSettings(Model):
    """The service's production JavaScript and its hidden source maps, uploaded to its Sentry project for the
    stack's release (once per release and build; docs in the README's "Source maps")."""

    path: Annotated[str, text("a folder path (the build's .js files and their .map files)")] = Field(
        description="Folder with the build's JavaScript and source maps, laid out as served (relative to the project"
        " root); scripts/build-images writes the reference frontend's to dist/sourcemaps/frontend")
    url_prefix: UrlPrefix = Field(
        "~/", description="Where the folder is served: '~/' (the site root on any host), '~/static/js', or a URL")
    dist: Dist | None = Field(
        None, description="The release's distribution (as the SDK sends it), if the app sets one")


class ServiceSentrySettings(Model):
    """The Sentry project a service owns (other services may report to it with ``dsnFrom``)."""

    project: ProjectSlug = Field(description=f"the Sentry project slug, {SLUG_RULE}")
    platform: Platform = Field(description="a Sentry platform id such as python-django, javascript, node")
    name: ProjectName | None = Field(None, description="Project display name (at most 50); default: the slug")
    resolve_age_hours: ResolveAgeHours | None = Field(
        None, description="Auto-resolve issues after this many hours (0 = off)")
    allowed_domains: list[AllowedDomain] | None = Field(
        None, description="Origins allowed to send events (e.g. ['*'] or ['example.com'])")
    subject_prefix: SubjectPrefix | None = Field(
        None, description="Prefix of the project's notification e-mail subjects")
    default_key: KeyPolicy = Field(
        DEFAULT_KEY_POLICY, description="What to do with the 'Default' key Sentry creates with the project")
    default_alert: Bool = Field(DEFAULT_ALERT, description="Keep the default alert Sentry creates with the project")
    inbound_filters: InboundFilters = Field(
        default_factory=dict, description="Inbound data filters: filter id -> true/false (legacy-browsers: a list)")
    source_maps: SourceMapsSettings | None = Field(
        None, description="The build's source maps, uploaded for the stack's release: {path, urlPrefix, dist}")


class BuildSettings(Model):
    """Build the service's image from a context (relative paths are relative to the project root)."""

    context: Annotated[str, text("a folder path (the build context)")] = Field(
        description="the folder to build the image from")
    dockerfile: Annotated[str, text("a file path")] | None = Field(None, description="Dockerfile path")
    target: Annotated[str, text("a build stage name")] | None = Field(None, description="Build stage")
    args: Annotated[dict[str, Scalar], name_map("a build argument name", ENV_KEY_RE, "a map of names to values")] = (
        Field(default_factory=dict, description="Build arguments"))


def _build(value: Any) -> Any:
    return {"context": value} if isinstance(value, str) else value


_HEALTH_RULE = "a list starting with CMD or CMD-SHELL (Docker's form), or a shell command string"


def _test(value: Any, handler: Callable[[Any], Any]) -> Any:
    if isinstance(value, str) and value.strip():
        return ("CMD-SHELL", value)
    if (isinstance(value, list) and len(value) >= 2 and all(isinstance(t, str) for t in value)
            and value[0] in ("CMD", "CMD-SHELL")):
        return tuple(value)
    raise rule_error(_HEALTH_RULE)


_TEST_SCHEMA = {"anyOf": [{"type": "string", "minLength": 1},
                          {"type": "array", "items": {"type": "string"}, "minItems": 2}]}


class HealthcheckSettings(Model):
    """A container healthcheck (Docker's fields; times in seconds)."""

    test: Annotated[tuple[str, ...], WrapValidator(_test), WithJsonSchema(_TEST_SCHEMA)] = Field(
        description=_HEALTH_RULE)
    interval: Annotated[int, whole(1, 3600)] = Field(5, description="Seconds between checks")
    timeout: Annotated[int, whole(1, 3600)] = Field(3, description="Seconds a check may take")
    retries: Annotated[int, whole(1, 1000)] = Field(20, description="Failures before unhealthy")
    start_period: Annotated[int, whole(0, 3600)] = Field(5, description="Seconds of grace after start")


def _command(value: Any, handler: Callable[[Any], Any]) -> Any:
    if isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as exc:
            raise rule_error(f"a command line that splits into words ({exc}), or a list of strings") from None
        if parts:
            return tuple(parts)
    elif isinstance(value, list) and value and all(
            isinstance(p, str | int | float) and not isinstance(p, bool) for p in value):
        return tuple(str(p) for p in value)
    raise rule_error("a non-empty list of strings (exec form) or a command line string")


_COMMAND_SCHEMA = {"anyOf": [{"type": "string", "minLength": 1},
                             {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1}]}
Command = Annotated[tuple[str, ...], WrapValidator(_command), WithJsonSchema(_COMMAND_SCHEMA)]


def _env(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, dict):
        raise rule_error("a map of variable names to values")
    issues = [Issue((k,), v, f"bad variable name '{k}': must be {ENV_KEY_RULE}") for k, v in value.items()
              if not ENV_KEY_RE.match(str(k))]
    issues += [Issue((k,), v, "must be a string, number or boolean") for k, v in value.items()
               if ENV_KEY_RE.match(str(k)) and (isinstance(v, dict | list) or v is None)]
    check(issues)
    return handler(value)


Environment = Annotated[dict[str, Scalar], WrapValidator(_env), Field(json_schema_extra={
    "propertyNames": {"pattern": ENV_KEY_RE.pattern}})]


class ServiceSettingsModel(Model):
    """One container of the app. String values of environment, command and healthcheck.test may use
    placeholders: ${stack}, ${environment}, ${release}, ${app}, ${<service>.host|port|bind|url|publicUrl} (<service>
    may be self: ${self.port} is the service's own port)."""

    image: Annotated[str, text(IMAGE_RULE, pattern=IMAGE_RE)] = Field(
        description=f"{IMAGE_RULE} (with build, the tag given to the built image)")
    build: Annotated[BuildSettings | None, BeforeValidator(_build, json_schema_input_type=str | BuildSettings)] = (
        Field(None, description="Build the image: a context path, or {context, dockerfile, args, target}"))
    command: Command | None = Field(None, description="Command: exec form (a list) or a command line")
    port: Annotated[int, whole(1, 65535)] | None = Field(None, description="The port the service listens on")
    host_port: Annotated[int, whole(1, 65535)] | None = Field(
        None, description="networkMode bridge: the published port on the host (default: port)")
    host_ip: IP = Field("127.0.0.1", description="networkMode bridge: the host address the port is published on")
    bind: IP | None = Field(None, description="Address it listens on; default 127.0.0.1 (host) / 0.0.0.0 (bridge)")
    public: Bool | None = Field(None, description="Reachable from a browser on this machine; default: has a port")
    healthcheck: HealthcheckSettings | None = Field(None, description="Container healthcheck")
    depends_on: list[ServiceName] = Field(default_factory=list, description="Services started (healthy) first")
    environment: Environment = Field(default_factory=dict, description="Environment variables (placeholders)")
    sentry: ServiceSentrySettings | None = Field(None, description="The Sentry project this service owns")
    dsn_from: ServiceName | None = Field(None, description="Report with the DSN of this other service's project")
    framework: Annotated[str, choice(FRAMEWORKS, framework_hint)] | None = Field(
        None, description=FRAMEWORK_RULE)
    env_template: Annotated[EnvTemplate, choice(ENV_TEMPLATES)] | None = Field(
        None, description="Env file layout; default backend (Python, or an SDK without a runtime package) or frontend"
        " (JavaScript) by the service's SDK, service without Sentry")
    restart: Annotated[str, choice(RESTART_POLICIES)] = Field("unless-stopped", description="Restart policy")
    labels: Annotated[dict[str, Scalar], name_map("a Docker label key", LABEL_KEY_RE, "a map of label keys")] = (
        Field(default_factory=dict, description="Docker labels"))
    replicas: Annotated[int, whole(1, MAX_REPLICAS)] = Field(
        1, description="Tasks of the service (driver swarm; compose and docker run one container)")
    dsn_reload: Annotated[DsnReload, choice(DSN_RELOADS)] = Field(
        "restart", description="restart: a new DSN replaces the container; file: the app re-reads its mounted env"
        " file (SENTRY_STACKS_ENV_FILE), so a rotation restarts nothing (Python: sentry-stacks-runtime; not the"
        " JavaScript runtime or an SDK without a runtime package)")
    user: Annotated[str, text("a numeric uid or uid:gid, e.g. 10001", pattern=USER_RE)] | None = Field(
        None, description="uid[:gid] the container runs as; with dsnReload: file it owns the env file")

    @model_validator(mode="after")
    def _own_fields(self) -> Self:
        issues: list[Issue] = []
        if self.public and self.port is None:
            issues.append(Issue(("public",), self.public, "a public service needs a port: set port, or public: false"))
        if self.sentry is not None and self.dsn_from is not None:
            issues.append(Issue(("dsnFrom",), self.dsn_from,
                                "a service with its own sentry project cannot also use dsnFrom; remove one of them"))
        check(issues)
        return self


def reporting(services: Mapping[str, ServiceSettingsModel]) -> dict[str, tuple[str, str]]:
    """Service -> (the service whose project it reports to, that project's platform), for services with Sentry."""
    out: dict[str, tuple[str, str]] = {}
    for name, svc in services.items():
        if svc.sentry is not None:
            out[name] = (name, svc.sentry.platform)
    for name, svc in services.items():
        if svc.sentry is None and svc.dsn_from in out and out[svc.dsn_from][0] == svc.dsn_from:
            out[name] = out[svc.dsn_from]
    return out


def env_template(svc: ServiceSettingsModel, platform: str | None) -> EnvTemplate:
    if svc.env_template is not None:
        return svc.env_template
    if platform is None:
        return "service"
    return "frontend" if framework_sdk(resolve(svc.framework, platform)[0], platform) == "javascript" else "backend"


def check_services(
    services: Mapping[str, ServiceSettingsModel], network_mode: NetworkMode, project_mode: str, stack: str,
    driver: Driver = "compose",
) -> None:
    """The rules between services (paths relative to ``services``)."""
    issues: list[Issue] = []
    if not services:
        fail(Issue((), {}, "must describe at least one service (a map of service names to settings)"))
    names = set(services)
    owners = reporting(services)
    for name in [n for n in services if not SERVICE_NAME_RE.match(n)]:
        issues.append(Issue((name,), services[name].model_dump(exclude_unset=True, by_alias=True),
                            f"bad service name '{name}': must be {NAME_RULE}"))
    seen_ports: dict[int, str] = {}
    seen_projects: dict[str, str] = {}
    max_slug = PROJECT_SLUG_MAX - (len(stack) + 1 if project_mode == "per-environment" else 0)
    for name, svc in sorted(services.items()):
        if network_mode == "host" and svc.host_port is not None and svc.port is not None and svc.host_port != svc.port:
            issues.append(Issue((name, "hostPort"), svc.host_port,
                                "only applies with networkMode bridge: with host the service listens on its port"
                                f" ({svc.port}) directly; remove hostPort or set it to the port"))
        if network_mode == "bridge" and svc.bind is not None and ipaddress.ip_address(svc.bind).is_loopback:
            issues.append(Issue((name, "bind"), svc.bind, "with networkMode bridge the service must listen on"
                                " 0.0.0.0 so that other containers and the published port reach it"))
        for dep in svc.depends_on:
            if dep not in names or dep == name:
                others = ", ".join(sorted(names - {name}))
                issues.append(Issue((name, "dependsOn"), dep, f"must name another service of this stack ({others})"))
        public = svc.public if svc.public is not None else svc.port is not None
        published = svc.port if network_mode == "host" else ((svc.host_port or svc.port) if public else None)
        field = "port" if network_mode == "host" or svc.host_port is None else "hostPort"
        if published is not None:
            if published in seen_ports:
                issues.append(Issue((name, field), published, f"port {published} is already used by service"
                                    f" {seen_ports[published]} on this machine; every service needs its own (and dev"
                                    " and prod need different ones with networkMode host)"))
            else:
                seen_ports[published] = name
        if svc.sentry is not None:
            slug = svc.sentry.project
            if len(slug) > max_slug:
                issues.append(Issue((name, "sentry", "project"), slug,
                                    f"must be at most {max_slug} characters long ({SLUG_RULE})"))
            if slug in seen_projects:
                issues.append(Issue((name, "sentry", "project"), slug, f"project {slug} already belongs to service"
                                    f" {seen_projects[slug]}; to report to the same project, remove sentry here and"
                                    f" set dsnFrom: {seen_projects[slug]}"))
            else:
                seen_projects[slug] = name
        elif svc.dsn_from is not None and name not in owners:
            projects = ", ".join(sorted(n for n, s in services.items() if s.sentry is not None)) or "none"
            issues.append(Issue((name, "dsnFrom"), svc.dsn_from,
                                f"must name a service with its own sentry project ({projects})"))
        if svc.replicas > 1 and driver != "swarm":
            issues.append(Issue((name, "replicas"), svc.replicas, "more than 1 replica needs driver swarm (compose and"
                                " docker run one container per service); set driver: swarm or replicas: 1"))
        platform = owners.get(name, (None, None))[1]
        template = env_template(svc, platform)
        if svc.dsn_reload == "file" and platform is None:
            issues.append(Issue((name, "dsnReload"), svc.dsn_reload, "file reloads the Sentry DSN from the env file:"
                                " the service needs a sentry project or dsnFrom (and an app that re-reads"
                                " SENTRY_STACKS_ENV_FILE)"))
        if template != "service" and platform is None:
            issues.append(Issue((name, "envTemplate"), svc.env_template, "the backend and frontend templates need"
                                " a Sentry DSN: give the service a sentry project or dsnFrom, or use envTemplate:"
                                " service"))
        issues += framework_issues(name, svc.framework, platform, dict(svc.environment), svc.dsn_reload)
        reserved = set(RESERVED_ENV if svc.port is not None else ())
        if template != "service":
            reserved |= owned_names(resolve(svc.framework, platform)[0], platform)
        for var in sorted(set(svc.environment) & reserved):
            issues.append(Issue((name, "environment", var), svc.environment[var],
                                f"{var} is set by the toolkit for this service (from port/bind, sampling,"
                                " dataCollection, debug, release, environment, cronMonitors or the DSN); remove it"
                                " here"))
    issues.extend(_cycles(services))
    check(issues)


def _cycles(services: Mapping[str, ServiceSettingsModel]) -> list[Issue]:
    issues: list[Issue] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in services[name].depends_on:
            if state.get(dep) == 1:
                cycle = " -> ".join([*path[path.index(dep):], dep]) if dep in path else f"{name} -> {dep}"
                issues.append(Issue((name, "dependsOn"), list(services[name].depends_on), f"dependency cycle: {cycle}"))
            elif state.get(dep) is None and dep in services:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(services):
        if state.get(name) is None:
            visit(name, [name])
    return issues


__all__ = [
    "DRIVERS",
    "DSN_RELOADS",
    "ENV_TEMPLATES",
    "MERGED_FIELDS",
    "NETWORK_MODES",
    "RESTART_POLICIES",
    "SERVICE_NAME_RE",
    "BuildSettings",
    "Driver",
    "DsnReload",
    "EnvTemplate",
    "HealthcheckSettings",
    "NetworkMode",
    "ServiceSentrySettings",
    "ServiceSettingsModel",
    "check_services",
    "env_template",
    "reporting",
]
