"""load_settings: a stack's raw config -> the validated model -> :class:`StackSettings`, or every problem at once.

Steps: decode what Pulumi hands over as JSON text; merge ``serviceOverrides`` into ``services`` (remembering
which key set each field, so a problem names the key the user wrote); resolve the Sentry connection (the one
resolver, :mod:`infra.connection`); validate :class:`~infra.settings.model.StackFile`; build the frozen
settings, resolving placeholders (``${stack}``, ``${<service>.url}``...; ``$${`` is a literal ``${``).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import infra.privacy as pv
from infra.connection import TOKEN_KEY, resolve_connection
from infra.settings.build import build
from infra.settings.model import NS, SENTRY_NS, Context, StackFile
from infra.settings.problems import MISSING, Loc, Problem, Renderer, SettingsError, problems_from, suggest
from infra.settings.result import SentryTarget, StackSettings
from infra.settings.services import MERGED_FIELDS
from infra.settings.walk import describe, key_of

_STRUCTURED = {
    "alerts", "cronMonitors", "dataCollection", "keys", "labels", "monitors", "privacy", "releaseTracking",
    "rotation", "sampling", "serviceOverrides", "services",
}


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
    context = Context(stack, connection, require_sentry, git_release or (lambda: git_short_head(root)), project)
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
    settings, late = build(model.stack, stack, project, target, render)
    if late:
        raise SettingsError(late)
    if settings.project_mode == "shared":  # the other stacks' asks, for the provider's privacy floor
        others = pv.sibling_privacy(root, project, stack)
        settings = replace(settings, shared_privacy=pv.shared_privacy(stack, model.stack.privacy, others))
    return settings


def plain_secret_warnings(config: Mapping[str, Any], secret_keys: Iterable[str], stack: str) -> list[str]:
    """A warning for the Sentry token stored in plain text in the stack file (readable by anyone who can read the
    file or the repository), saying what to run. The value itself is never shown."""
    if config.get(TOKEN_KEY) is None or TOKEN_KEY in set(secret_keys):
        return []
    return [
        f"{TOKEN_KEY} is stored in plain text in Pulumi.{stack}.yaml: anyone who can read that file can use it. "
        f"Encrypt it: `pulumi config rm {TOKEN_KEY} -s {stack}` then `pulumi config set --secret {TOKEN_KEY} "
        "<token> -s " + stack + "` (and create a new token in Sentry: this one has been readable)"
    ]


def config_from_pulumi() -> tuple[dict[str, Any], set[str]]:
    """All stack config the running program sees (full keys), and the keys that are secret."""
    from pulumi.runtime import config as runtime_config

    values: dict[str, Any] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    return values, secret


__all__ = [
    "config_from_pulumi", "git_short_head", "load_settings", "plain_secret_warnings", "project_defaults",
    "with_defaults",
]
