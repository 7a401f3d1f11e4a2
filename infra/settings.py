"""StackSettings: everything a stack deploys, read from its config once and validated in one place.

Project-level defaults live in ``Pulumi.yaml`` (``config:`` declarations with ``default:``), per
environment values in ``Pulumi.<stack>.yaml``. :func:`load_settings` takes the raw config (full keys,
values as Pulumi hands them over: strings, objects as JSON text) and either returns a frozen
:class:`StackSettings` or raises :class:`SettingsError` listing *every* problem at once, each with the
key, the value (masked for secret keys) and what is allowed. Nothing else in the toolkit re-validates
config. The program calls it before creating any resource, so ``pulumi preview`` fails on bad
settings and creates nothing.

The app is described in config: ``sentry-stacks:services`` (one entry per container), overridden per
stack by ``sentry-stacks:serviceOverrides``. String values of ``environment``, ``command`` and
``healthcheck.test`` may use placeholders, resolved here:

* ``${stack}``, ``${environment}``, ``${release}``, ``${app}``
* ``${<service>.host}`` (``127.0.0.1`` with ``networkMode: host``, the service name with ``bridge``),
  ``${<service>.port}``, ``${<service>.bind}`` (the address it listens on), ``${<service>.url}``
  (``http://host:port``, container to container),
  ``${<service>.publicUrl}`` (the URL a browser on this machine uses); ``self`` names the service itself
* ``$${`` stands for a literal ``${``; any other ``$`` is kept as is.

The full key reference is in the README ("Configuration reference"); :data:`TOP_LEVEL_KEYS` and the
``*_FIELDS`` tuples below are the authoritative lists.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import shlex
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal, cast

from infra.components.sentry_app import (
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
from infra.sampling import PROFILE_LIFECYCLES, Budget, ProfileLifecycle, SamplingConfig

NS = "sentry-stacks"
SENTRY_NS = "sentry"

Driver = Literal["docker", "compose", "swarm"]
NetworkMode = Literal["host", "bridge"]
ProjectMode = Literal["shared", "per-environment"]
EnvTemplate = Literal["backend", "frontend", "service"]
DRIVERS: tuple[Driver, ...] = ("compose", "docker", "swarm")
# issue 15: swarm driver settings and the live DSN reload (docs/scaling.md)
EndpointMode = Literal["vip", "dnsrr"]
PublishMode = Literal["ingress", "host"]
DsnReload = Literal["restart", "file"]
ENDPOINT_MODES: tuple[EndpointMode, ...] = ("vip", "dnsrr")
PUBLISH_MODES: tuple[PublishMode, ...] = ("ingress", "host")
DSN_RELOADS: tuple[DsnReload, ...] = ("restart", "file")
USER_RE = re.compile(r"^[0-9]{1,10}(:[0-9]{1,10})?$")
MAX_REPLICAS = 100
NETWORK_MODES: tuple[NetworkMode, ...] = ("host", "bridge")
PROJECT_MODES: tuple[ProjectMode, ...] = ("shared", "per-environment")
ENV_TEMPLATES: tuple[EnvTemplate, ...] = ("backend", "frontend", "service")
RESTART_POLICIES = ("no", "always", "on-failure", "unless-stopped")
DEFAULT_KEY_POLICIES = ("keep", "deactivate", "delete")

#: Sentry's platform ids (``GETTING_STARTED_DOCS_PLATFORMS`` in ``src/sentry/models/project.py``) + ``other``.
PLATFORMS: frozenset[str] = frozenset(
    """
    android apple apple-ios apple-macos bun capacitor cloudflare-pages cloudflare-workers cordova dart deno
    dotnet dotnet-aspnet dotnet-aspnetcore dotnet-awslambda dotnet-gcpfunctions dotnet-maui dotnet-uwp
    dotnet-winforms dotnet-wpf dotnet-xamarin electron elixir flutter go go-echo go-fasthttp go-fiber go-gin
    go-http go-iris go-martini go-negroni ionic java java-log4j2 java-logback java-spring java-spring-boot
    javascript javascript-angular javascript-astro javascript-ember javascript-gatsby javascript-nextjs
    javascript-nuxt javascript-react javascript-remix javascript-solid javascript-solidstart javascript-svelte
    javascript-sveltekit javascript-vue kotlin minidump native native-qt nintendo-switch node node-awslambda
    node-azurefunctions node-connect node-express node-fastify node-gcpfunctions node-hapi node-koa node-nestjs
    other php php-laravel php-symfony powershell python python-aiohttp python-asgi python-awslambda
    python-bottle python-celery python-chalice python-django python-falcon python-fastapi python-flask
    python-gcpfunctions python-pylons python-pymongo python-pyramid python-quart python-rq python-sanic
    python-serverless python-starlette python-tornado python-tryton python-wsgi react-native ruby ruby-rack
    ruby-rails rust unity unreal
    """.split()
)

SLUG_RE = re.compile(r"^(?![0-9]+$)[a-z0-9_\-]+$")
SERVICE_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
GENERATION_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LABEL_KEY_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._/-]{0,127}$")
OWNER_RE = re.compile(r"^(team|user):[0-9]+$")
IDENT_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER_RE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
SLUG_RULE = "a slug: lowercase letters, digits, '-' and '_', not only digits (^(?![0-9]+$)[a-z0-9_\\-]+$)"
PROJECT_SLUG_MAX = 100
RESERVED_ENV = frozenset({"PORT", "BIND"})
SENTRY_ENV_COMMON = (
    "SENTRY_DEBUG",
    "SENTRY_DSN",
    "SENTRY_ENVIRONMENT",
    "SENTRY_RELEASE",
    "SENTRY_SAMPLE_RATE",
    "SENTRY_SEND_DEFAULT_PII",
    "SENTRY_TRACES_SAMPLE_RATE",
)
SENTRY_ENV_BACKEND = (
    "SENTRY_PROFILES_SAMPLE_RATE",
    "SENTRY_PROFILE_LIFECYCLE",
    "SENTRY_PROFILE_SESSION_SAMPLE_RATE",
)
SENTRY_ENV_FRONTEND = ("SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE", "SENTRY_REPLAYS_SESSION_SAMPLE_RATE")

TOP_LEVEL_KEYS = (
    "adoptExisting",
    "alerts",
    "app",
    "composeProject",
    "debug",
    "deleteSharedProjects",
    "deployDir",
    "driver",
    "dsnHost",
    "environment",
    "healthTimeout",
    "keys",
    "labels",
    "legacyAlerts",
    "monitors",
    "networkMode",
    "projectMode",
    "release",
    "rotation",
    "sampling",
    "sendDefaultPii",
    "serviceOverrides",
    "services",
    "swarmEndpointMode",
    "swarmPublishMode",
    "team",
)
SERVICE_FIELDS = (
    "bind",
    "build",
    "command",
    "dependsOn",
    "dsnFrom",
    "dsnReload",
    "envTemplate",
    "environment",
    "healthcheck",
    "hostIp",
    "hostPort",
    "image",
    "labels",
    "port",
    "public",
    "replicas",
    "restart",
    "sentry",
    "user",
)
BUILD_FIELDS = ("args", "context", "dockerfile", "target")
#: service fields that serviceOverrides merges one level deep (a null sub-field removes it)
MERGED_FIELDS = ("build", "healthcheck", "labels", "sentry")
HEALTHCHECK_FIELDS = ("interval", "retries", "startPeriod", "test", "timeout")
SENTRY_FIELDS = (
    "allowedDomains",
    "defaultAlert",
    "defaultKey",
    "inboundFilters",
    "name",
    "platform",
    "project",
    "resolveAgeHours",
    "subjectPrefix",
)
SAMPLING_FIELDS = (
    "budget",
    "errors",
    "profileLifecycle",
    "profileSession",
    "profiles",
    "replaysOnError",
    "replaysSession",
    "traces",
)
BUDGET_FIELDS = (
    "errorSessionShare",
    "errorsPerDay",
    "errorsPerMonth",
    "profileHoursPerMonth",
    "profiledInstances",
    "profilesPerMonth",
    "replaysPerMonth",
    "requestsPerDay",
    "sessionsPerDay",
    "spansPerMonth",
    "spansPerTransaction",
)
KEYS_FIELDS = ("current", "generations")
GENERATION_FIELDS = ("active", "browserSdkVersion", "loader", "rateLimit")
LOADER_FIELDS = ("hasDebug", "hasFeedback", "hasLogsAndMetrics", "hasPerformance", "hasReplay")
ALERT_FIELDS = (
    "actions",
    "enabled",
    "environment",
    "filterLogic",
    "filters",
    "frequencyMinutes",
    "monitors",
    "owner",
    "services",
    "triggerLogic",
    "triggers",
)
ACTION_FIELDS = ("data", "integrationId", "targetIdentifier", "targetType", "type")
CONDITION_FIELDS = ("comparison", "result", "type")
MONITOR_FIELDS = (
    "aggregate",
    "comparisonDeltaSeconds",
    "conditions",
    "dataset",
    "description",
    "detectionType",
    "enabled",
    "environment",
    "eventTypes",
    "owner",
    "query",
    "service",
    "timeWindowSeconds",
)
LOGIC_TYPES = ("any", "any-short", "all", "none")
FREQUENCIES = (0, 5, 10, 30, 60, 180, 720, 1440)
ACTION_TYPES = (
    "discord",
    "email",
    "github",
    "jira",
    "jira_server",
    "msteams",
    "opsgenie",
    "pagerduty",
    "slack",
    "vsts",
)
TARGET_TYPES = ("issue_owners", "specific", "team", "user")
MONITOR_CONDITION_TYPES = ("anomaly_detection", "gt", "lte")
MONITOR_RESULTS = (0, 50, 75)
DETECTION_TYPES = ("dynamic", "percent", "static")
COMPARISON_DELTAS = (300, 900, 3600, 86400, 604800, 2592000)
DATASETS = ("events", "events_analytics_platform", "generic_metrics", "metrics", "sessions", "transactions")
FILTER_IDS = ("browser-extensions", "filtered-transaction", "legacy-browsers", "localhost", "web-crawlers")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One bad setting: the full config key (with a path into objects), the value as shown, and why."""

    key: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} = {self.value}: {self.message}"


