"""The Pulumi program: settings -> Sentry objects -> sample rates -> env mappings -> files -> containers.

:func:`run` is called by the root ``__main__.py``. It validates the whole stack config first
(:mod:`infra.settings`); on any problem it logs every one of them as an error and stops with a
``RunError`` before a single Sentry object, file or container is declared, so ``pulumi preview`` fails and nothing
is created (only the stack's ``sentrystacks`` provider is registered before: importing this module in a program
registers it, so that its plugin starts while the toolkit loads; a provider changes nothing by itself).
:func:`build` then declares everything and returns the stack outputs.
"""

# ruff: noqa: E402 (the provider is registered before the rest of the toolkit is imported: see _start)
from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from infra import sdk_debug, stack_trace
from infra.provider import resource as provider_resource


def _start() -> None:
    """The program's first steps, before the rest of the toolkit is imported: exit quietly when cancelled, Pulumi's
    stack traces and debug messages trimmed, then the stack's provider registered, so that the engine starts its
    plugin while the program loads (infra/provider/resource.py). Only in a program the engine runs."""
    if provider_resource.engine_attached():
        quiet_on_cancel()
        stack_trace.trim()
        sdk_debug.quiet()
        provider_resource.start()


def quiet_on_cancel() -> None:
    """Exit at once, without a traceback, when the language host interrupts the program.

    The engine cancels the program when an update fails (or the CLI is stopped) and the language host sends it
    SIGINT. The SDK may then be blocked in a call to the engine that is already gone, and Python's
    KeyboardInterrupt would print a traceback of the SDK's internals under the stack's diagnostics, after the
    provider's one-line error. Nothing is left for the program to do once the engine cancels it."""
    signal.signal(signal.SIGINT, lambda _sig, _frame: os._exit(EXIT_CANCELLED))


#: the program's exit status when the engine cancels it (SIGINT from the language host, as Pulumi's own hosts send)
EXIT_CANCELLED = 130
_start()

# the rest of the toolkit, imported while the engine starts the provider's plugin
from infra import privacy as pv
from infra.components.sentry_app import SentryApp, SentryAppError
from infra.components.sentry_resources import SentryStacks
from infra.components.service import AppDeployment
from infra.deploy import driver
from infra.files import RenderedFile
from infra.images import image_problems
from infra.provider.config import Preflight
from infra.render import COMPOSE_FILE, RenderedSet, render_all
from infra.sampling import SampleRates, derive_rates
from infra.sentry.privacy_floor import describe_kept
from infra.sentry.shape import props_of
from infra.sentry.source_maps_upload import SourceMapsUpload, bundle_hash, sentry_cli_problem
from infra.settings import (
    SettingsError,
    StackSettings,
    config_from_pulumi,
    load_settings,
    plain_secret_warnings,
    project_defaults,
    with_defaults,
)


def sentry_provider(settings: StackSettings) -> SentryStacks:
    """The stack's ``sentrystacks`` provider (registered as the program started: infra/provider/resource.py), once it
    has checked the Sentry connection for what this stack will do: one read of the organization (and of the workflow
    API) before any Sentry object is declared, in preview and up (infra/sentry/preflight.py). A problem stops the
    program with its one line, which names the setting to fix."""
    provider = provider_resource.stack_provider(settings.project)
    if settings.sentry_services():
        sentry_alerts = bool(settings.alerts or settings.monitors)
        preflight = Preflight(team=settings.sentry.team, alerts=sentry_alerts or bool(settings.cron_monitors),
                              workflows=sentry_alerts and not settings.legacy_alerts,
                              releases=settings.release_tracking.enabled, namespace=settings.project)
        answer = pulumi.runtime.invoke(provider_resource.CHECK_CONNECTION, props_of(preflight),
                                       pulumi.InvokeOptions(provider=provider))
        problem = (answer.value or {}).get("problem")
        if problem:
            raise pulumi.RunError(str(problem))
    return provider


def source_map_uploads(settings: StackSettings, root: Path) -> tuple[SourceMapsUpload, ...]:
    """The builds to upload (``services.<name>.sentry.sourceMaps``), each with its content hash. A folder without
    source maps (not built yet) is left out with a warning: that service's frames stay minified in Sentry."""
    found: list[SourceMapsUpload] = []
    for svc in settings.sentry_services():
        spec = svc.sentry.source_maps if svc.sentry is not None else None
        if spec is None:
            continue
        folder = Path(spec.path) if Path(spec.path).is_absolute() else root / spec.path
        digest = bundle_hash(folder)
        if digest is None:
            pulumi.log.warn(f"services.{svc.name}.sentry.sourceMaps.path = {spec.path}: no source maps in {folder} "
                            "(build the app first): nothing is uploaded, its frames stay "
                            "minified in Sentry")
            continue
        found.append(SourceMapsUpload(svc.name, str(folder), digest, spec.url_prefix, spec.dist))
    problem = sentry_cli_problem() if found else None
    if problem is not None:  # the preview fails, not the upload half-way through an up
        keys = ", ".join(f"{settings.project}:services.{u.service}.sentry.sourceMaps" for u in found)
        raise pulumi.RunError(f"{keys}: {problem}")
    return tuple(found)


