"""What the settings give the rest of the toolkit, built once from the validated model: the services with their
placeholders resolved and the defaults that depend on other keys filled in. The Sentry objects are the settings
model's own (validated, frozen) objects: ``ServiceSentrySettings``, ``ServiceKeysSettings``, ``AlertSettings``,
``MonitorSettings``; the Sentry resources' typed inputs are built from them in one place
(:mod:`infra.components.sentry_app`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from infra.crons import CronMonitorSpec, ReleaseTracking
from infra.privacy import SharedPrivacy, StackPrivacy
from infra.sampling import SamplingConfig
from infra.settings.model import EndpointMode, ProjectMode, PublishMode
from infra.settings.sentry_objects import AlertSettings, GenerationSettings, MonitorSettings, ServiceKeysSettings
from infra.settings.services import Driver, DsnReload, EnvTemplate, NetworkMode, ServiceSentrySettings

#: a service with a Sentry project and no ``keys`` entry: one active generation, g1
DEFAULT_KEYS = ServiceKeysSettings(current="g1", generations={"g1": GenerationSettings()})


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
    sentry: ServiceSentrySettings | None
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
    #: what the service is (``framework``, or implied by its platform: infra/settings/frameworks.py) and the SDK that
    #: reads its Sentry values (infra/contract.py, ``sdk_of``: ``python``, ``javascript``, or ``foreign`` for a
    #: platform without a runtime package, go, ruby-rails..., which gets only the variables its own code can use)
    framework: str = "other"
    sdk: str = "python"
    #: the framework is the service's own (``framework`` set, or its own project's platform), not implied by the
    #: platform of the project whose DSN it borrows (``dsnFrom``)
    framework_own: bool = True
    #: the cron monitors whose scheduled job this service runs (``cronMonitors.<name>.service`` names it)
    cron_monitors: tuple[str, ...] = ()

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
    keys: dict[str, ServiceKeysSettings]
    alerts: dict[str, AlertSettings]
    monitors: dict[str, MonitorSettings]
    labels: tuple[tuple[str, str], ...]
    health_timeout: int
    dsn_host: str | None
    sentry: SentryTarget = field(default_factory=lambda: SentryTarget(None, None, None))
    compose_project_name: str | None = None
    #: dataCollection / privacy / allowPersonalData (infra/privacy/); the shared project's merged privacy
    privacy: StackPrivacy = field(default_factory=lambda: StackPrivacy(environment="development"))
    shared_privacy: SharedPrivacy | None = None
    #: swarm driver: ``endpoint_mode`` of every service and ``mode`` of published ports
    swarm_endpoint_mode: EndpointMode = "vip"
    swarm_publish_mode: PublishMode = "ingress"
    cron_monitors: tuple[CronMonitorSpec, ...] = ()
    release_tracking: ReleaseTracking = field(default_factory=ReleaseTracking)
    #: what the preview says about the settings without refusing them
    warnings: tuple[str, ...] = ()

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

    def keys_for(self, service: str) -> ServiceKeysSettings:
        return self.keys.get(service, DEFAULT_KEYS)

    def owner_of(self, service: str) -> str:
        """The service whose Sentry project `service` reports to (itself, or its ``dsnFrom``)."""
        return self.service(service).dsn_service or service

    def cron_monitor(self, name: str) -> CronMonitorSpec:
        return next(c for c in self.cron_monitors if c.name == name)

    def public_url(self, svc: ServiceSettings) -> str | None:
        return public_url(svc, self.network_mode)


#: the URL scheme of a service whose image is a well-known server that does not speak HTTP, by the image's name
#: (registry, path, tag and digest aside: ``redis:7-alpine``, ``docker.io/library/postgres@sha256:...``); every other
#: service's URL is ``http://``
SCHEMES = {"redis": "redis", "valkey": "redis", "keydb": "redis", "postgres": "postgresql", "mysql": "mysql",
           "mariadb": "mysql", "mongo": "mongodb"}  # fmt: skip


#: the same by the program the command runs, for such a server run from another image (the toolkit's base image has
#: redis-server: ``command: [redis-server, ...]``)
COMMAND_SCHEMES = {"redis-server": "redis", "valkey-server": "redis", "keydb-server": "redis", "postgres": "postgresql",
                   "mysqld": "mysql", "mariadbd": "mysql", "mongod": "mongodb"}  # fmt: skip


def url_scheme(svc: ServiceSettings) -> str:
    name = svc.image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    if name.lower() in SCHEMES:
        return SCHEMES[name.lower()]
    program = svc.command[0].rsplit("/", 1)[-1] if svc.command else ""
    return COMMAND_SCHEMES.get(program, "http")


def public_url(svc: ServiceSettings, network_mode: NetworkMode) -> str | None:
    """What the host reaches the service at (stack output ``serviceUrls``, ``${<service>.publicUrl}``), None when
    it publishes no port; in its own scheme (``redis://127.0.0.1:6379`` for Redis, not ``http://``)."""
    if svc.port is None or not svc.public:
        return None
    if network_mode == "host":
        host = svc.bind if svc.bind not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"{url_scheme(svc)}://{url_host(host)}:{svc.port}"
    host = svc.host_ip if svc.host_ip not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"{url_scheme(svc)}://{url_host(host)}:{svc.host_port or svc.port}"


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def internal_host(svc: ServiceSettings, network_mode: NetworkMode) -> str:
    if network_mode == "bridge":
        return svc.name
    return svc.bind if svc.bind not in ("0.0.0.0", "::") else "127.0.0.1"


__all__ = [
    "DEFAULT_KEYS",
    "BuildSpec",
    "Healthcheck",
    "SentryTarget",
    "ServiceSettings",
    "StackSettings",
    "internal_host",
    "public_url",
    "url_scheme",
]
