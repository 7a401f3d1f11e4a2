"""``init()``: sentry-sdk configured from the rendered environment, once per process.

Order of precedence for every option: the app's own keyword arguments, then the environment (the
``SENTRY_STACKS_ENV_FILE`` file's ``SENTRY_*`` values over the process environment), then this package's
defaults. See the package README for the variables and what each becomes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Collection, Mapping
from typing import Any

import sentry_sdk
from sentry_sdk.consts import DEFAULT_OPTIONS

from sentry_stacks_runtime.config import ConfigError, RuntimeConfig
from sentry_stacks_runtime.envfile import effective_env
from sentry_stacks_runtime.filters import make_before_send
from sentry_stacks_runtime.sampling import make_traces_sampler

log = logging.getLogger("sentry_stacks_runtime")

#: runtime options of init() that are not sentry-sdk options
RUNTIME_OPTIONS = ("env", "health_paths", "development_noise_loggers", "watch")


class _State:
    lock = threading.RLock()
    config: RuntimeConfig | None = None
    app_options: dict[str, Any] = {}
    runtime: dict[str, Any] = {}
    watcher: Any = None


def announce(level: int, message: str, *args: Any) -> None:
    """Log `message`; before the app has configured logging (init runs early, e.g. in Django's settings), print it
    to stderr, so the line that says what is in effect is always seen."""
    if logging.getLogger().handlers or log.handlers:
        log.log(level, message, *args)
    else:
        print(f"sentry_stacks_runtime: {message % args}", file=sys.stderr, flush=True)


def current_config() -> RuntimeConfig | None:
    """The configuration in effect (after init, and after each reload), or None before init."""
    return _State.config


def _has_option(name: str) -> bool:
    return name in DEFAULT_OPTIONS


def _legacy_collection(collection: Mapping[str, Any]) -> dict[str, Any]:
    """data_collection for a sentry-sdk without that option: the nearest older options."""
    options: dict[str, Any] = {"send_default_pii": bool(collection.get("user_info", True))}
    frames = collection.get("stack_frame_variables", True)
    options["include_local_variables"] = frames is not False
    options["include_source_context"] = collection.get("frame_context_lines", 5) != 0
    if "incoming_request" not in collection.get("http_bodies", ["incoming_request"]):
        options["max_request_body_size"] = "never"
    return options


def _integrations(app: Mapping[str, Any]) -> list[Any]:
    """The app's integrations, plus Celery's with beat check-ins (the toolkit's cron monitors) when Celery is
    installed and the app did not pass its own. The SDK enables Django, Flask, FastAPI, Redis and the rest by
    itself when they are installed."""
    integrations = list(app.get("integrations") or [])
    try:
        import celery  # noqa: F401
        from sentry_sdk.integrations.celery import CeleryIntegration
    except Exception:
        return integrations
    if not any(getattr(i, "identifier", None) == "celery" for i in integrations):
        integrations.append(CeleryIntegration(monitor_beat_tasks=True))
    return integrations


def build_options(
    config: RuntimeConfig, app: Mapping[str, Any], *, health_paths: Collection[str] | None = None,
    development_noise_loggers: Collection[str] = (),
) -> dict[str, Any]:
    """The keyword arguments for ``sentry_sdk.init``: the environment's, then the app's on top."""
    app = dict(app)
    options: dict[str, Any] = {
        "dsn": config.dsn, "environment": config.environment, "release": config.release,
        "sample_rate": config.sample_rate, "debug": config.debug,
    }  # fmt: skip
    if "traces_sampler" not in app:
        rate = app.pop("traces_sample_rate", config.traces_sample_rate)
        if rate is not None:
            options["traces_sampler"] = make_traces_sampler(float(rate), health_paths)
    noise = development_noise_loggers
    options["before_send"] = make_before_send(config.environment, noise, app.pop("before_send", None))
    if config.profiles_sample_rate > 0:
        options["profiles_sample_rate"] = config.profiles_sample_rate
    if config.profile_session_sample_rate > 0:
        if not _has_option("profile_session_sample_rate"):
            raise ConfigError("SENTRY_PROFILE_SESSION_SAMPLE_RATE needs a sentry-sdk with continuous profiling "
                              f"(profile_session_sample_rate); the installed one is {sentry_sdk.VERSION}")
        options["profile_session_sample_rate"] = config.profile_session_sample_rate
        options["profile_lifecycle"] = config.profile_lifecycle
    if config.data_collection is not None:
        if _has_option("data_collection"):
            options["data_collection"] = config.data_collection  # send_default_pii is then not passed: no warning
        else:
            options.update(_legacy_collection(config.data_collection))
    elif config.send_default_pii is not None:
        options["send_default_pii"] = config.send_default_pii  # deprecated: the SDK may warn
    if config.log_events and "transport" not in app:
        from sentry_stacks_runtime.transport import LogTransport

        options["transport"] = LogTransport
    options["integrations"] = _integrations(app)
    app.pop("integrations", None)
    options.update(app)
    return options


def _connect_celery() -> None:
    try:
        from sentry_stacks_runtime.celery import connect
    except ImportError:  # Celery is not installed
        return
    connect()


def _start(config: RuntimeConfig) -> None:
    from sentry_sdk.integrations.logging import ignore_logger

    ignore_logger("sentry_stacks_runtime")  # its own lines (a broken env file, logged events) are not events
    ignore_logger("sentry_stacks_runtime.events")
    options = build_options(config, _State.app_options, **_State.runtime)
    sentry_sdk.init(**options)


def init(
    *, env: Mapping[str, str] | None = None, health_paths: Collection[str] | None = None,
    development_noise_loggers: Collection[str] = (), watch: bool = True, **sdk_options: Any,
) -> RuntimeConfig:
    """Configure sentry-sdk from the environment, once per process (later calls return the configuration in
    effect). `sdk_options` are sentry_sdk.init's keyword arguments and win over the environment. A bad value raises
    ConfigError naming the variable before anything changes.

    - `env`: the variables (default ``os.environ``);
    - `health_paths`: request paths never traced (default: the contract's healthPaths);
    - `development_noise_loggers`: more logger names whose events are dropped in development environments;
    - `watch`: with ``SENTRY_STACKS_ENV_FILE``, re-read it on change and swap the client (default True).
    """
    with _State.lock:
        if _State.config is not None:
            return _State.config
        environ = dict(os.environ if env is None else env)
        config = RuntimeConfig.from_env(effective_env(environ))
        _State.app_options = dict(sdk_options)
        _State.runtime = {"health_paths": health_paths, "development_noise_loggers": tuple(development_noise_loggers)}
        build_options(config, _State.app_options, **_State.runtime)  # a bad combination fails before any change
        if config.dsn or sdk_options.get("dsn"):
            _start(config)
            announce(logging.INFO, "Sentry enabled: %s", config.describe())
        else:
            announce(logging.WARNING, "Sentry disabled: SENTRY_DSN is not set (%s)", config.describe())
        _State.config = config
        _connect_celery()
        if watch and config.env_file:
            from sentry_stacks_runtime.envwatch import EnvFileWatcher

            _State.watcher = EnvFileWatcher(environ, config.env_file, config.reload_interval, reload).start()
        return config


def reload(env: Mapping[str, str]) -> RuntimeConfig:
    """Apply a changed environment (the env file's new values): a new client is bound first, then the old one is
    retired (flushed and closed after a grace period), so no event is lost. A bad value raises ConfigError and the
    running client is kept."""
    from sentry_stacks_runtime.envwatch import retire

    with _State.lock:
        config = RuntimeConfig.from_env(env)
        build_options(config, _State.app_options, **_State.runtime)
        old = sentry_sdk.get_client()
        if config.dsn or _State.app_options.get("dsn"):
            _start(config)
        else:
            sentry_sdk.get_global_scope().set_client(None)
        _State.config = config
        if old.is_active() and old is not sentry_sdk.get_client():
            retire(old)
        announce(logging.INFO, "Sentry reloaded: %s", config.describe())
        return config


def _reset_for_tests() -> None:
    """Forget the process's init (tests only): stop the watcher, close the client."""
    with _State.lock:
        if _State.watcher is not None:
            _State.watcher.stop()
        _State.config, _State.watcher, _State.app_options, _State.runtime = None, None, {}, {}
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


__all__ = ["RUNTIME_OPTIONS", "build_options", "current_config", "init", "reload"]
