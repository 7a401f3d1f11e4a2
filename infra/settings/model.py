"""The stack settings model: every key of a stack file, declared once (type, default, range, allowed values,
description), with the rules between keys as validators next to the fields they relate.

:class:`StackFile` is what one stack sees: the ``sentry-stacks:`` keys (:class:`StackConfig`) and the Sentry
connection under ``sentry:`` (:class:`SentryConfig`). Fields are validated in declaration order; a rule that
relates a field to earlier ones (``keys`` to ``services``...) runs when those validated, so a broken service
is reported once, not again by every alert that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, ValidationInfo, WrapValidator, field_validator, model_validator

import infra.crons as crons
import infra.privacy as pv
from infra.connection import ConnectionValues, normalize_base_url
from infra.fields import EnvName, ReleaseVersion
from infra.rotation import Rotation
from infra.sentry.errors import SentryConfigError
from infra.settings.problems import MISSING, Issue, check, fail, rule_error
from infra.settings.sampling import SamplingSettings
from infra.settings.sentry_objects import (
    AlertSettings,
    MonitorSettings,
    ServiceKeysSettings,
    check_keys,
    check_names,
    check_references,
)
from infra.settings.services import (
    DRIVERS,
    LABEL_KEY_RE,
    NETWORK_MODES,
    Driver,
    NetworkMode,
    ServiceSettingsModel,
    check_services,
    reporting,
)
from infra.settings.types import Bool, Model, Scalar, choice, name_map, text, whole
from infra.vocabulary import SLUG_RE, SLUG_RULE, TEAM_SLUG_MAX

NS = "sentry-stacks"
SENTRY_NS = "sentry"
ProjectMode = Literal["shared", "per-environment"]
PROJECT_MODES: tuple[ProjectMode, ...] = ("shared", "per-environment")
EndpointMode = Literal["vip", "dnsrr"]
ENDPOINT_MODES: tuple[EndpointMode, ...] = ("vip", "dnsrr")
PublishMode = Literal["ingress", "host"]
PUBLISH_MODES: tuple[PublishMode, ...] = ("ingress", "host")


@dataclass(frozen=True)
class Context:
    """What validation needs besides the config: the stack, the resolved connection, git."""

    stack: str
    connection: ConnectionValues
    require_sentry: bool
    git_release: Callable[[], str | None]
    namespace: str = "sentry-stacks"  # the project's settings namespace (its Pulumi project name)


def _context(info: ValidationInfo) -> Context:
    ctx = info.context["settings"] if isinstance(info.context, dict) else None
    assert isinstance(ctx, Context), "validate with context={'settings': Context(...)}"
    return ctx


Slug = Annotated[str, text(SLUG_RULE, pattern=SLUG_RE, max_len=TEAM_SLUG_MAX)]


class StackConfig(Model):
    """The ``sentry-stacks:`` keys of a stack (project defaults in Pulumi.yaml, values in Pulumi.<stack>.yaml)."""

    app: Annotated[str, text(SLUG_RULE, pattern=SLUG_RE, max_len=64)] = Field(
        NS, description="App name (a slug); used in the Sentry alert and monitor names \"[app/stack] name\"")
    environment: EnvName | None = Field(
        None, description="Sentry environment of the stack; default: the stack name")
    release: ReleaseVersion | None = Field(
        None, description="Sentry release; default: `git rev-parse --short HEAD`", validate_default=True)
    driver: Annotated[Driver, choice(DRIVERS)] = Field(
        "compose", description="How containers are deployed: compose (docker compose), docker (pulumi-docker), swarm"
        " (docker stack deploy) or none (your own pipeline: the Sentry side and the rendered files only)")
    network_mode: Annotated[NetworkMode, choice(NETWORK_MODES)] = Field(
        "host", description="host (every service on the host network) or bridge (one docker network per stack)")
    project_mode: Annotated[ProjectMode, choice(PROJECT_MODES)] = Field(
        "shared", description="shared (one Sentry project per service for all stacks) or per-environment")
    swarm_endpoint_mode: Annotated[EndpointMode, choice(ENDPOINT_MODES)] = Field(
        "vip", description="driver swarm: endpoint_mode of every service (vip suits a real cluster; dnsrr where the"
        " kernel has no IPVS)")
    swarm_publish_mode: Annotated[PublishMode, choice(PUBLISH_MODES)] = Field(
        "ingress", description="driver swarm: mode of published ports (ingress: the routing mesh; host: on the"
        " node running the task, where the kernel has no IPVS)")
    deploy_dir: Annotated[str, text("a folder path")] | None = Field(
        None, description="Where the env files and docker-compose.yml are written; default deploy/<stack>")
    compose_project: Annotated[str, text(
        "a compose project name: lowercase letters, digits, '-' and '_' (default <project>-<stack>)",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] | None = Field(
        None, description="docker compose project name (and container prefix); default <project>-<stack>")
    health_timeout: Annotated[int, whole(10, 3600)] = Field(
        180, description="Seconds to wait after a deploy for every container to be healthy (with a healthcheck) or"
        " running with no restart for 5 s (without); one that exits or restarts fails the deploy at once")
    dsn_host: Annotated[str, text(
        "a host name or host:port (replaces the host of the DSNs given to containers)",
        pattern=r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")] | None = Field(
        None, description="Host (or host:port) that replaces the host of the DSNs given to containers")
    labels: Annotated[dict[str, Scalar], name_map("a Docker label key (letters, digits, . _ / -)", LABEL_KEY_RE,
                                                  "a map of label keys to values")] = Field(
        default_factory=dict, description="Extra Docker labels on every container")
    sampling: SamplingSettings = Field(
        default_factory=lambda: SamplingSettings(), description="Sample rates, or a budget they are derived from")
    team: Slug | None = Field(
        None, validate_default=True, description="Slug of the Sentry team that owns the projects"
        " (required with sentry:baseUrl; localsentry: its team)")
    services: dict[str, ServiceSettingsModel] = Field(
        default_factory=dict, validate_default=True, description="The app's services (containers), by name")
    service_overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per stack: service fields that replace those in services"
        " (build, healthcheck, labels, sentry merge one level deep; null removes a field or variable)")
    keys: dict[str, ServiceKeysSettings] = Field(
        default_factory=dict, description="Client keys (DSNs) per service: {current, generations};"
        " default one active generation g1")
    rotation: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="DSN rotations under way, per service (written by sentry-stacks-rotate-dsn)")
    monitors: dict[str, MonitorSettings] = Field(
        default_factory=dict, description="Metric monitors (Sentry detectors), by name")
    cron_monitors: dict[str, crons.CronMonitorSettings] = Field(
        default_factory=dict, description="Cron monitors (Sentry monitors with check-ins), by name; the Sentry slug is"
        " <name>-<stack> unless slug is set")
    release_tracking: crons.ReleaseTracking = Field(
        default_factory=lambda: crons.ReleaseTracking(), description="Sentry releases and deploys recorded by up")
    alerts: dict[str, AlertSettings] = Field(default_factory=dict, description="Alerts (Sentry workflows), by name")
    delete_shared_projects: Bool = Field(
        False, description="shared mode: a destroy also deletes the shared Sentry projects")
    adopt_existing: Bool = Field(
        False, description="Adopt Sentry objects that already exist under this stack's names")
    legacy_alerts: Bool = Field(
        False, description="Use the legacy alert APIs (self-hosted Sentry before 26.7 only)")
    data_collection: pv.DataCollection | None = Field(
        None, description="What the SDKs collect (docs/privacy.md): userInfo, cookies, httpHeaders, httpBodies,"
        " urlQueryParams, ...; default: no user info, cookies or IP headers")
    privacy: pv.ProjectPrivacy = Field(
        default_factory=lambda: pv.ProjectPrivacy(), description="The Sentry projects' privacy settings"
        " (dataScrubber, dataScrubberDefaults, scrubIPAddresses, sensitiveFields, safeFields); in shared mode the"
        " strictest of the stacks sharing a project wins; a field left out is not managed")
    allow_personal_data: Bool = Field(
        False, description="Let a production stack collect user info or IP addresses")
    send_default_pii: Bool | None = Field(
        None, description="Deprecated alias of dataCollection (true: everything, false: the defaults);"
        " dataCollection wins when both are set")
    debug: Bool = Field(False, description="SDK debug logging")

    @field_validator("release", mode="after")
    @classmethod
    def _release_from_git(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            return value
        sha = _context(info).git_release()
        if sha is None:
            fail(Issue((), MISSING, "not set, and `git rev-parse --short HEAD` found no commit: set it,"
                       " e.g. 'myapp@1.2.3'"))
        return sha

    @field_validator("team", mode="after")
    @classmethod
    def _team_with_base_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        ctx = _context(info)
        given = ctx.connection.base_url is not None and not ctx.connection.localsentry
        if value is None and given and ctx.require_sentry:
            fail(Issue((), MISSING, "required when sentry:baseUrl is set: the slug of the team that owns the projects"))
        return value

    @field_validator("services", mode="after")
    @classmethod
    def _services(cls, value: dict[str, ServiceSettingsModel], info: ValidationInfo) -> Any:
        check_services(value, info.data.get("network_mode", "host"), info.data.get("project_mode", "shared"),
                       _context(info).stack, info.data.get("driver", "compose"))
        return value

    @field_validator("keys", mode="after")
    @classmethod
    def _keys(cls, value: dict[str, ServiceKeysSettings], info: ValidationInfo) -> Any:
        services = info.data.get("services")
        if services is not None:
            owners = {n for n, s in services.items() if s.sentry is not None}
            check_keys(value, owners, {n: owner for n, (owner, _) in reporting(services).items()})
        return value

    @field_validator("rotation", mode="after")
    @classmethod
    def _rotation(cls, value: dict[str, dict[str, Any]], info: ValidationInfo) -> Any:
        services, keys = info.data.get("services"), info.data.get("keys")
        if services is None or keys is None:
            return value
        labels = {n: ({"g1"} if n not in keys else set(keys[n].generations))
                  for n, s in services.items() if s.sentry is not None}
        issues: list[Issue] = []
        for name, record in sorted(value.items()):
            if name not in labels:
                issues.append(Issue((name,), record, f"must name a service with client keys"
                                    f" ({', '.join(sorted(labels)) or 'none'})"))
                continue
            try:
                rotation = Rotation.from_config(name, record)
            except ValueError as exc:
                issues.append(Issue((name,), record, f"not a rotation record: {exc}"))
                continue
            for which, gen in (("old", rotation.old), ("new", rotation.new)):
                if gen not in labels[name] and rotation.phase != "finished":
                    issues.append(Issue((name, which), gen, f"no such key generation of {name}"
                                        f" ({', '.join(sorted(labels[name]))})"))
        check(issues)
        return value

    @field_validator("monitors", mode="after")
    @classmethod
    def _monitors(cls, value: dict[str, MonitorSettings], info: ValidationInfo) -> Any:
        check_names(value, "monitor")
        services = info.data.get("services")
        if services is not None:
            check(check_references(None, value, reporting(services), None))
        return value

    @model_validator(mode="after")
    def _swarm_network(self) -> Self:
        if self.driver == "swarm" and self.network_mode == "host":
            fail(Issue(("networkMode",), self.network_mode, "driver swarm needs networkMode bridge (services on one"
                       " overlay network, reached by service name); host networking cannot run replicas side by side"))
        return self

    @model_validator(mode="after")
    def _personal_data(self, info: ValidationInfo) -> Self:
        """The production guardrail (infra/privacy/model.py): no user info or IP addresses unless allowPersonalData."""
        problems = pv.personal_data_problems(self.stack_privacy(_context(info).stack))
        check([Issue(tuple(key.split(".")), value, message) for key, value, message in problems])
        return self

    def stack_privacy(self, stack: str) -> pv.StackPrivacy:
        """This stack's privacy settings as infra/privacy/model.py models them (validated above, guardrail included)."""
        return pv.StackPrivacy.model_construct(
            environment=self.environment or stack, dataCollection=self.data_collection,
            sendDefaultPii=self.send_default_pii, privacy=self.privacy, allowPersonalData=self.allow_personal_data)

    @field_validator("cron_monitors", mode="after")
    @classmethod
    def _cron_monitors(cls, value: dict[str, crons.CronMonitorSettings], info: ValidationInfo) -> Any:
        issues: list[Issue] = []
        services, monitors = info.data.get("services"), info.data.get("monitors") or {}
        owners = reporting(services) if services is not None else None
        slugs: dict[str, str] = {}
        for name, cron in sorted(value.items()):
            if not crons.MONITOR_NAME_RE.match(name):
                issues.append(Issue((name,), cron.model_dump(by_alias=True, exclude_defaults=True),
                                    "bad monitor name: lowercase letters, digits and '-' (at most 40)"))
                continue
            elif name in monitors:
                issues.append(Issue((name,), cron, f"sentry-stacks:monitors.{name} (a metric monitor) has the same "
                                    "name: a name is unique across monitors and cronMonitors; rename one"))
            if owners is not None and cron.service not in owners:
                allowed = ", ".join(sorted(owners)) or "none"
                issues.append(Issue((name, "service"), cron.service,
                                    f"must name a service that reports to Sentry ({allowed})"))
            slug = cron.slug or f"{name}-{_context(info).stack}"
            if len(slug) > crons.MONITOR_SLUG_MAX or not crons.MONITOR_SLUG_RE.match(slug):
                issues.append(Issue((name, "slug"), slug, f"the monitor slug {slug!r} (<name>-<stack>) is not a valid"
                                    f" slug of at most {crons.MONITOR_SLUG_MAX} characters: set slug"))
            elif slug in slugs:
                issues.append(Issue((name, "slug"), slug,
                                    f"monitor '{slugs[slug]}' has the same slug; slugs are unique"))
            slugs.setdefault(slug, name)
        check(issues)
        return value

    @field_validator("alerts", mode="after")
    @classmethod
    def _alerts(cls, value: dict[str, AlertSettings], info: ValidationInfo) -> Any:
        check_names(value, "alert")
        services, monitors = info.data.get("services"), info.data.get("monitors")
        names = None if monitors is None else set(monitors) | set(info.data.get("cron_monitors") or {})
        check(check_references(value, None, None if services is None else reporting(services), names))
        return value


