"""StackSettings: everything a stack deploys, read from its config once and validated in one place.

One typed model (pydantic v2, :mod:`infra.settings.model`) declares every key of a stack file once: its type,
default, range, allowed values and description. :func:`load_settings` takes the raw config (full keys, values
as Pulumi hands them over) and either returns a frozen :class:`StackSettings` or raises :class:`SettingsError`
listing every problem, each with the config key as the user wrote it, the value (masked for secret keys) and
what is allowed. Nothing else in the toolkit re-validates config. The same model generates the editor's JSON
Schema (``schema/stack-config.schema.json``) and the README's configuration reference
(``python -m infra.settings.schema``).

Modules: ``types`` (field types with their messages), ``problems`` (messages), ``sampling``, ``services``,
``sentry_objects`` (keys, alerts, monitors), ``model`` (the stack file), ``result`` (what the rest of the toolkit
uses: StackSettings), ``loader`` (load_settings), ``build`` (StackSettings from the model, placeholders),
``schema`` (schema and reference).
"""

from __future__ import annotations

from infra.settings.loader import (
    config_from_pulumi,
    git_short_head,
    load_settings,
    plain_secret_warnings,
    project_defaults,
    with_defaults,
)
from infra.settings.model import NS, PROJECT_MODES, SENTRY_NS, TOP_LEVEL_KEYS, ProjectMode, StackConfig, StackFile
from infra.settings.problems import Problem, SettingsError
from infra.settings.result import BuildSpec, Healthcheck, SentryTarget, ServiceSettings, StackSettings
from infra.settings.services import (
    DRIVERS,
    ENV_TEMPLATES,
    NETWORK_MODES,
    RESTART_POLICIES,
    Driver,
    EnvTemplate,
    NetworkMode,
)
from infra.vocabulary import PLATFORMS, SLUG_RE

__all__ = [
    "DRIVERS",
    "ENV_TEMPLATES",
    "NETWORK_MODES",
    "NS",
    "PLATFORMS",
    "PROJECT_MODES",
    "RESTART_POLICIES",
    "SENTRY_NS",
    "SLUG_RE",
    "TOP_LEVEL_KEYS",
    "BuildSpec",
    "Driver",
    "EnvTemplate",
    "Healthcheck",
    "NetworkMode",
    "Problem",
    "ProjectMode",
    "SentryTarget",
    "ServiceSettings",
    "SettingsError",
    "StackConfig",
    "StackFile",
    "StackSettings",
    "config_from_pulumi",
    "git_short_head",
    "load_settings",
    "plain_secret_warnings",
    "project_defaults",
    "with_defaults",
]