def _file_content(name: str) -> Callable[[RenderedSet], str]:
    return lambda r: r.files[name]


def file_names(settings: StackSettings) -> list[str]:
    """Every file the stack renders into its deploy folder."""
    return sorted([*(svc.env_file for svc in settings.services), COMPOSE_FILE])


def env_file_owners(settings: StackSettings) -> dict[str, int]:
    """Env files read by their container through the live mount (``dsnReload: file``) belong to its user."""
    if not driver(settings.driver).mounts_env_files:
        return {}
    return {
        svc.env_file: int(svc.user.split(":")[0])
        for svc in settings.services
        if svc.dsn_reload == "file" and svc.user is not None
    }


@dataclass
class Program:
    """What :func:`build` declared (for tests and for callers that add more)."""

    settings: StackSettings
    rates: SampleRates
    sentry: SentryApp
    rendered: pulumi.Output[RenderedSet]
    files: dict[str, RenderedFile]
    deployment: AppDeployment
    outputs: dict[str, Any]


def privacy_kept(settings: StackSettings, sentry: SentryApp) -> pulumi.Output[dict[str, Any]]:
    """Per service, the privacy fields Sentry keeps stricter than this stack asks (shared projects another stack
    asked to scrub: infra/sentry/privacy_floor.py) and the stacks that use the project. Each kept field is said in
    the `up` output (and in a preview, from the state) where the user meets it, e.g. `[ip]` in this stack's events."""
    if settings.project_mode != "shared":
        return pulumi.Output.from_input({})
    parts = {
        name: pulumi.Output.all(project.privacyKept, project.privacyUsers).apply(
            lambda t: {"kept": dict(t[0] or {}), "users": list(t[1] or [])})
        for name, project in sentry.projects.items()
    }

    def say(found: dict[str, Any]) -> dict[str, Any]:
        for name, info in sorted(found.items()):
            for line in describe_kept(info["kept"], info["users"]):
                pulumi.log.warn(f"shared Sentry project of {name} (stack {settings.stack}): {line}")
        return found

    return pulumi.Output.all(**parts).apply(say)


def build(settings: StackSettings, root: Path | None = None, image_ids: Mapping[str, str] | None = None) -> Program:
    """Declare the stack's resources from validated settings and export its outputs. `image_ids`: image reference ->
    its ID on the Docker host (:func:`check_images`), so a rebuild under the same tag redeploys its services."""
    root = root or Path.cwd()
    stack = settings.stack
    for warning in (*settings.warnings, *settings.privacy.warnings):
        pulumi.log.warn(warning)
    for note in settings.shared_privacy.notes if settings.shared_privacy is not None else ():
        pulumi.log.warn(f"shared Sentry projects of stack {stack}: {note}")
    rates = derive_rates(settings.sampling)
    uploads = source_map_uploads(settings, root)  # may stop the program: before any resource is declared
    sentry = SentryApp(f"{stack}-sentry", settings, sentry_provider(settings), source_maps=uploads)
    missing = [svc.name for svc in settings.sentry_services() if svc.name not in sentry.dsns]
    if missing:
        raise pulumi.RunError(f"SentryApp gave no DSN for {', '.join(missing)}")
    dsns: pulumi.Output[dict[str, str]] = pulumi.Output.secret(pulumi.Output.all(**sentry.dsns))
    kept = privacy_kept(settings, sentry)
    rendered: pulumi.Output[RenderedSet] = pulumi.Output.secret(
        pulumi.Output.all(dsns, kept).apply(lambda t: render_all(settings, t[0], rates, root, kept=t[1]))
    )

    deploy_dir = Path(settings.deploy_dir)
    deploy_dir = deploy_dir if deploy_dir.is_absolute() else root / deploy_dir
    files: dict[str, RenderedFile] = {}
    owners = env_file_owners(settings)
    for name in file_names(settings):
        files[name] = RenderedFile(
            f"{stack}-{name}",
            path=str(deploy_dir / name),
            content=rendered.apply(_file_content(name)),
            owner=owners.get(name),
        )
    compose = files[COMPOSE_FILE]
    runs = driver(settings.driver).runs_containers  # driver none: the team's pipeline records its deploys
    deploy_start = sentry.deploy_start(compose.sha256) if runs else None  # the rollout of this configuration begins
    deployment = AppDeployment(
        f"{stack}-deploy",
        settings,
        envs=rendered.apply(lambda r: r.envs),
        compose_file=compose.path,
        compose_sha256=compose.sha256,
        root=root,
        image_ids=image_ids,
        opts=pulumi.ResourceOptions(depends_on=[*files.values(), *sentry.before_deploy(),
                                                *([deploy_start] if deploy_start else [])]),
    )
    deploy = sentry.record_deploy(deploy_start, compose.sha256, after=deployment)  # once every container is healthy
    outputs: dict[str, Any] = {
        "environment": settings.environment,
        "release": settings.release,
        "releaseSource": settings.release_source,
        "driver": settings.driver,
        "networkMode": settings.network_mode,
        "composeProject": settings.compose_project,
        "deployDir": str(deploy_dir),
        "dsns": dsns,
        "currentKeys": {name: keys.current for name, keys in settings.keys.items()},
        "sentryProjects": {name: project.slug for name, project in sentry.projects.items()},
        # every key generation of every service, for scripts/rotate-dsn (status, verify, finish)
        "sentryKeys": {
            service: {
                generation: {"id": key.public, "project": sentry.projects[service].slug, "active": key.isActive,
                             "dsn": pulumi.Output.secret(key.dsn)}
                for generation, key in generations.items()
            }
            for service, generations in sentry.keys.items()
        },
        # what this environment collects and what Sentry scrubs (docs/privacy.md)
        "privacy": {
            "dataCollection": pv.compact(settings.privacy.collection),
            "projects": pv.project_values(settings.privacy, settings.shared_privacy),
            "keptInSentry": kept,
        },
        "sampleRates": rates.as_dict(),
        "samplingExplanation": rates.explain(),
        "files": {name: f.path for name, f in files.items()},
        "sentryRelease": sentry.release.version if sentry.release is not None else None,
        "sentryDeploy": deploy.deployId if deploy is not None else None,
        "cronMonitors": {name: monitor.slug for name, monitor in sentry.cron_monitors.items()},
        "sourceMaps": {name: maps.bundleId for name, maps in sentry.source_maps.items()},
        "serviceUrls": {svc.name: url for svc in settings.services if (url := settings.public_url(svc)) is not None},
    }
    outputs.update(deployment.deployed.exports)
    for key, value in outputs.items():
        pulumi.export(key, value)
    return Program(settings, rates, sentry, rendered, files, deployment, outputs)


