"""sentry-stacks-runtime: sentry-sdk configured by one call from the environment Sentry Stacks renders.

    import sentry_stacks_runtime
    sentry_stacks_runtime.init()                      # or init(**sentry_sdk_options): yours win

See README.md (shipped as the package's long description) for the variables, the Django middleware, Celery, and
``dsnReload: file``.
"""

from __future__ import annotations

from sentry_stacks_runtime.config import ConfigError, RuntimeConfig
from sentry_stacks_runtime.crons import CronMonitor, cron_monitor, cron_monitors
from sentry_stacks_runtime.envfile import EnvFileError
from sentry_stacks_runtime.runtime import current_config, init, reload
from sentry_stacks_runtime.users import current_user, sentry_user, set_user, user_context

__version__ = "0.1.0"


def flush(timeout: float = 2.0) -> None:
    """Send what the running client and any client retired by a reload still hold."""
    import sentry_sdk

    from sentry_stacks_runtime.envwatch import flush_retiring

    flush_retiring(timeout)
    sentry_sdk.flush(timeout=timeout)


__all__ = [
    "ConfigError", "CronMonitor", "EnvFileError", "RuntimeConfig", "__version__", "cron_monitor", "cron_monitors",
    "current_config", "current_user", "flush", "init", "reload", "sentry_user", "set_user", "user_context",
]  # fmt: skip
