"""Sentry setup of the reference backend, driven by the toolkit's environment variables.

This module imports only the standard library at import time (sentry-sdk is imported inside
`init_sentry`), so tests load it without Django, Celery or a server.

Variables (all optional; an empty value means "unset"):

| variable                             | meaning                                           | default       |
| ------------------------------------ | ------------------------------------------------- | ------------- |
| SENTRY_DSN                           | where events go; unset disables Sentry            | (disabled)    |
| SENTRY_ENVIRONMENT                   | environment name                                  | development   |
| SENTRY_RELEASE                       | release string shared by all services             | (none)        |
| SENTRY_SAMPLE_RATE                   | share of error events sent, 0..1                  | 1.0           |
| SENTRY_TRACES_SAMPLE_RATE            | share of root transactions sampled, 0..1          | 0.0           |
| SENTRY_PROFILES_SAMPLE_RATE          | transaction-based profiling, share of sampled     | 0.0           |
|                                      | transactions, 0..1                                |               |
| SENTRY_PROFILE_SESSION_SAMPLE_RATE   | continuous profiling, share of processes, 0..1    | 0.0           |
| SENTRY_PROFILE_LIFECYCLE             | continuous profiler: trace (runs while a sampled  | trace         |
|                                      | transaction is open) or manual                    |               |
| SENTRY_DATA_COLLECTION               | JSON object: sentry-python's data_collection      | (SDK default) |
|                                      | option (user_info, cookies, http_headers, ...),   |               |
|                                      | rendered from sentry-stacks:dataCollection        |               |
| SENTRY_SEND_DEFAULT_PII              | deprecated: true/false, send_default_pii; ignored | (unset)       |
|                                      | when SENTRY_DATA_COLLECTION is set                |               |
| SENTRY_DEBUG                         | true/false: the SDK's debug logging               | false         |
| SENTRY_STACKS_ENV_FILE               | a rendered env file whose SENTRY_* values win and | (none)        |
|                                      | are re-read on change (demoapp/dsn_reload.py)     |               |

The SDK itself reads SENTRY_DSN, SENTRY_ENVIRONMENT (defaulting to "production") and SENTRY_RELEASE,
but no sample rate, so every value is parsed here and passed explicitly. A bad value raises
`ConfigError` naming the variable, the value and what is allowed; the app refuses to start.

The two profiling modes exclude each other: the SDK silently ignores the continuous profiler when
transaction-based profiling is on, so setting both rates above 0 is an error here.

Sampling (`make_traces_sampler`): health checks are never sampled; otherwise an incoming parent
decision (sentry-trace header, a Celery task enqueued inside a trace) is honoured; otherwise the
configured SENTRY_TRACES_SAMPLE_RATE applies.

Noise filter (`make_before_send`), in this order:
1. In every environment, drop DisallowedHost: requests with a Host header outside
   DJANGO_ALLOWED_HOSTS (scanners, bots, misrouted health probes). Matched by the exception type
   or by Django's logger `django.security.DisallowedHost`.
2. In development environments (development, dev, local), drop events recorded by known-noise
   loggers: the dev server's request log (`django.server`), the autoreloader
   (`django.utils.autoreload`), template variable lookups (`django.template`), SQL debug logging
   (`django.db.backends`) and the demo's own `demoapp.noise` (see `GET /api/core/noise/`).
Everything else, exceptions from views and tasks included, is sent.

User context (`user_from_request`): `X-User-Id` header, else the `demo_user_id` cookie; the id is
always attached; `X-User-Email` and the client IP only when data collection includes user info
(`user_info` in SENTRY_DATA_COLLECTION, or the deprecated SENTRY_SEND_DEFAULT_PII=true).

Data collection: SENTRY_DATA_COLLECTION is passed to the SDK as `data_collection` after a check of its
keys and shapes (a bad one raises ConfigError naming the variable); send_default_pii is then not passed,
so the SDK does not warn that it is deprecated.
Tasks enqueued during a request carry the user in a message header, and the worker sets it on the
task's scope, so a task's error names the same user as the request that enqueued it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
PROFILE_LIFECYCLES = ("trace", "manual")
#: sentry-python 2.75's data_collection keys (sentry_sdk/_types.py DataCollectionUserOptions) and their kinds
DATA_COLLECTION_KEYS = {
    "user_info": "bool", "cookies": "kv", "http_headers": "headers", "http_bodies": "bodies",
    "url_query_params": "kv", "graphql": "flags", "gen_ai": "flags", "database_query_data": "bool",
    "queues": "bool", "stack_frame_variables": "bool_or_kv", "frame_context_lines": "int",
}
HTTP_BODY_TYPES = ("incoming_request", "outgoing_request", "outgoing_response")
COLLECTION_MODES = ("off", "denylist", "allowlist")
DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "dev", "local"})
HEALTH_PATHS = frozenset({"/api/health/", "/api/health", "/health", "/healthz"})
ALWAYS_DROPPED_EXCEPTIONS = frozenset({"DisallowedHost"})
ALWAYS_DROPPED_LOGGERS = frozenset({"django.security.DisallowedHost"})
DEVELOPMENT_NOISE_LOGGERS = frozenset(
    {"django.server", "django.utils.autoreload", "django.template", "django.db.backends", "demoapp.noise"}
)
USER_ID_HEADER = "X-User-Id"
USER_EMAIL_HEADER = "X-User-Email"
USER_COOKIE = "demo_user_id"
USER_TASK_HEADER = "demo_sentry_user"
# the user of the request being handled; Celery tasks enqueued meanwhile carry it to the worker
current_user: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("demo_user", default=None)
_USER_ID = re.compile(r"^[A-Za-z0-9_.@:+-]{1,128}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")

Event = dict[str, Any]
Hint = dict[str, Any]


class ConfigError(ValueError):
    """A SENTRY_* variable holds a value the app cannot use."""


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def parse_rate(env: Mapping[str, str], name: str, default: float) -> float:
    """A sample rate: a number from 0 to 1 inclusive."""
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {raw!r}")
    return value


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(env, name)
    if raw is None:
        return default
    word = raw.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    allowed = "/".join(sorted(TRUE_WORDS | FALSE_WORDS))
    raise ConfigError(f"{name} must be true or false ({allowed}), got {raw!r}")


def _check_kv(name: str, key: str, value: Any) -> None:
    if not isinstance(value, dict) or value.get("mode") not in COLLECTION_MODES or set(value) - {"mode", "terms"}:
        raise ConfigError(f"{name}: {key} must be {{\"mode\": {'|'.join(COLLECTION_MODES)}, \"terms\": [...]}}")
    terms = value.get("terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise ConfigError(f"{name}: {key}.terms must be a list of strings")


def parse_data_collection(env: Mapping[str, str], name: str) -> dict[str, Any] | None:
    """sentry-python's data_collection option as JSON; None when unset. Checks keys and shapes."""
    raw = _raw(env, name)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a JSON object, got {raw[:60]!r}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object, got {raw[:60]!r}")
    unknown = sorted(set(value) - set(DATA_COLLECTION_KEYS))
    if unknown:
        raise ConfigError(f"{name}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(DATA_COLLECTION_KEYS)}")
    for key, item in value.items():
        kind = DATA_COLLECTION_KEYS[key]
        if kind == "bool" and not isinstance(item, bool):
            raise ConfigError(f"{name}: {key} must be true or false, got {item!r}")
        if kind == "int" and (isinstance(item, bool) or not isinstance(item, int) or item < 0):
            raise ConfigError(f"{name}: {key} must be a whole number >= 0, got {item!r}")
        if kind == "kv" or (kind == "bool_or_kv" and not isinstance(item, bool)):
            _check_kv(name, key, item)
        if kind == "headers":
            if not isinstance(item, dict) or set(item) - {"request"}:
                raise ConfigError(f"{name}: {key} must be {{\"request\": {{\"mode\": ...}}}}")
            if "request" in item:
                _check_kv(name, f"{key}.request", item["request"])
        if kind == "bodies" and (not isinstance(item, list) or set(item) - set(HTTP_BODY_TYPES)):
            raise ConfigError(f"{name}: {key} must be a list of {', '.join(HTTP_BODY_TYPES)}, got {item!r}")
        if kind == "flags" and (not isinstance(item, dict) or not all(isinstance(v, bool) for v in item.values())):
            raise ConfigError(f"{name}: {key} must be an object of true/false flags, got {item!r}")
    return value