def load(root: Path | None = None) -> StackSettings:
    """The running stack's settings; logs every problem and raises RunError when there are any."""
    root = root or Path.cwd()
    config, secret_keys = config_from_pulumi()
    defaults_file = root / "Pulumi.yaml"
    if defaults_file.exists():
        config = with_defaults(config, project_defaults(defaults_file, pulumi.get_project()))
    for warning in plain_secret_warnings(config, secret_keys, pulumi.get_stack()):
        pulumi.log.warn(warning)
    try:
        return load_settings(
            config, stack=pulumi.get_stack(), project=pulumi.get_project(), secret_keys=secret_keys, root=root
        )
    except SettingsError as exc:
        for problem in exc.problems:
            pulumi.log.error(str(problem))
        raise pulumi.RunError(
            f"{len(exc.problems)} problem(s) in the settings of stack {pulumi.get_stack()} (listed above);"
            " nothing was created or changed"
        ) from None


def check_images(settings: StackSettings) -> Mapping[str, str]:
    """Every service's image can be had (on the host, built by the stack, or pullable: infra/images.py), so that a
    preview fails, naming the service and the image, instead of an `up` that stops half-way. Raises RunError.
    A driver that runs nothing on this machine (none) needs no image here. The IDs of the images found on the host
    (reference -> ID), for the deployment (infra/deploy/image_ids.py)."""
    if not driver(settings.driver).runs_containers:
        return {}
    images = {svc.name: (svc.image, svc.build is not None) for svc in settings.services}
    keys = {svc.name: f"{settings.project}:services.{svc.name}.image" for svc in settings.services}
    found = image_problems(images, keys)
    for warning in found.warnings:
        pulumi.log.warn(warning)
    for problem in found.problems[:-1]:
        pulumi.log.error(problem)
    if found.problems:
        raise pulumi.RunError(found.problems[-1])
    return found.ids


def run() -> None:
    """Entry point of the Pulumi program (root ``__main__.py``; importing this module registered the provider). The
    Sentry connection is checked by the provider (its ``checkConnection``: :func:`sentry_provider`), before any Sentry
    object is declared."""
    quiet_on_cancel()
    stack_trace.trim()
    sdk_debug.quiet()
    settings = load()
    image_ids = check_images(settings)
    try:
        build(settings, image_ids=image_ids)
    except SentryAppError as exc:
        pulumi.log.error(str(exc))
        raise pulumi.RunError(f"inconsistent Sentry settings: {exc}") from None


__all__ = [
    "EXIT_CANCELLED", "Program", "build", "check_images", "env_file_owners", "file_names", "load", "quiet_on_cancel",
    "run", "sentry_provider", "source_map_uploads",
]