class SettingsError(ValueError):
    """The stack config has problems; ``problems`` lists all of them (never secret values)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the stack settings:\n{lines}")


_MISSING = object()


class _Checker:
    """Collects problems; renders values safely (secret keys masked, long values cut)."""

    def __init__(self, secret_keys: Iterable[str]) -> None:
        self.problems: list[Problem] = []
        self.secret_roots = {k for k in secret_keys}

    def is_secret(self, key: str) -> bool:
        return any(key == root or key.startswith((root + ".", root + "[")) for root in self.secret_roots)

    def show(self, key: str, value: Any) -> str:
        if value is _MISSING:
            return "(not set)"
        if self.is_secret(key):
            return "[secret]"
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError):
            text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."

    def add(self, key: str, value: Any, message: str) -> None:
        self.problems.append(Problem(key, self.show(key, value), message))

    def unknown_keys(self, key: str, obj: Mapping[str, Any], allowed: Sequence[str]) -> None:
        for name in sorted(obj):
            if name in allowed:
                continue
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            self.add(f"{key}.{name}" if key else name, obj[name], f"unknown key; {hint}allowed: {', '.join(allowed)}")

    # ---- typed readers: return the value, or None (problem recorded) / the default when missing

    def obj(self, key: str, value: Any, what: str = "an object (a map of keys to values)") -> dict[str, Any] | None:
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(key, value, f"must be {what}")
            return None
        return {str(k): v for k, v in value.items()}

    def list(self, key: str, value: Any, what: str = "a list") -> list[Any] | None:
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            self.add(key, value, f"must be {what}")
            return None
        return value

    def string(
        self,
        key: str,
        value: Any,
        default: str | None = None,
        *,
        pattern: re.Pattern[str] | None = None,
        rule: str = "a non-empty string",
        max_len: int | None = None,
        allow_empty: bool = False,
    ) -> str | None:
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(key, value, f"must be {rule}")
            return default
        text = str(value)
        if (not text.strip() and not allow_empty) or (pattern is not None and not pattern.match(text)):
            self.add(key, value, f"must be {rule}")
            return default
        if max_len is not None and len(text) > max_len:
            self.add(key, value, f"must be at most {max_len} characters long ({rule})")
            return default
        return text

    def choice(self, key: str, value: Any, allowed: Sequence[str], default: str) -> str:
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, str) or value not in allowed:
            close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            self.add(key, value, f"unknown value; {hint}allowed: {', '.join(allowed)}")
            return default
        return value

    def boolean(self, key: str, value: Any, default: bool) -> bool:
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.add(key, value, "must be a boolean: true or false")
        return default

    def number(
        self,
        key: str,
        value: Any,
        *,
        low: float | None = None,
        high: float | None = None,
        integer: bool = False,
        rule: str | None = None,
    ) -> float | None:
        """A number in [low, high]; None when missing or bad (the problem is recorded)."""
        if value is _MISSING or value is None:
            return None
        what = rule or _range_rule(low, high, integer)
        parsed: float | None = None
        if not isinstance(value, bool) and isinstance(value, int | float):
            parsed = float(value)
        elif isinstance(value, str):
            try:
                parsed = float(value.strip())
            except ValueError:
                parsed = None
        if parsed is None or not math.isfinite(parsed) or (integer and not parsed.is_integer()):
            self.add(key, value, f"must be {what}")
            return None
        if (low is not None and parsed < low) or (high is not None and parsed > high):
            self.add(key, value, f"must be {what}")
            return None
        return parsed

    def integer(self, key: str, value: Any, *, low: int | None = None, high: int | None = None) -> int | None:
        parsed = self.number(key, value, low=low, high=high, integer=True)
        return None if parsed is None else int(parsed)

    def rate(self, key: str, value: Any) -> float | None:
        return self.number(key, value, low=0.0, high=1.0, rule="a number from 0 to 1 (a sample rate)")

    def str_map(self, key: str, value: Any, key_re: re.Pattern[str], key_rule: str) -> dict[str, str]:
        obj = self.obj(key, value, "a map of names to string values")
        out: dict[str, str] = {}
        for name, item in sorted((obj or {}).items()):
            if not key_re.match(name):
                self.add(f"{key}.{name}", item, f"bad name '{name}': must be {key_rule}")
                continue
            text = self.string(f"{key}.{name}", item, rule="a string, number or boolean", allow_empty=True)
            if isinstance(item, bool):
                text = "true" if item else "false"
            if text is not None:
                out[name] = text
        return out


def _range_rule(low: float | None, high: float | None, integer: bool) -> str:
    kind = "a whole number" if integer else "a number"

    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if low is not None and high is not None:
        return f"{kind} from {fmt(low)} to {fmt(high)}"
    if low is not None:
        return f"{kind} >= {fmt(low)}"
    if high is not None:
        return f"{kind} <= {fmt(high)}"
    return kind


# --------------------------------------------------------------------------- settings dataclasses


@dataclass(frozen=True)
class Healthcheck:
    """A container healthcheck. ``test`` is Docker's form (``["CMD", ...]`` or ``["CMD-SHELL", "..."]``)."""

    test: tuple[str, ...]
    interval: int = 5
    timeout: int = 3
    retries: int = 20
    start_period: int = 5


@dataclass(frozen=True)
class BuildSpec:
    """Build the service's image from a context (relative paths are relative to the project root)."""

    context: str
    dockerfile: str | None = None
    args: tuple[tuple[str, str], ...] = ()
    target: str | None = None


@dataclass(frozen=True)
class ServiceSentry:
    """The Sentry project a service owns (other services may share its DSN with ``dsnFrom``)."""

    project: str
    name: str
    platform: str
    resolve_age_hours: int | None = None
    allowed_domains: tuple[str, ...] | None = None
    subject_prefix: str | None = None
    default_key: Literal["keep", "deactivate", "delete"] = "delete"
    default_alert: bool = False
    inbound_filters: tuple[InboundFilterSpec, ...] = ()


@dataclass(frozen=True)
class ServiceKeys:
    """A service's client-key generations in this stack; ``current`` names the one whose DSN is rendered."""

    current: str
    generations: tuple[KeySpec, ...]

    def generation(self, name: str) -> KeySpec | None:
        return next((k for k in self.generations if k.generation == name), None)


@dataclass(frozen=True)
class ServiceSettings:
    """One container of the app, with placeholders already resolved."""

    name: str
    image: str
    build: BuildSpec | None
    command: tuple[str, ...] | None
    port: int | None
    host_port: int | None
    host_ip: str
    bind: str
    public: bool
    healthcheck: Healthcheck | None
    depends_on: tuple[str, ...]
    environment: tuple[tuple[str, str], ...]
    sentry: ServiceSentry | None
    dsn_from: str | None
    env_template: EnvTemplate
    restart: str
    labels: tuple[tuple[str, str], ...]
    #: the service whose DSN this one uses (itself when it owns a project), None without Sentry
    dsn_service: str | None = None
    #: the Sentry platform it reports as (its own, or that of ``dsn_from``)
    platform: str | None = None
    #: swarm driver: tasks of the service (``replicas``)
    replicas: int = 1
    #: ``restart``: a new DSN replaces the container; ``file``: the app re-reads its mounted env file
    dsn_reload: DsnReload = "restart"
    #: ``uid[:gid]`` the container runs as (``user``); with ``dsnReload: file`` it owns the env file
    user: str | None = None

    @property
    def env_file(self) -> str:
        return f"{self.name}.env"


@dataclass(frozen=True)
class SentryTarget:
    """Where the stack's Sentry objects go. ``base_url`` None = the embedded localsentry."""

    base_url: str | None
    organization: str | None
    team: str | None


@dataclass(frozen=True)
class StackSettings:
    """A stack's validated settings (frozen: build once, pass around)."""

    project: str
    stack: str
    app: str
    environment: str
    release: str
    release_source: Literal["config", "git"]
    driver: Driver
    network_mode: NetworkMode
    deploy_dir: str
    project_mode: ProjectMode
    delete_shared_projects: bool
    adopt_existing: bool
    legacy_alerts: bool
    send_default_pii: bool
    debug: bool
    sampling: SamplingConfig
    services: tuple[ServiceSettings, ...]
    keys: tuple[tuple[str, ServiceKeys], ...]
    alerts: tuple[AlertSpec, ...]
    monitors: tuple[MonitorSpec, ...]
    labels: tuple[tuple[str, str], ...]
    health_timeout: int
    dsn_host: str | None
    sentry: SentryTarget = field(default_factory=lambda: SentryTarget(None, None, None))
    compose_project_name: str | None = None
    #: swarm driver: ``endpoint_mode`` of every service and ``mode`` of published ports
    swarm_endpoint_mode: EndpointMode = "vip"
    swarm_publish_mode: PublishMode = "ingress"

    @property
    def compose_project(self) -> str:
        """``docker compose -p`` name (also the docker driver's container and network prefix):
        ``<project>-<stack>`` unless ``composeProject`` sets another (e.g. to run a copy side by side)."""
        return self.compose_project_name or f"{self.project}-{self.stack}"

    def service(self, name: str) -> ServiceSettings:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(name)

    def sentry_services(self) -> tuple[ServiceSettings, ...]:
        """Services that own a Sentry project (the keys of SentryApp.dsns)."""
        return tuple(s for s in self.services if s.sentry is not None)

    def keys_for(self, service: str) -> ServiceKeys:
        return dict(self.keys)[service]

    def public_url(self, svc: ServiceSettings) -> str | None:
        return _public_url(svc, self.network_mode)