def parse_choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw.lower() not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw.lower()


@dataclass(frozen=True)
class SentryConfig:
    dsn: str | None = None
    environment: str = "development"
    release: str | None = None
    sample_rate: float = 1.0
    traces_sample_rate: float = 0.0
    profiles_sample_rate: float = 0.0
    profile_session_sample_rate: float = 0.0
    profile_lifecycle: str = "trace"
    send_default_pii: bool | None = None  # deprecated; None = not set
    data_collection: dict[str, Any] | None = None
    debug: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SentryConfig:
        """Parse and validate every variable; the first bad one raises ConfigError."""
        config = cls(
            dsn=_raw(env, "SENTRY_DSN"),
            environment=_raw(env, "SENTRY_ENVIRONMENT") or "development",
            release=_raw(env, "SENTRY_RELEASE"),
            sample_rate=parse_rate(env, "SENTRY_SAMPLE_RATE", 1.0),
            traces_sample_rate=parse_rate(env, "SENTRY_TRACES_SAMPLE_RATE", 0.0),
            profiles_sample_rate=parse_rate(env, "SENTRY_PROFILES_SAMPLE_RATE", 0.0),
            profile_session_sample_rate=parse_rate(env, "SENTRY_PROFILE_SESSION_SAMPLE_RATE", 0.0),
            profile_lifecycle=parse_choice(env, "SENTRY_PROFILE_LIFECYCLE", PROFILE_LIFECYCLES, "trace"),
            send_default_pii=(
                parse_bool(env, "SENTRY_SEND_DEFAULT_PII", False) if _raw(env, "SENTRY_SEND_DEFAULT_PII") else None
            ),
            data_collection=parse_data_collection(env, "SENTRY_DATA_COLLECTION"),
            debug=parse_bool(env, "SENTRY_DEBUG", False),
        )
        if config.profiles_sample_rate > 0 and config.profile_session_sample_rate > 0:
            raise ConfigError(
                "SENTRY_PROFILES_SAMPLE_RATE (transaction-based profiling) and "
                "SENTRY_PROFILE_SESSION_SAMPLE_RATE (continuous profiling) are both above 0; "
                "set only one of them (the other to 0 or empty)"
            )
        return config

    @property
    def user_info(self) -> bool:
        """Whether user details (email, IP address) are collected: data_collection's user_info, else the
        deprecated send_default_pii."""
        if self.data_collection is not None:
            return bool(self.data_collection.get("user_info", True))
        return bool(self.send_default_pii)

    @property
    def is_development(self) -> bool:
        return self.environment.lower() in DEVELOPMENT_ENVIRONMENTS

    def sdk_options(self) -> dict[str, Any]:
        """Keyword arguments for sentry_sdk.init (without integrations)."""
        options: dict[str, Any] = {
            "dsn": self.dsn,
            "environment": self.environment,
            "release": self.release,
            "sample_rate": self.sample_rate,
            "traces_sampler": make_traces_sampler(self.traces_sample_rate),
            "debug": self.debug,
            "before_send": make_before_send(self.environment),
        }
        if self.data_collection is not None:
            options["data_collection"] = self.data_collection  # wins over send_default_pii, which is not passed
        elif self.send_default_pii is not None:
            options["send_default_pii"] = self.send_default_pii  # deprecated: the SDK warns
        if self.profiles_sample_rate > 0:
            options["profiles_sample_rate"] = self.profiles_sample_rate
        if self.profile_session_sample_rate > 0:
            options["profile_session_sample_rate"] = self.profile_session_sample_rate
            options["profile_lifecycle"] = self.profile_lifecycle
        return options

    def describe(self) -> str:
        """One log line without the DSN (it carries the key)."""
        return (
            f"environment={self.environment} release={self.release or '-'} errors={self.sample_rate:g} "
            f"traces={self.traces_sample_rate:g} profiles={self.profiles_sample_rate:g} "
            f"profile_session={self.profile_session_sample_rate:g}/{self.profile_lifecycle} "
            f"user_info={str(self.user_info).lower()} "
            f"data_collection={'set' if self.data_collection is not None else 'unset'} "
            f"dsn={'set' if self.dsn else 'unset'}"
        )