def _base_url(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, str):
        raise rule_error("an http(s) URL or a sentry.io region (us, de)")
    try:
        normalize_base_url(value)
    except SentryConfigError as exc:
        raise rule_error(f"an http(s) URL or a sentry.io region (us, de): {exc}") from None
    return handler(value)


class SentryConfig(Model):
    """The Sentry connection (``sentry:`` keys), checked by the settings and handed to the Sentry provider plugin
    (which alone reads the token); each falls back to the environment (SENTRY_BASE_URL, SENTRY_ORG,
    SENTRY_AUTH_TOKEN), then to the embedded localsentry."""

    base_url: Annotated[str, WrapValidator(_base_url)] | None = Field(
        None, description="Sentry URL (https://sentry.example.com) or a sentry.io region (us, de);"
        " default SENTRY_BASE_URL, else the embedded localsentry")
    organization: Slug | None = Field(None, description="Organization slug; default SENTRY_ORG")
    token: str | None = Field(None, description="Auth token, as a secret (`pulumi config set --secret`);"
                              " default SENTRY_AUTH_TOKEN")
    upload_token: str | None = Field(None, description="Token of the source-map uploads, as a secret; least scope: an"
                                     " organization token (org:ci); default: token")

    @model_validator(mode="after")
    def _organization_with_base_url(self, info: ValidationInfo) -> Self:
        ctx = _context(info)
        if self.base_url is not None and self.organization is None and not ctx.connection.localsentry:
            fail(Issue(("organization",), MISSING,
                       "required when sentry:baseUrl (or SENTRY_BASE_URL) is set: the organization slug"))
        if self.base_url is None and ctx.require_sentry:
            if ctx.connection.localsentry_error is not None:
                fail(Issue(("baseUrl",), MISSING, "not set, and the embedded localsentry's info file is unusable:"
                           f" {ctx.connection.localsentry_error}"))
            fail(Issue(("baseUrl",), MISSING, "no Sentry configured: set sentry:baseUrl, sentry:organization and"
                       f" {ctx.namespace}:team (and the secret sentry:token), or start the embedded localsentry in the"
                       " project folder (`venv/bin/python -m localsentry --info-file .localsentry/info.json`)"))
        return self


class StackFile(BaseModel):
    """What one stack sees: its ``sentry-stacks:`` keys and its Sentry connection."""

    sentry: SentryConfig = Field(default_factory=lambda: SentryConfig(), alias="sentry")
    stack: StackConfig = Field(default_factory=lambda: StackConfig(), alias="sentry-stacks")


TOP_LEVEL_KEYS = tuple(sorted(f.alias or n for n, f in StackConfig.model_fields.items()))

__all__ = [
    "NS",
    "PROJECT_MODES",
    "SENTRY_NS",
    "TOP_LEVEL_KEYS",
    "Context",
    "ProjectMode",
    "SentryConfig",
    "StackConfig",
    "StackFile",
]