# --------------------------------------------------------------------------- loading


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
    """The ``default:`` values declared in Pulumi.yaml's ``config:``, as full keys.

    The CLI applies them before running the program; scripts that read ``pulumi config`` and the tests
    apply them with this function (a value already present always wins).
    """
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


def _decode(ck: _Checker, key: str, value: Any, structured: bool) -> Any:
    """Config arrives as strings; objects and lists as JSON text. Decode what must be structured."""
    if not structured or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        ck.add(key, value, "must be an object or list (the stack file gives it as YAML; the CLI as JSON text)")
        return None


_STRUCTURED = {"alerts", "keys", "labels", "monitors", "rotation", "sampling", "serviceOverrides", "services"}


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

    `config`: full keys (``sentry-stacks:services``, ``sentry:baseUrl``...) to raw values.
    `require_sentry`: resolve the Sentry team (needed to create projects); scripts that only render
    files pass False.
    """
    import os

    env = os.environ if environ is None else environ
    root = root or Path.cwd()
    ck = _Checker(secret_keys)
    prefix = f"{project}:"
    raw: dict[str, Any] = {}
    for full, value in config.items():
        if not full.startswith(prefix):
            continue
        name = full[len(prefix) :]
        raw[name] = _decode(ck, full, value, name in _STRUCTURED)
    ck.unknown_keys(project, raw, TOP_LEVEL_KEYS)
    # unknown_keys joins with "."; top-level keys read better as "sentry-stacks:name"
    ck.problems = [
        Problem(p.key.replace(f"{project}.", prefix, 1), p.value, p.message) if p.key.startswith(f"{project}.") else p
        for p in ck.problems
    ]

    def k(name: str) -> str:
        return f"{prefix}{name}"

    def get(name: str) -> Any:
        return raw.get(name, _MISSING)

    app = ck.string(k("app"), get("app"), project, pattern=SLUG_RE, rule=SLUG_RULE, max_len=64) or project
    environment = _environment(ck, k("environment"), get("environment"), stack)
    release, release_source = _release(ck, k("release"), get("release"), git_release or (lambda: git_short_head(root)))
    driver = cast(Driver, ck.choice(k("driver"), get("driver"), DRIVERS, "compose"))
    network_mode = cast(NetworkMode, ck.choice(k("networkMode"), get("networkMode"), NETWORK_MODES, "host"))
    project_mode = cast(ProjectMode, ck.choice(k("projectMode"), get("projectMode"), PROJECT_MODES, "shared"))
    deploy_dir = ck.string(k("deployDir"), get("deployDir"), f"deploy/{stack}", rule="a folder path") or ""
    compose_project = ck.string(
        k("composeProject"),
        get("composeProject"),
        pattern=re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$"),
        rule="a compose project name: lowercase letters, digits, '-' and '_' (default <project>-<stack>)",
    )
    health_timeout = ck.integer(k("healthTimeout"), get("healthTimeout"), low=10, high=3600)
    endpoint_mode = cast(
        EndpointMode, ck.choice(k("swarmEndpointMode"), get("swarmEndpointMode"), ENDPOINT_MODES, "vip")
    )
    publish_mode = cast(
        PublishMode, ck.choice(k("swarmPublishMode"), get("swarmPublishMode"), PUBLISH_MODES, "ingress")
    )
    if driver == "swarm" and network_mode == "host":
        ck.add(
            k("networkMode"),
            get("networkMode") if get("networkMode") is not _MISSING else "host",
            "driver swarm needs networkMode bridge (services on one overlay network, reached by service name);"
            " host networking cannot run replicas side by side",
        )
    dsn_host = ck.string(
        k("dsnHost"),
        get("dsnHost"),
        pattern=re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$"),
        rule="a host name or host:port (replaces the host of the DSNs given to containers)",
    )
    labels = ck.str_map(k("labels"), get("labels"), LABEL_KEY_RE, "a Docker label key (letters, digits, . _ / -)")
    sampling = _sampling(ck, k("sampling"), get("sampling"))
    sentry_target = _sentry_target(ck, config, raw, env, root, project, require_sentry)

    services, broken = _services(
        ck,
        prefix,
        get("services"),
        get("serviceOverrides"),
        network_mode=network_mode,
        stack=stack,
        globals_={"stack": stack, "environment": environment, "release": release or "", "app": app},
        project_mode=project_mode,
        driver=driver,
    )
    keys = _keys(ck, k("keys"), get("keys"), services, broken)
    _rotation(ck, k("rotation"), get("rotation"), keys, broken)
    monitors = _monitors(ck, k("monitors"), get("monitors"), services, broken)
    declared = get("monitors")
    monitor_names = {str(n) for n in declared} if isinstance(declared, Mapping) else {m.name for m in monitors}
    alerts = _alerts(ck, k("alerts"), get("alerts"), services, broken, monitor_names)

    flags = {
        name: ck.boolean(k(name), get(name), False)
        for name in ("deleteSharedProjects", "adoptExisting", "legacyAlerts", "sendDefaultPii", "debug")
    }
    if ck.problems:
        raise SettingsError(ck.problems)
    return StackSettings(
        project=project,
        stack=stack,
        app=app,
        environment=environment,
        release=release,
        release_source=release_source,
        driver=driver,
        network_mode=network_mode,
        deploy_dir=deploy_dir,
        project_mode=project_mode,
        delete_shared_projects=flags["deleteSharedProjects"],
        adopt_existing=flags["adoptExisting"],
        legacy_alerts=flags["legacyAlerts"],
        send_default_pii=flags["sendDefaultPii"],
        debug=flags["debug"],
        sampling=sampling,
        services=services,
        keys=tuple(sorted(keys.items())),
        alerts=alerts,
        monitors=monitors,
        labels=tuple(sorted(labels.items())),
        health_timeout=health_timeout or 180,
        dsn_host=dsn_host,
        sentry=sentry_target,
        compose_project_name=compose_project,
        swarm_endpoint_mode=endpoint_mode,
        swarm_publish_mode=publish_mode,
    )


# --------------------------------------------------------------------------- top-level pieces


ENV_NAME_BAD = re.compile(r"[\n\r\f/]")
RELEASE_BAD = re.compile(r"[\n\r\t\f\v/\\]")


def _environment(ck: _Checker, key: str, value: Any, stack: str) -> str:
    rule = "a Sentry environment name: 1-64 characters, no '/', no line breaks, not 'None'"
    text = ck.string(key, value, stack, rule=rule, max_len=64) or stack
    if ENV_NAME_BAD.search(text) or text == "None" or text != text.strip():
        ck.add(key, value, f"must be {rule}, without surrounding spaces")
    return text


def _release(ck: _Checker, key: str, value: Any, git: Callable[[], str | None]) -> tuple[str, Literal["config", "git"]]:
    rule = "a Sentry release: 1-200 characters, no '/', '\\', tabs or line breaks, not '.', '..' or 'latest'"
    if value is _MISSING or value is None:
        sha = git()
        if sha is None:
            ck.add(key, value, "not set, and `git rev-parse --short HEAD` found no commit: set it, e.g. 'myapp@1.2.3'")
            return "", "config"
        return sha, "git"
    text = ck.string(key, value, rule=rule, max_len=200)
    if text is None:
        return "", "config"
    if RELEASE_BAD.search(text) or text in (".", "..", "latest") or text != text.strip():
        ck.add(key, value, f"must be {rule}, without surrounding spaces")
    return text, "config"


def _sampling(ck: _Checker, key: str, value: Any) -> SamplingConfig:
    obj = ck.obj(key, value)
    if obj is None:
        return SamplingConfig()
    ck.unknown_keys(key, obj, SAMPLING_FIELDS)

    def rate(name: str) -> float | None:
        return ck.rate(f"{key}.{name}", obj.get(name, _MISSING))

    errors, traces, profiles = rate("errors"), rate("traces"), rate("profiles")
    profile_session, replays_session, replays_on_error = (
        rate("profileSession"),
        rate("replaysSession"),
        rate("replaysOnError"),
    )
    lifecycle = cast(
        ProfileLifecycle,
        ck.choice(f"{key}.profileLifecycle", obj.get("profileLifecycle", _MISSING), PROFILE_LIFECYCLES, "trace"),
    )
    bkey = f"{key}.budget"
    bobj = ck.obj(bkey, obj.get("budget", _MISSING)) or {}
    ck.unknown_keys(bkey, bobj, BUDGET_FIELDS)

    def amount(name: str, low: float = 0.0, integer: bool = False) -> float | None:
        return ck.number(f"{bkey}.{name}", bobj.get(name, _MISSING), low=low, integer=integer)

    instances = ck.integer(f"{bkey}.profiledInstances", bobj.get("profiledInstances", _MISSING), low=1)
    budget = Budget(
        spans_per_month=amount("spansPerMonth"),
        requests_per_day=amount("requestsPerDay"),
        spans_per_transaction=amount("spansPerTransaction", low=1.0),
        errors_per_month=amount("errorsPerMonth"),
        errors_per_day=amount("errorsPerDay"),
        replays_per_month=amount("replaysPerMonth"),
        sessions_per_day=amount("sessionsPerDay"),
        error_session_share=ck.rate(f"{bkey}.errorSessionShare", bobj.get("errorSessionShare", _MISSING)),
        profiles_per_month=amount("profilesPerMonth"),
        profile_hours_per_month=amount("profileHoursPerMonth"),
        profiled_instances=instances,
    )

    def both(rate_name: str, budget_name: str) -> None:
        if rate_name in obj and budget_name in bobj:
            ck.add(
                f"{bkey}.{budget_name}",
                bobj[budget_name],
                f"give either {key}.{rate_name} or {bkey}.{budget_name}, not both",
            )

    def needs(budget_name: str, required: str, what: str) -> None:
        if budget_name in bobj and required not in bobj:
            ck.add(f"{bkey}.{required}", _MISSING, f"required with {bkey}.{budget_name}: {what}")

    both("traces", "spansPerMonth")
    both("errors", "errorsPerMonth")
    both("profiles", "profilesPerMonth")
    both("profileSession", "profileHoursPerMonth")
    both("replaysSession", "replaysPerMonth")
    needs("spansPerMonth", "requestsPerDay", "expected requests (transactions) per day, a number >= 0")
    needs("spansPerMonth", "spansPerTransaction", "average spans per transaction, a number >= 1")
    needs("errorsPerMonth", "errorsPerDay", "expected errors per day, a number >= 0")
    needs("profilesPerMonth", "requestsPerDay", "expected requests (transactions) per day, a number >= 0")
    needs("replaysPerMonth", "sessionsPerDay", "expected browser sessions per day, a number >= 0")
    transaction_profiling = bool(profiles) or "profilesPerMonth" in bobj
    continuous_profiling = bool(profile_session) or "profileHoursPerMonth" in bobj
    if transaction_profiling and continuous_profiling:
        ck.add(
            f"{key}.profileSession",
            obj.get("profileSession", bobj.get("profileHoursPerMonth")),
            f"continuous profiling ({key}.profileSession) and transaction-based profiling ({key}.profiles)"
            " cannot both be on: set one of them to 0",
        )
    return SamplingConfig(
        errors=errors,
        traces=traces,
        profiles=profiles,
        profile_session=profile_session,
        profile_lifecycle=lifecycle,
        replays_session=replays_session,
        replays_on_error=replays_on_error,
        budget=budget,
    )


def _sentry_target(
    ck: _Checker,
    config: Mapping[str, Any],
    raw: Mapping[str, Any],
    env: Mapping[str, str],
    root: Path,
    project: str,
    require_sentry: bool,
) -> SentryTarget:
    from infra.sentry.client import normalize_base_url, read_localsentry_info
    from infra.sentry.errors import SentryConfigError

    base_key, org_key, team_key = f"{SENTRY_NS}:baseUrl", f"{SENTRY_NS}:organization", f"{project}:team"
    base = config.get(base_key) or env.get("SENTRY_BASE_URL") or None
    org = config.get(org_key) or env.get("SENTRY_ORG") or None
    team = ck.string(team_key, raw.get("team", _MISSING), pattern=SLUG_RE, rule=SLUG_RULE, max_len=50)
    if base is not None:
        try:
            normalize_base_url(str(base))
        except SentryConfigError as exc:
            ck.add(base_key, base, f"must be an http(s) URL or a sentry.io region (us, de): {exc}")
        if org is None:
            ck.add(org_key, _MISSING, "required when sentry:baseUrl (or SENTRY_BASE_URL) is set: the organization slug")
        elif not SLUG_RE.match(str(org)):
            ck.add(org_key, org, f"must be {SLUG_RULE}")
        if team is None and require_sentry and "team" not in raw:
            ck.add(
                team_key, _MISSING, "required when sentry:baseUrl is set: the slug of the team that owns the projects"
            )
        return SentryTarget(str(base), None if org is None else str(org), team)
    try:
        info = read_localsentry_info(root)
    except SentryConfigError as exc:
        info = None
        if require_sentry:
            ck.add(base_key, _MISSING, f"not set, and the embedded localsentry's info file is unusable: {exc}")
    if info is None:
        if require_sentry and not any(p.key == base_key for p in ck.problems):
            ck.add(
                base_key,
                _MISSING,
                "no Sentry configured: set sentry:baseUrl, sentry:organization and sentry-stacks:team (and the"
                " secret sentry:token), or start the embedded localsentry (`make demo` writes .localsentry/info.json)",
            )
        return SentryTarget(None, None if org is None else str(org), team)
    return SentryTarget(
        None,
        str(org) if org is not None else (str(info["organization"]) if info.get("organization") else None),
        team or (str(info["team"]) if info.get("team") else None),
    )


# --------------------------------------------------------------------------- services

IMAGE_RE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
IMAGE_RULE = "a Docker image reference such as 'sentry-stacks/backend:latest' or 'redis:7@sha256:...'"
NAME_RULE = "a service name: a lowercase letter, then lowercase letters, digits or '-' (at most 31)"
ENV_KEY_RULE = "an environment variable name: letters, digits and '_', not starting with a digit"
ALERT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
ALERT_NAME_RULE = "a name: letters, digits, spaces, '.', '-' and '_' (at most 64), starting with a letter or digit"


@dataclass
class _RawService:
    """A service's fields after merging services and serviceOverrides, each with the key it came from."""

    name: str
    fields: dict[str, tuple[Any, str]]
    env: dict[str, tuple[Any, str]]
    #: (field, subfield) -> the serviceOverrides key that set it, for fields merged one level deep
    sub_src: dict[tuple[str, str], str] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.fields.get(name, (_MISSING, ""))[0]

    def key(self, name: str, base: str) -> str:
        return f"{self.fields[name][1]}.{name}" if name in self.fields else f"{base}.{self.name}.{name}"