def is_health_check(sampling_context: Mapping[str, Any]) -> bool:
    """True for requests to a health endpoint, whatever integration started the transaction."""
    environ = sampling_context.get("wsgi_environ")
    if isinstance(environ, Mapping) and environ.get("PATH_INFO") in HEALTH_PATHS:
        return True
    scope = sampling_context.get("asgi_scope")
    if isinstance(scope, Mapping) and scope.get("path") in HEALTH_PATHS:
        return True
    transaction = sampling_context.get("transaction_context")
    if isinstance(transaction, Mapping):
        name = str(transaction.get("name") or "")
        if name in HEALTH_PATHS or name.split(" ", 1)[-1] in HEALTH_PATHS:
            return True
    return False


def make_traces_sampler(rate: float) -> Callable[[Mapping[str, Any]], float]:
    """Never sample health checks; else honour the parent's decision; else sample at `rate`."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"traces sample rate must be between 0 and 1, got {rate!r}")

    def traces_sampler(sampling_context: Mapping[str, Any]) -> float:
        if is_health_check(sampling_context):
            return 0.0
        parent_sampled = sampling_context.get("parent_sampled")
        if parent_sampled is not None:
            return 1.0 if parent_sampled else 0.0
        return rate

    return traces_sampler


def _exception_types(event: Mapping[str, Any], hint: Mapping[str, Any] | None) -> set[str]:
    types: set[str] = set()
    exc_info = (hint or {}).get("exc_info")
    if exc_info and exc_info[0] is not None:
        types.add(exc_info[0].__name__)
    values = (event.get("exception") or {}).get("values") or []
    for value in values:
        if isinstance(value, Mapping) and value.get("type"):
            types.add(str(value["type"]))
    return types


def drop_reason(event: Mapping[str, Any], hint: Mapping[str, Any] | None, environment: str) -> str | None:
    """Why the noise filter drops this event, or None to send it. The rule is in the module docstring."""
    logger = str(event.get("logger") or "")
    if logger in ALWAYS_DROPPED_LOGGERS or _exception_types(event, hint) & ALWAYS_DROPPED_EXCEPTIONS:
        return "DisallowedHost"
    if environment.lower() in DEVELOPMENT_ENVIRONMENTS and logger in DEVELOPMENT_NOISE_LOGGERS:
        return f"development noise from logger {logger}"
    return None


def make_before_send(environment: str) -> Callable[[Event, Hint], Event | None]:
    def before_send(event: Event, hint: Hint) -> Event | None:
        reason = drop_reason(event, hint, environment)
        if reason is not None:
            log.debug("not sending event %s: %s", event.get("event_id", "?"), reason)
            return None
        return event

    return before_send


def user_from_request(
    headers: Mapping[str, str], cookies: Mapping[str, str], user_info: bool
) -> dict[str, str] | None:
    """The Sentry user for a request, or None. `headers` must be case-insensitive (Django's are)."""
    user_id = (headers.get(USER_ID_HEADER) or cookies.get(USER_COOKIE) or "").strip()
    if not user_id or not _USER_ID.match(user_id):
        return None
    user = {"id": user_id}
    if user_info:
        email = (headers.get(USER_EMAIL_HEADER) or "").strip()
        if email and _EMAIL.match(email):
            user["email"] = email
        user["ip_address"] = "{{auto}}"
    return user


def sentry_user(account: Mapping[str, str], user_info: bool, email: str = "") -> dict[str, str]:
    """The Sentry user of a logged-in Django user: its id; username, email and IP only with user_info."""
    user = {"id": account["id"]}
    if user_info:
        user["username"] = account["username"]
        if email and _EMAIL.match(email):
            user["email"] = email
        user["ip_address"] = "{{auto}}"
    return user


_initialised = False


def _start_sdk(config: SentryConfig) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.redis import RedisIntegration

    sentry_sdk.init(
        **config.sdk_options(),
        integrations=[
            DjangoIntegration(transaction_style="url"),
            # monitor_beat_tasks: beat names each scheduled run's check-ins by its schedule entry (the monitor slug)
            CeleryIntegration(propagate_traces=True, monitor_beat_tasks=True),
            RedisIntegration(),
        ],
    )
    if config.data_collection is not None and config.send_default_pii is not None:
        log.warning("SENTRY_SEND_DEFAULT_PII is deprecated and ignored: SENTRY_DATA_COLLECTION is set and wins")


def reload_sentry(env: Mapping[str, str]) -> SentryConfig:
    """Re-initialise sentry-sdk from `env` (a changed env file): the new client is bound first, then the old
    one is flushed and closed, so events already queued still go out with the old key. A bad value raises
    ConfigError before anything changes."""
    import sentry_sdk

    config = SentryConfig.from_env(env)
    old = sentry_sdk.get_client()
    if config.dsn:
        _start_sdk(config)
    else:
        sentry_sdk.get_global_scope().set_client(None)
    if old.is_active():
        old.close(timeout=5.0)
    log.info("Sentry reloaded: %s", config.describe())
    return config


def init_sentry(env: Mapping[str, str]) -> SentryConfig:
    """Validate the variables and initialise sentry-sdk once per process (no-op without a DSN).

    With SENTRY_STACKS_ENV_FILE (sentry-stacks `dsnReload: file`) the SENTRY_* values come from that file,
    and a watcher re-initialises the SDK whenever they change (see demoapp/dsn_reload.py): no restart.
    """
    global _initialised
    from demoapp.dsn_reload import effective_env, watch

    env = effective_env(env)
    config = SentryConfig.from_env(env)
    if _initialised:
        return config
    _initialised = True
    watch(env, reload_sentry)
    if not config.dsn:
        log.warning("Sentry disabled: SENTRY_DSN is not set (%s)", config.describe())
        return config
    _start_sdk(config)
    log.info("Sentry enabled: %s", config.describe())
    return config


def main() -> int:
    """`python3 -m demoapp.sentry_config`: validate the environment and print the settings (no DSN)."""
    import os
    import sys

    from demoapp.dsn_reload import EnvFileError, effective_env

    try:
        config = SentryConfig.from_env(effective_env(os.environ))
    except (ConfigError, EnvFileError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(f"sentry: {config.describe()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