def _merge_services(ck: _Checker, prefix: str, services_raw: Any, overrides_raw: Any) -> list[_RawService]:
    skey, okey = f"{prefix}services", f"{prefix}serviceOverrides"
    services = ck.obj(skey, services_raw, "a map of service names to service settings")
    overrides = ck.obj(okey, overrides_raw, "a map of service names to settings replacing those in services")
    if services is None:
        return []
    if not services:
        ck.add(skey, services_raw, "must describe at least one service (a map of service names to settings)")
        return []
    merged: dict[str, _RawService] = {}
    for name, body in services.items():
        key = f"{skey}.{name}"
        if not SERVICE_NAME_RE.match(name):
            ck.add(key, body, f"bad service name '{name}': must be {NAME_RULE}")
            continue
        obj = ck.obj(key, body, "an object with the service's settings")
        if obj is None:
            continue
        ck.unknown_keys(key, obj, SERVICE_FIELDS)
        raw = _RawService(name, {f: (v, key) for f, v in obj.items() if f in SERVICE_FIELDS}, {})
        env = raw.fields.pop("environment", None)
        if env is not None:
            env_obj = ck.obj(f"{key}.environment", env[0], "a map of variable names to values")
            for var, val in (env_obj or {}).items():
                raw.env[var] = (val, f"{key}.environment")
        merged[name] = raw
    for name, body in (overrides or {}).items():
        key = f"{okey}.{name}"
        if name not in services:
            close = difflib.get_close_matches(name, list(services), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            ck.add(key, body, f"no such service in {skey}; {hint}services: {', '.join(sorted(services))}")
            continue
        obj = ck.obj(key, body, "an object with settings that replace the service's")
        if obj is None or name not in merged:
            continue
        ck.unknown_keys(key, obj, SERVICE_FIELDS)
        target = merged[name]
        for fname, value in obj.items():
            if fname == "environment":
                env_obj = ck.obj(f"{key}.environment", value, "a map of variable names to values (null removes one)")
                for var, val in (env_obj or {}).items():
                    if val is None:
                        target.env.pop(var, None)
                    else:
                        target.env[var] = (val, f"{key}.environment")
            elif fname in MERGED_FIELDS and isinstance(value, Mapping) and isinstance(target.get(fname), Mapping):
                base_value, base_src = target.fields[fname]
                combined = dict(base_value)
                for sub, sub_value in value.items():
                    if sub_value is None:
                        combined.pop(sub, None)
                    else:
                        combined[sub] = sub_value
                        target.sub_src[(fname, str(sub))] = key
                target.fields[fname] = (combined, base_src)
            elif fname in SERVICE_FIELDS:
                target.fields[fname] = (value, key)
    return [merged[n] for n in sorted(merged)]


def _attribute_overrides(ck: _Checker, base: str, raws: Sequence[_RawService]) -> None:
    """Problems in a merged sub-field point at the serviceOverrides key that set it."""
    moves: list[tuple[str, str]] = []
    for r in raws:
        for (fname, sub), src in r.sub_src.items():
            moves.append((f"{base}.{r.name}.{fname}.{sub}", f"{src}.{fname}.{sub}"))
    if not moves:
        return
    fixed: list[Problem] = []
    for p in ck.problems:
        key = p.key
        for old, new in moves:
            if key == old or key.startswith((old + ".", old + "[")):
                key = new + key[len(old) :]
                break
        fixed.append(Problem(key, p.value, p.message))
    ck.problems = fixed


def _ip(ck: _Checker, key: str, value: Any, default: str) -> str:
    import ipaddress

    text = ck.string(key, value, default, rule="an IP address such as 127.0.0.1 or 0.0.0.0")
    try:
        ipaddress.ip_address(text or default)
    except ValueError:
        ck.add(key, value, "must be an IP address such as 127.0.0.1 or 0.0.0.0")
        return default
    return text or default


def _command(ck: _Checker, key: str, value: Any) -> tuple[str, ...] | None:
    if value is _MISSING or value is None:
        return None
    if isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as exc:
            ck.add(key, value, f"must be a command line that splits into words ({exc}), or a list of strings")
            return None
        if parts:
            return tuple(parts)
    elif (
        isinstance(value, list)
        and value
        and all(isinstance(p, str | int | float) and not isinstance(p, bool) for p in value)
    ):
        return tuple(str(p) for p in value)
    ck.add(key, value, "must be a non-empty list of strings (exec form) or a command line string")
    return None


def _healthcheck(ck: _Checker, key: str, value: Any) -> Healthcheck | None:
    if value is _MISSING or value is None:
        return None
    obj = ck.obj(key, value, "an object: {test, interval, timeout, retries, startPeriod}")
    if obj is None:
        return None
    ck.unknown_keys(key, obj, HEALTHCHECK_FIELDS)
    test_raw = obj.get("test", _MISSING)
    test: tuple[str, ...] | None = None
    rule = "a list starting with CMD or CMD-SHELL (Docker's form), or a shell command string"
    if isinstance(test_raw, str) and test_raw.strip():
        test = ("CMD-SHELL", test_raw)
    elif isinstance(test_raw, list) and len(test_raw) >= 2 and all(isinstance(t, str) for t in test_raw):
        if test_raw[0] in ("CMD", "CMD-SHELL"):
            test = tuple(test_raw)
    if test is None:
        ck.add(f"{key}.test", test_raw, f"must be {rule}")
    interval = ck.integer(f"{key}.interval", obj.get("interval", _MISSING), low=1, high=3600)
    timeout = ck.integer(f"{key}.timeout", obj.get("timeout", _MISSING), low=1, high=3600)
    retries = ck.integer(f"{key}.retries", obj.get("retries", _MISSING), low=1, high=1000)
    start = ck.integer(f"{key}.startPeriod", obj.get("startPeriod", _MISSING), low=0, high=3600)
    if test is None:
        return None
    base = Healthcheck(test=test)
    return Healthcheck(
        test=test,
        interval=interval if interval is not None else base.interval,
        timeout=timeout if timeout is not None else base.timeout,
        retries=retries if retries is not None else base.retries,
        start_period=start if start is not None else base.start_period,
    )


def _build(ck: _Checker, key: str, value: Any) -> BuildSpec | None:
    if value is _MISSING or value is None:
        return None
    if isinstance(value, str):
        value = {"context": value}
    obj = ck.obj(key, value, "a build context path, or an object {context, dockerfile, args, target}")
    if obj is None:
        return None
    ck.unknown_keys(key, obj, BUILD_FIELDS)
    context = ck.string(f"{key}.context", obj.get("context", _MISSING), rule="a folder path (the build context)")
    if context is None and "context" not in obj:
        ck.add(f"{key}.context", _MISSING, "required: the folder to build the image from")
    dockerfile = ck.string(f"{key}.dockerfile", obj.get("dockerfile", _MISSING), rule="a file path")
    target = ck.string(f"{key}.target", obj.get("target", _MISSING), rule="a build stage name")
    args = ck.str_map(f"{key}.args", obj.get("args", _MISSING), ENV_KEY_RE, "a build argument name")
    if context is None:
        return None
    return BuildSpec(context=context, dockerfile=dockerfile, args=tuple(sorted(args.items())), target=target)


def _service_sentry(
    ck: _Checker, key: str, value: Any, stack: str, project_mode: ProjectMode, svc: str
) -> ServiceSentry | None:
    obj = ck.obj(key, value, "an object: {project, platform, name, ...}")
    if not obj:
        return None
    ck.unknown_keys(key, obj, SENTRY_FIELDS)
    max_slug = PROJECT_SLUG_MAX - (len(stack) + 1 if project_mode == "per-environment" else 0)
    project = ck.string(
        f"{key}.project", obj.get("project", _MISSING), pattern=SLUG_RE, rule=SLUG_RULE, max_len=max_slug
    )
    if "project" not in obj:
        ck.add(f"{key}.project", _MISSING, f"required: the Sentry project slug, {SLUG_RULE}")
    platform_raw = obj.get("platform", _MISSING)
    platform: str | None = None
    if platform_raw is _MISSING:
        ck.add(f"{key}.platform", _MISSING, "required: a Sentry platform id such as python-django, javascript, node")
    elif not isinstance(platform_raw, str) or platform_raw not in PLATFORMS:
        close = difflib.get_close_matches(str(platform_raw), sorted(PLATFORMS), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        ck.add(
            f"{key}.platform",
            platform_raw,
            f"unknown Sentry platform id; {hint}allowed: Sentry's platform ids"
            " (python, python-django, python-celery, javascript, javascript-react, node, go, java, ..., other)",
        )
    else:
        platform = platform_raw
    name = ck.string(f"{key}.name", obj.get("name", _MISSING), rule="a display name", max_len=50)
    resolve = ck.integer(f"{key}.resolveAgeHours", obj.get("resolveAgeHours", _MISSING), low=0, high=8760)
    domains_raw = obj.get("allowedDomains", _MISSING)
    domains: tuple[str, ...] | None = None
    if domains_raw is not _MISSING and domains_raw is not None:
        items = ck.list(f"{key}.allowedDomains", domains_raw, "a list of domains (e.g. ['*'] or ['example.com'])")
        if items is not None:
            if not all(isinstance(d, str) and d.strip() for d in items):
                ck.add(f"{key}.allowedDomains", domains_raw, "must be a list of non-empty domain strings")
            else:
                domains = tuple(items)
    prefix = ck.string(f"{key}.subjectPrefix", obj.get("subjectPrefix", _MISSING), rule="a string", max_len=200)
    default_key = ck.choice(f"{key}.defaultKey", obj.get("defaultKey", _MISSING), DEFAULT_KEY_POLICIES, "delete")
    default_alert = ck.boolean(f"{key}.defaultAlert", obj.get("defaultAlert", _MISSING), False)
    filters: list[InboundFilterSpec] = []
    fkey = f"{key}.inboundFilters"
    fobj = ck.obj(
        fkey, obj.get("inboundFilters", _MISSING), "a map of filter ids to true/false (legacy-browsers: a list)"
    )
    for fid, fval in sorted((fobj or {}).items()):
        if fid not in FILTER_IDS:
            close = difflib.get_close_matches(fid, FILTER_IDS, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            ck.add(f"{fkey}.{fid}", fval, f"unknown inbound filter; {hint}allowed: {', '.join(FILTER_IDS)}")
        elif fid == "legacy-browsers" and isinstance(fval, list):
            if not fval or not all(isinstance(x, str) and x for x in fval):
                ck.add(f"{fkey}.{fid}", fval, "must be true/false or a non-empty list of browser ids (ie, safari, ...)")
            else:
                filters.append(InboundFilterSpec(svc, fid, True, tuple(fval)))
        elif isinstance(fval, bool):
            filters.append(InboundFilterSpec(svc, fid, fval))
        else:
            allowed = "true/false or a list of browser ids" if fid == "legacy-browsers" else "true or false"
            ck.add(f"{fkey}.{fid}", fval, f"must be {allowed}")
    if project is None or platform is None:
        return None
    return ServiceSentry(
        project=project,
        name=name or project,
        platform=platform,
        resolve_age_hours=resolve,
        allowed_domains=domains,
        subject_prefix=prefix,
        default_key=cast(Literal["keep", "deactivate", "delete"], default_key),
        default_alert=default_alert,
        inbound_filters=tuple(filters),
    )


def _public_url(svc: ServiceSettings, network_mode: NetworkMode) -> str | None:
    if svc.port is None or not svc.public:
        return None
    if network_mode == "host":
        host = svc.bind if svc.bind not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{_url_host(host)}:{svc.port}"
    host = svc.host_ip if svc.host_ip not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{_url_host(host)}:{svc.host_port or svc.port}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _internal_host(svc: ServiceSettings, network_mode: NetworkMode) -> str:
    if network_mode == "bridge":
        return svc.name
    return svc.bind if svc.bind not in ("0.0.0.0", "::") else "127.0.0.1"


def _is_loopback(ip: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(ip).is_loopback


def _services(
    ck: _Checker,
    prefix: str,
    services_raw: Any,
    overrides_raw: Any,
    *,
    network_mode: NetworkMode,
    stack: str,
    globals_: Mapping[str, str],
    project_mode: ProjectMode,
    driver: Driver = "compose",
) -> tuple[tuple[ServiceSettings, ...], set[str]]:
    """The services, and the names of those whose sentry block is declared but invalid (already reported;
    references to them are not reported again)."""
    base = f"{prefix}services"
    raws = _merge_services(ck, prefix, services_raw, overrides_raw)
    names = {r.name for r in raws}
    staged: dict[str, ServiceSettings] = {}
    keys_of: dict[str, _RawService] = {r.name: r for r in raws}
    for r in raws:
        key = partial(_RawService.key, r, base=base)
        image = ck.string(key("image"), r.get("image"), pattern=IMAGE_RE, rule=IMAGE_RULE)
        if r.get("image") is _MISSING:
            ck.add(key("image"), _MISSING, f"required: {IMAGE_RULE} (with build, the tag given to the built image)")
        port = ck.integer(key("port"), r.get("port"), low=1, high=65535)
        host_port = ck.integer(key("hostPort"), r.get("hostPort"), low=1, high=65535)
        default_bind = "127.0.0.1" if network_mode == "host" else "0.0.0.0"
        bind = _ip(ck, key("bind"), r.get("bind"), default_bind)
        host_ip = _ip(ck, key("hostIp"), r.get("hostIp"), "127.0.0.1")
        public = ck.boolean(key("public"), r.get("public"), port is not None)
        if network_mode == "host" and host_port is not None and port is not None and host_port != port:
            ck.add(
                key("hostPort"),
                r.get("hostPort"),
                "only applies with networkMode bridge: with host the service"
                f" listens on its port ({port}) directly; remove hostPort or set it to the port",
            )
        if network_mode == "bridge" and _is_loopback(bind):
            ck.add(
                key("bind"),
                r.get("bind"),
                "with networkMode bridge the service must listen on 0.0.0.0 so that"
                " other containers and the published port reach it",
            )
        if public and port is None and r.get("public") is not _MISSING:
            ck.add(key("public"), r.get("public"), "a public service needs a port: set port, or public: false")
        sentry = _service_sentry(ck, key("sentry"), r.get("sentry"), stack, project_mode, r.name)
        dsn_from = ck.string(key("dsnFrom"), r.get("dsnFrom"), pattern=SERVICE_NAME_RE, rule=NAME_RULE)
        template_raw = r.get("envTemplate")
        restart = ck.choice(key("restart"), r.get("restart"), RESTART_POLICIES, "unless-stopped")
        replicas = ck.integer(key("replicas"), r.get("replicas"), low=1, high=MAX_REPLICAS) or 1
        if replicas > 1 and driver != "swarm":
            ck.add(key("replicas"), r.get("replicas"), "more than 1 replica needs driver swarm (compose and docker"
                   " run one container per service); set driver: swarm or replicas: 1")
        dsn_reload = cast(DsnReload, ck.choice(key("dsnReload"), r.get("dsnReload"), DSN_RELOADS, "restart"))
        user = ck.string(key("user"), r.get("user"), pattern=USER_RE, rule="a numeric uid or uid:gid, e.g. 10001")
        labels = ck.str_map(key("labels"), r.get("labels"), LABEL_KEY_RE, "a Docker label key")
        depends_raw = ck.list(key("dependsOn"), r.get("dependsOn"), "a list of service names") or []
        depends: list[str] = []
        for dep in depends_raw:
            if not isinstance(dep, str) or dep not in names or dep == r.name:
                others = ", ".join(sorted(names - {r.name}))
                ck.add(key("dependsOn"), dep, f"must name another service of this stack ({others})")
            elif dep not in depends:
                depends.append(dep)
        staged[r.name] = ServiceSettings(
            name=r.name,
            image=image or "",
            build=_build(ck, key("build"), r.get("build")),
            command=None,
            port=port,
            host_port=host_port if network_mode == "bridge" else None,
            host_ip=host_ip,
            bind=bind,
            public=public,
            healthcheck=None,
            depends_on=tuple(depends),
            environment=(),
            sentry=sentry,
            dsn_from=dsn_from,
            env_template=cast(EnvTemplate, template_raw) if template_raw in ENV_TEMPLATES else "service",
            restart=restart,
            labels=tuple(sorted(labels.items())),
            replicas=replicas,
            dsn_reload=dsn_reload,
            user=user,
        )

    broken = {n for n, svc in staged.items() if svc.sentry is None and keys_of[n].get("sentry") not in (_MISSING, None)}
    _check_cycles(ck, base, staged, keys_of)
    _check_unique(ck, base, staged, keys_of, network_mode)

    # Sentry reporting: own project or another service's DSN; template per platform.
    out: list[ServiceSettings] = []
    for name, svc in sorted(staged.items()):
        r = keys_of[name]
        key = partial(_RawService.key, r, base=base)
        dsn_service: str | None = None
        platform: str | None = None
        if svc.sentry is not None:
            if svc.dsn_from is not None:
                ck.add(
                    key("dsnFrom"),
                    svc.dsn_from,
                    "a service with its own sentry project cannot also use dsnFrom; remove one of them",
                )
            dsn_service, platform = name, svc.sentry.platform
        elif svc.dsn_from is not None:
            owner = staged.get(svc.dsn_from)
            if svc.dsn_from in broken:
                broken.add(name)
            elif owner is None or owner.sentry is None or svc.dsn_from == name:
                owners = ", ".join(sorted(n for n, s in staged.items() if s.sentry is not None)) or "none"
                ck.add(key("dsnFrom"), svc.dsn_from, f"must name a service with its own sentry project ({owners})")
            else:
                dsn_service, platform = svc.dsn_from, owner.sentry.platform
        elif r.get("sentry") is not _MISSING and r.get("sentry") is not None and svc.sentry is None:
            pass  # the sentry block had problems, already reported
        default_template: EnvTemplate = "service"
        if platform is not None:
            default_template = "frontend" if platform.startswith("javascript") else "backend"
        template = cast(
            EnvTemplate, ck.choice(key("envTemplate"), r.get("envTemplate"), ENV_TEMPLATES, default_template)
        )
        if template != "service" and platform is None and r.get("envTemplate") is not _MISSING:
            ck.add(
                key("envTemplate"),
                r.get("envTemplate"),
                "the backend and frontend templates need a Sentry DSN:"
                " give the service a sentry project or dsnFrom, or use envTemplate: service",
            )
        if svc.dsn_reload == "file" and template == "service" and name not in broken:
            ck.add(key("dsnReload"), r.get("dsnReload"), "file reloads the Sentry DSN from the env file: the service"
                   " needs a sentry project or dsnFrom (and an app that re-reads SENTRY_STACKS_ENV_FILE)")
        out.append(replace(svc, dsn_service=dsn_service, platform=platform, env_template=template))

    # Placeholders need every service's address; resolve them last.
    by_name = {s.name: s for s in out}
    final: list[ServiceSettings] = []
    for svc in out:
        r = keys_of[svc.name]
        key = partial(_RawService.key, r, base=base)
        resolve = _Resolver(ck, by_name, network_mode, globals_, svc.name)
        command = _command(ck, key("command"), r.get("command"))
        if command is not None:
            command = tuple(resolve(f"{key('command')}", part) for part in command)
        health = _healthcheck(ck, key("healthcheck"), r.get("healthcheck"))
        if health is not None:
            test = tuple(resolve(f"{key('healthcheck')}.test", part) for part in health.test)
            health = Healthcheck(test, health.interval, health.timeout, health.retries, health.start_period)
        reserved = set(RESERVED_ENV if svc.port is not None else ())
        if svc.env_template != "service":
            reserved |= set(SENTRY_ENV_COMMON)
            reserved |= set(SENTRY_ENV_BACKEND if svc.env_template == "backend" else SENTRY_ENV_FRONTEND)
        env: dict[str, str] = {}
        for var, (val, src) in sorted(r.env.items()):
            vkey = f"{src}.{var}"
            if not ENV_KEY_RE.match(var):
                ck.add(vkey, val, f"bad variable name '{var}': must be {ENV_KEY_RULE}")
                continue
            if var in reserved:
                ck.add(
                    vkey,
                    val,
                    f"{var} is set by the toolkit for this service (from port/bind, sampling, sendDefaultPii,"
                    " debug, release, environment or the DSN); remove it here",
                )
                continue
            if isinstance(val, bool):
                val = "true" if val else "false"
            if isinstance(val, float | int) and not isinstance(val, bool):
                val = str(val)
            if not isinstance(val, str):
                ck.add(vkey, val, "must be a string, number or boolean")
                continue
            env[var] = resolve(vkey, val)
        final.append(replace(svc, command=command, healthcheck=health, environment=tuple(sorted(env.items()))))
    _attribute_overrides(ck, base, raws)
    return tuple(final), broken


def _check_cycles(
    ck: _Checker, base: str, services: Mapping[str, ServiceSettings], raws: Mapping[str, _RawService]
) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in services[name].depends_on:
            if state.get(dep) == 1:
                cycle = " -> ".join([*path[path.index(dep) :], dep]) if dep in path else f"{name} -> {dep}"
                ck.add(raws[name].key("dependsOn", base), list(services[name].depends_on), f"dependency cycle: {cycle}")
            elif state.get(dep) is None and dep in services:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(services):
        if state.get(name) is None:
            visit(name, [name])


def _check_unique(
    ck: _Checker,
    base: str,
    services: Mapping[str, ServiceSettings],
    raws: Mapping[str, _RawService],
    network_mode: NetworkMode,
) -> None:
    seen_ports: dict[int, str] = {}
    seen_projects: dict[str, str] = {}
    for name, svc in sorted(services.items()):
        published = svc.port if network_mode == "host" else (svc.host_port or svc.port if svc.public else None)
        field_name = "port" if network_mode == "host" or svc.host_port is None else "hostPort"
        if published is not None:
            if published in seen_ports:
                ck.add(
                    raws[name].key(field_name, base),
                    published,
                    f"port {published} is already used by service {seen_ports[published]} on this machine;"
                    " every service needs its own (and dev and prod need different ones with networkMode host)",
                )
            else:
                seen_ports[published] = name
        if svc.sentry is not None:
            slug = svc.sentry.project
            if slug in seen_projects:
                ck.add(
                    raws[name].key("sentry", base) + ".project",
                    slug,
                    f"project {slug} already belongs to service {seen_projects[slug]}; to report to the same"
                    f" project, remove sentry here and set dsnFrom: {seen_projects[slug]}",
                )
            else:
                seen_projects[slug] = name


class _Resolver:
    """Resolves ``${...}`` placeholders in one service's strings (see the module docstring)."""

    ATTRS = ("bind", "host", "port", "url", "publicUrl")

    def __init__(
        self,
        ck: _Checker,
        services: Mapping[str, ServiceSettings],
        network_mode: NetworkMode,
        globals_: Mapping[str, str],
        self_name: str,
    ) -> None:
        self.ck, self.services, self.mode, self.globals, self.self_name = (
            ck,
            services,
            network_mode,
            globals_,
            self_name,
        )

    def allowed(self) -> str:
        return (
            "${stack}, ${environment}, ${release}, ${app}, ${<service>.host|port|bind|url|publicUrl}"
            " with <service> one of " + ", ".join(["self", *sorted(self.services)]) + "; write $${ for a literal ${"
        )

    def __call__(self, key: str, text: str) -> str:
        def sub(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            expr = match.group(1).strip()
            if expr in self.globals:
                return self.globals[expr]
            svc_name, _, attr = expr.partition(".")
            svc_name = self.self_name if svc_name == "self" else svc_name
            svc = self.services.get(svc_name)
            if svc is None or attr not in self.ATTRS:
                shown = "" if self.ck.is_secret(key) else f" ${{{expr}}}"
                self.ck.add(key, text, f"unknown placeholder{shown}; allowed: {self.allowed()}")
                return match.group(0)
            if svc.port is None:
                self.ck.add(key, text, f"${{{expr}}}: service {svc.name} has no port")
                return match.group(0)
            host = _internal_host(svc, self.mode)
            if attr == "bind":
                return svc.bind
            if attr == "host":
                return host
            if attr == "port":
                return str(svc.port)
            if attr == "url":
                return f"http://{_url_host(host)}:{svc.port}"
            url = _public_url(svc, self.mode)
            if url is None:
                self.ck.add(key, text, f"${{{expr}}}: service {svc.name} is not public (public: false)")
                return match.group(0)
            return url

        return PLACEHOLDER_RE.sub(sub, text)


# --------------------------------------------------------------------------- keys, alerts, monitors

BROWSER_SDK_RE = re.compile(r"^([0-9]+\.x|latest)$")


def _keys(
    ck: _Checker, key: str, value: Any, services: Sequence[ServiceSettings], broken: set[str]
) -> dict[str, ServiceKeys]:
    """Key generations per service that owns a Sentry project; default: one active generation ``g1``."""
    owners = {s.name for s in services if s.sentry is not None}
    by_name = {s.name: s for s in services}
    obj = ck.obj(key, value, "a map of service names to {current, generations}") or {}
    out: dict[str, ServiceKeys] = {}
    for name in sorted(obj):
        skey = f"{key}.{name}"
        svc = by_name.get(name)
        owner_ok = svc is not None and name in owners
        if not owner_ok and name not in broken:
            if svc is not None and svc.dsn_service is not None and svc.dsn_service != name:
                msg = f"{name} uses the DSN of {svc.dsn_service} (dsnFrom); configure keys under {svc.dsn_service}"
            else:
                msg = f"must name a service with its own sentry project ({', '.join(sorted(owners)) or 'none'})"
            ck.add(skey, obj[name], msg)
        body = ck.obj(skey, obj[name], "an object: {current, generations}")
        if body is None:
            continue
        ck.unknown_keys(skey, body, KEYS_FIELDS)
        gkey = f"{skey}.generations"
        gens_obj = ck.obj(gkey, body.get("generations", _MISSING), "a map of generation labels to {active, ...}")
        if gens_obj is not None and not gens_obj:
            ck.add(
                gkey,
                body.get("generations", _MISSING),
                "must list at least one key generation, e.g. {g1: {active: true}}",
            )
        gens: list[KeySpec] = []
        for gen in sorted(gens_obj or {}):
            gens_entry = _generation(ck, f"{gkey}.{gen}", gen, (gens_obj or {})[gen])
            if gens_entry is not None:
                gens.append(gens_entry)
        current = ck.string(f"{skey}.current", body.get("current", _MISSING), rule="the label of a key generation")
        if "current" not in body:
            ck.add(f"{skey}.current", _MISSING, "required: the generation whose DSN the service uses")
        elif current is not None and gens_obj:
            spec = next((g for g in gens if g.generation == current), None)
            labels = ", ".join(sorted(gens_obj))
            if current not in gens_obj:
                ck.add(f"{skey}.current", current, f"no such generation; generations: {labels}")
            elif spec is not None and not spec.active:
                actives = ", ".join(g.generation for g in gens if g.active) or "none"
                ck.add(
                    f"{skey}.current",
                    current,
                    f"generation {current} is disabled (active: false) and a disabled"
                    f" key can never be current; make an active generation current (active: {actives})",
                )
        if owner_ok and current is not None and gens:
            out[name] = ServiceKeys(current=current, generations=tuple(gens))
    for name in sorted(owners - set(obj)):
        out[name] = ServiceKeys(current="g1", generations=(KeySpec("g1"),))
    return out


def _rotation(ck: _Checker, key: str, value: Any, keys: Mapping[str, ServiceKeys], broken: set[str]) -> None:
    """``rotation.<service>``: the record of a DSN rotation under way, written by scripts/rotate-dsn."""
    from infra.rotation import Rotation

    obj = ck.obj(key, value, "a map of service names to rotation records (written by scripts/rotate-dsn)") or {}
    for name, record in sorted(obj.items()):
        if name not in keys:
            ck.add(
                f"{key}.{name}", record, f"must name a service with client keys ({', '.join(sorted(keys)) or 'none'})"
            )
            continue
        try:
            rotation = Rotation.from_config(name, record)
        except ValueError as exc:
            ck.add(f"{key}.{name}", record, f"not a rotation record: {exc}")
            continue
        labels = {g.generation for g in keys[name].generations}
        for which, gen in (("old", rotation.old), ("new", rotation.new)):
            if gen not in labels and rotation.phase != "finished":
                ck.add(f"{key}.{name}.{which}", gen, f"no such key generation of {name} ({', '.join(sorted(labels))})")


def _generation(ck: _Checker, key: str, label: str, value: Any) -> KeySpec | None:
    if not GENERATION_RE.match(label):
        ck.add(
            key,
            value,
            f"bad generation label '{label}': 1-32 of a-z, 0-9, '_', '.', '-', starting with a letter or digit",
        )
        return None
    if isinstance(value, bool):
        value = {"active": value}
    obj = ck.obj(key, value, "an object: {active, rateLimit, browserSdkVersion, loader}")
    if obj is None:
        return None
    ck.unknown_keys(key, obj, GENERATION_FIELDS)
    active = ck.boolean(f"{key}.active", obj.get("active", _MISSING), True)
    rate_limit: RateLimit | None = None
    if obj.get("rateLimit") is not None:
        rkey = f"{key}.rateLimit"
        robj = ck.obj(rkey, obj["rateLimit"], "an object: {count, window}") or {}
        ck.unknown_keys(rkey, robj, ("count", "window"))
        count = ck.integer(f"{rkey}.count", robj.get("count", _MISSING), low=1)
        window = ck.integer(f"{rkey}.window", robj.get("window", _MISSING), low=1, high=86400)
        for name in ("count", "window"):
            if name not in robj:
                ck.add(f"{rkey}.{name}", _MISSING, "required: count >= 1 events per window of 1..86400 seconds")
        if count is not None and window is not None:
            rate_limit = RateLimit(count, window)
    sdk = ck.string(
        f"{key}.browserSdkVersion",
        obj.get("browserSdkVersion", _MISSING),
        pattern=BROWSER_SDK_RE,
        rule="a loader SDK version such as '8.x' or 'latest'",
    )
    loader: LoaderOptions | None = None
    if obj.get("loader") is not None:
        lkey = f"{key}.loader"
        lobj = ck.obj(lkey, obj["loader"]) or {}
        ck.unknown_keys(lkey, lobj, LOADER_FIELDS)
        vals = {f: (ck.boolean(f"{lkey}.{f}", lobj[f], False) if f in lobj else None) for f in LOADER_FIELDS}
        loader = LoaderOptions(
            has_replay=vals["hasReplay"],
            has_performance=vals["hasPerformance"],
            has_debug=vals["hasDebug"],
            has_feedback=vals["hasFeedback"],
            has_logs_and_metrics=vals["hasLogsAndMetrics"],
        )
    return KeySpec(generation=label, active=active, rate_limit=rate_limit, browser_sdk_version=sdk, loader=loader)


def _reporting_service(
    ck: _Checker, key: str, value: Any, services: Sequence[ServiceSettings], broken: set[str]
) -> str | None:
    """A service that reports to Sentry, mapped to the service that owns its project."""
    by_name = {s.name: s for s in services}
    svc = by_name.get(value) if isinstance(value, str) else None
    if value in broken:
        return None
    if svc is None or svc.dsn_service is None:
        allowed = ", ".join(sorted(s.name for s in services if s.dsn_service is not None)) or "none"
        ck.add(key, value, f"must name a service that reports to Sentry ({allowed})")
        return None
    return svc.dsn_service


def _conditions(ck: _Checker, key: str, value: Any) -> tuple[AlertCondition, ...] | None:
    items = ck.list(key, value, "a list of conditions {type, comparison, result}")
    if items is None:
        return None
    out: list[AlertCondition] = []
    for i, item in enumerate(items):
        ikey = f"{key}[{i}]"
        if isinstance(item, str):
            item = {"type": item}
        obj = ck.obj(ikey, item, "a condition {type, comparison, result} or a condition type")
        if obj is None:
            continue
        ck.unknown_keys(ikey, obj, CONDITION_FIELDS)
        ctype = ck.string(
            f"{ikey}.type",
            obj.get("type", _MISSING),
            pattern=IDENT_RE,
            rule="a condition type such as first_seen_event, regression_event, event_frequency_count, level",
        )
        if "type" not in obj:
            ck.add(f"{ikey}.type", _MISSING, "required: the condition type")
        result = ck.boolean(f"{ikey}.result", obj.get("result", _MISSING), True)
        if ctype is not None:
            out.append(AlertCondition(ctype, obj.get("comparison", True), result))
    return tuple(out)


def _distinct_names(ck: _Checker, key: str, obj: Mapping[str, Any]) -> None:
    """Names become Pulumi logical names (lowercased, other characters as '-'): they must stay distinct."""
    seen: dict[str, str] = {}
    for name in sorted(obj):
        norm = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        if norm in seen:
            ck.add(
                f"{key}.{name}", obj[name], f"too close to the name '{seen[norm]}' (both become '{norm}'); rename one"
            )
        else:
            seen[norm] = name


def _alerts(
    ck: _Checker,
    key: str,
    value: Any,
    services: Sequence[ServiceSettings],
    broken: set[str],
    monitor_names: set[str],
) -> tuple[AlertSpec, ...]:
    obj = ck.obj(key, value, "a map of alert names to alert settings") or {}
    _distinct_names(ck, key, obj)
    out: list[AlertSpec] = []
    for name in sorted(obj):
        akey = f"{key}.{name}"
        if not ALERT_NAME_RE.match(name):
            ck.add(akey, obj[name], f"bad alert name '{name}': must be {ALERT_NAME_RULE}")
            continue
        body = ck.obj(akey, obj[name], "an object with the alert's settings")
        if body is None:
            continue
        ck.unknown_keys(akey, body, ALERT_FIELDS)
        svcs: list[str] = []
        for i, s in enumerate(
            ck.list(f"{akey}.services", body.get("services", _MISSING), "a list of service names") or []
        ):
            owner = _reporting_service(ck, f"{akey}.services[{i}]", s, services, broken)
            if owner is not None and owner not in svcs:
                svcs.append(owner)
        if not body.get("services"):
            ck.add(
                f"{akey}.services",
                body.get("services", _MISSING),
                "must list at least one service that reports to Sentry",
            )
        actions = _actions(ck, f"{akey}.actions", body.get("actions", _MISSING))
        triggers = _conditions(ck, f"{akey}.triggers", body.get("triggers", _MISSING)) if "triggers" in body else None
        filters = _conditions(ck, f"{akey}.filters", body.get("filters", _MISSING)) or ()
        trigger_logic = ck.choice(f"{akey}.triggerLogic", body.get("triggerLogic", _MISSING), LOGIC_TYPES, "any-short")
        filter_logic = ck.choice(f"{akey}.filterLogic", body.get("filterLogic", _MISSING), LOGIC_TYPES, "all")
        monitors: list[str] = []
        for i, m in enumerate(
            ck.list(f"{akey}.monitors", body.get("monitors", _MISSING), "a list of monitor names") or []
        ):
            if m not in monitor_names:
                ck.add(
                    f"{akey}.monitors[{i}]",
                    m,
                    f"no such monitor; monitors: {', '.join(sorted(monitor_names)) or 'none'}",
                )
            else:
                monitors.append(str(m))
        freq_raw = body.get("frequencyMinutes", _MISSING)
        freq = ck.integer(f"{akey}.frequencyMinutes", freq_raw, low=0)
        if freq is not None and freq not in FREQUENCIES:
            ck.add(f"{akey}.frequencyMinutes", freq_raw, f"must be one of {', '.join(map(str, FREQUENCIES))}")
        environment = ck.string(
            f"{akey}.environment", body.get("environment", _MISSING), rule="a Sentry environment name"
        )
        owner = ck.string(f"{akey}.owner", body.get("owner", _MISSING), pattern=OWNER_RE, rule="team:<id> or user:<id>")
        enabled = ck.boolean(f"{akey}.enabled", body.get("enabled", _MISSING), True)
        if not actions or not svcs:
            continue
        spec = AlertSpec(
            name=name,
            services=tuple(svcs),
            actions=actions,
            trigger_logic=trigger_logic,
            filters=filters,
            filter_logic=filter_logic,
            monitors=tuple(monitors),
            frequency_minutes=freq if freq in FREQUENCIES and freq is not None else 30,
            environment=environment,
            owner=owner,
            enabled=enabled,
        )
        if triggers is not None:
            spec = replace(spec, triggers=triggers)
        out.append(spec)
    return tuple(out)


def _actions(ck: _Checker, key: str, value: Any) -> tuple[AlertAction, ...]:
    items = ck.list(key, value, "a list of actions {type, targetType, targetIdentifier, integrationId, data}")
    if items is None:
        return ()
    if not items:
        ck.add(key, value, "must list at least one action, e.g. [{type: email, targetType: issue_owners}]")
        return ()
    out: list[AlertAction] = []
    for i, item in enumerate(items):
        ikey = f"{key}[{i}]"
        obj = ck.obj(ikey, item, "an action {type, targetType, targetIdentifier, integrationId, data}")
        if obj is None:
            continue
        ck.unknown_keys(ikey, obj, ACTION_FIELDS)
        atype = ck.choice(f"{ikey}.type", obj.get("type", _MISSING), ACTION_TYPES, "")
        if "type" not in obj:
            ck.add(f"{ikey}.type", _MISSING, f"required; allowed: {', '.join(ACTION_TYPES)}")
        target = ck.choice(f"{ikey}.targetType", obj.get("targetType", _MISSING), TARGET_TYPES, "issue_owners")
        ident = ck.string(
            f"{ikey}.targetIdentifier", obj.get("targetIdentifier", _MISSING), rule="a user/team id or channel"
        )
        integration = ck.string(f"{ikey}.integrationId", obj.get("integrationId", _MISSING), rule="an integration id")
        if atype and atype != "email" and integration is None:
            ck.add(
                f"{ikey}.integrationId", _MISSING, f"required for {atype} actions: the id of the {atype} integration"
            )
        if target in ("user", "team", "specific") and ident is None:
            ck.add(f"{ikey}.targetIdentifier", _MISSING, f"required with targetType {target}")
        data = ck.obj(f"{ikey}.data", obj.get("data", _MISSING)) or {}
        if atype:
            out.append(AlertAction(atype, target, ident, integration, tuple(sorted(data.items()))))
    return tuple(out)


def _monitors(
    ck: _Checker, key: str, value: Any, services: Sequence[ServiceSettings], broken: set[str]
) -> tuple[MonitorSpec, ...]:
    obj = ck.obj(key, value, "a map of monitor names to monitor settings") or {}
    _distinct_names(ck, key, obj)
    out: list[MonitorSpec] = []
    for name in sorted(obj):
        mkey = f"{key}.{name}"
        if not ALERT_NAME_RE.match(name):
            ck.add(mkey, obj[name], f"bad monitor name '{name}': must be {ALERT_NAME_RULE}")
            continue
        body = ck.obj(mkey, obj[name], "an object with the monitor's settings")
        if body is None:
            continue
        ck.unknown_keys(mkey, body, MONITOR_FIELDS)
        service = _reporting_service(ck, f"{mkey}.service", body.get("service", _MISSING), services, broken)
        aggregate = ck.string(
            f"{mkey}.aggregate",
            body.get("aggregate", _MISSING),
            rule="an aggregate such as count() or p95(transaction.duration)",
        )
        if "aggregate" not in body:
            ck.add(f"{mkey}.aggregate", _MISSING, "required: an aggregate such as count() or p95(transaction.duration)")
        conds: list[MonitorCondition] = []
        items = ck.list(f"{mkey}.conditions", body.get("conditions", _MISSING), "a list of {type, comparison, result}")
        if items is not None and not items:
            ck.add(
                f"{mkey}.conditions",
                body.get("conditions", _MISSING),
                "must list at least one condition, e.g. [{type: gt, comparison: 100, result: 75}]",
            )
        for i, item in enumerate(items or []):
            ikey = f"{mkey}.conditions[{i}]"
            cobj = ck.obj(ikey, item, "a condition {type, comparison, result}")
            if cobj is None:
                continue
            ck.unknown_keys(ikey, cobj, CONDITION_FIELDS)
            ctype = ck.choice(f"{ikey}.type", cobj.get("type", _MISSING), MONITOR_CONDITION_TYPES, "gt")
            comparison = ck.number(f"{ikey}.comparison", cobj.get("comparison", _MISSING))
            if "comparison" not in cobj:
                ck.add(f"{ikey}.comparison", _MISSING, "required: the threshold, a number")
            result_raw = cobj.get("result", _MISSING)
            result = ck.integer(f"{ikey}.result", result_raw)
            if result is not None and result not in MONITOR_RESULTS:
                ck.add(f"{ikey}.result", result_raw, "must be 75 (high priority), 50 (low) or 0 (resolved)")
            if comparison is not None and result in MONITOR_RESULTS and result is not None:
                conds.append(MonitorCondition(ctype, comparison, result))
            elif comparison is not None and result_raw is _MISSING:
                conds.append(MonitorCondition(ctype, comparison, 75))
        dataset = ck.choice(f"{mkey}.dataset", body.get("dataset", _MISSING), DATASETS, "events")
        query = ck.string(
            f"{mkey}.query", body.get("query", _MISSING), "", rule="an event search query", allow_empty=True
        )
        window = ck.integer(f"{mkey}.timeWindowSeconds", body.get("timeWindowSeconds", _MISSING), low=60, high=86400)
        event_types = ck.list(f"{mkey}.eventTypes", body.get("eventTypes", _MISSING), "a list of event types") or []
        detection = ck.choice(f"{mkey}.detectionType", body.get("detectionType", _MISSING), DETECTION_TYPES, "static")
        delta_raw = body.get("comparisonDeltaSeconds", _MISSING)
        delta = ck.integer(f"{mkey}.comparisonDeltaSeconds", delta_raw, low=1)
        if delta is not None and delta not in COMPARISON_DELTAS:
            ck.add(
                f"{mkey}.comparisonDeltaSeconds", delta_raw, f"must be one of {', '.join(map(str, COMPARISON_DELTAS))}"
            )
        if detection == "percent" and delta_raw is _MISSING:
            ck.add(
                f"{mkey}.comparisonDeltaSeconds",
                _MISSING,
                f"required with detectionType percent; one of {', '.join(map(str, COMPARISON_DELTAS))}",
            )
        environment = ck.string(
            f"{mkey}.environment", body.get("environment", _MISSING), rule="a Sentry environment name"
        )
        owner = ck.string(f"{mkey}.owner", body.get("owner", _MISSING), pattern=OWNER_RE, rule="team:<id> or user:<id>")
        description = ck.string(f"{mkey}.description", body.get("description", _MISSING), rule="a string")
        enabled = ck.boolean(f"{mkey}.enabled", body.get("enabled", _MISSING), True)
        if service is None or aggregate is None or not conds:
            continue
        out.append(
            MonitorSpec(
                name=name,
                service=service,
                aggregate=aggregate,
                conditions=tuple(conds),
                dataset=dataset,
                query=query or "",
                time_window_seconds=window or 3600,
                event_types=tuple(str(e) for e in event_types),
                detection_type=detection,
                comparison_delta_seconds=delta if delta in COMPARISON_DELTAS else None,
                environment=environment,
                owner=owner,
                description=description,
                enabled=enabled,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- inside a Pulumi program


def config_from_pulumi() -> tuple[dict[str, Any], set[str]]:
    """All stack config the running program sees (full keys), and the keys that are secret."""
    from pulumi.runtime import config as runtime_config

    values: dict[str, Any] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    return values, secret


__all__ = [
    "DRIVERS",
    "NETWORK_MODES",
    "PLATFORMS",
    "PROJECT_MODES",
    "SLUG_RE",
    "TOP_LEVEL_KEYS",
    "BuildSpec",
    "Healthcheck",
    "Problem",
    "SentryTarget",
    "ServiceKeys",
    "ServiceSentry",
    "ServiceSettings",
    "SettingsError",
    "StackSettings",
    "config_from_pulumi",
    "git_short_head",
    "load_settings",
    "project_defaults",
    "with_defaults",
]
