"""The rendered environment, parsed and checked: :class:`RuntimeConfig`.

Standard library only at import time (sentry-sdk is looked at lazily, to learn the running version's option
names), so a check of the environment needs nothing else. Every bad value raises :class:`ConfigError` with one
line naming the variable, the value and what is allowed. An empty value means unset.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sentry_stacks_runtime.contract import boolean_words, development_environments, variable

#: sentry-python 2.75's data_collection keys and the shape each takes (the checks below); a key that a newer SDK
#: adds is passed through unchecked, a key the running SDK does not know is refused
DATA_COLLECTION_KINDS = {
    "user_info": "bool", "cookies": "kv", "http_headers": "headers", "http_bodies": "bodies",
    "url_query_params": "kv", "graphql": "flags", "gen_ai": "flags", "database_query_data": "bool",
    "queues": "bool", "stack_frame_variables": "bool_or_kv", "frame_context_lines": "int",
}  # fmt: skip
HTTP_BODY_TYPES = ("incoming_request", "outgoing_request", "outgoing_response")
COLLECTION_MODES = ("off", "denylist", "allowlist")
ENV_FILE_VAR = "SENTRY_STACKS_ENV_FILE"
INTERVAL_VAR = "SENTRY_STACKS_RELOAD_INTERVAL"
LOG_EVENTS_VAR = "SENTRY_STACKS_LOG_EVENTS"


class ConfigError(ValueError):
    """A variable holds a value the app cannot use (the message names it)."""


def raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float, what: str) -> float:
    """A number from `low` to `high` inclusive; `what` says what is allowed in the error."""
    text = raw(env, name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or not low <= value <= high:
        raise ConfigError(f"{name} must be {what}, got {text!r}")
    return value


def parse_rate(env: Mapping[str, str], name: str, default: float) -> float:
    """A sample rate: a number from 0 to 1 inclusive."""
    return _number(env, name, default, 0.0, 1.0, "a number between 0 and 1")


def parse_bool(env: Mapping[str, str], name: str, default: bool | None) -> bool | None:
    text = raw(env, name)
    if text is None:
        return default
    yes, no = boolean_words()
    if text.lower() in yes:
        return True
    if text.lower() in no:
        return False
    raise ConfigError(f"{name} must be true or false ({'/'.join(sorted(yes | no))}), got {text!r}")


def parse_choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    text = raw(env, name)
    if text is None:
        return default
    if text.lower() not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {text!r}")
    return text.lower()


def parse_seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    return _number(env, name, default, low, high, f"a number of seconds from {low:g} to {high:g}")


def sdk_data_collection_keys() -> frozenset[str] | None:
    """The data_collection keys of the installed sentry-sdk, or None when it has no data_collection option."""
    try:
        from sentry_sdk.consts import DEFAULT_OPTIONS
    except ImportError:  # no SDK installed: check against this package's table
        return frozenset(DATA_COLLECTION_KINDS)
    if "data_collection" not in DEFAULT_OPTIONS:
        return None
    try:
        from sentry_sdk.data_collection import _map_from_send_default_pii

        keys = _map_from_send_default_pii(send_default_pii=False, include_local_variables=True,
                                          include_source_context=True)  # fmt: skip
        return frozenset(keys) - {"provided_by_user"}
    except (ImportError, TypeError):  # the SDK moved its helper: fall back to the 2.75 names
        return frozenset(DATA_COLLECTION_KINDS)


def _check_kv(name: str, key: str, value: Any) -> None:
    if not isinstance(value, dict) or value.get("mode") not in COLLECTION_MODES or set(value) - {"mode", "terms"}:
        raise ConfigError(f"{name}: {key} must be {{\"mode\": {'|'.join(COLLECTION_MODES)}, \"terms\": [...]}}, "
                          f"got {json.dumps(value)[:80]}")  # fmt: skip
    terms = value.get("terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise ConfigError(f"{name}: {key}.terms must be a list of strings")


def _check_item(name: str, key: str, item: Any) -> None:
    kind = DATA_COLLECTION_KINDS.get(key)
    if kind == "bool" and not isinstance(item, bool):
        raise ConfigError(f"{name}: {key} must be true or false, got {item!r}")
    if kind == "int" and (isinstance(item, bool) or not isinstance(item, int) or item < 0):
        raise ConfigError(f"{name}: {key} must be a whole number >= 0, got {item!r}")
    if kind == "kv" or (kind == "bool_or_kv" and not isinstance(item, bool)):
        _check_kv(name, key, item)
    if kind == "headers":
        if not isinstance(item, dict) or set(item) - {"request"}:
            raise ConfigError(f"{name}: {key} must be {{\"request\": {{\"mode\": ..., \"terms\": [...]}}}}")
        if "request" in item:
            _check_kv(name, f"{key}.request", item["request"])
    if kind == "bodies" and (not isinstance(item, list) or set(item) - set(HTTP_BODY_TYPES)):
        raise ConfigError(f"{name}: {key} must be a list of {', '.join(HTTP_BODY_TYPES)}, got {item!r}")
    if kind == "flags" and (not isinstance(item, dict) or not all(isinstance(v, bool) for v in item.values())):
        raise ConfigError(f"{name}: {key} must be an object of true/false flags, got {item!r}")


def parse_json_object(env: Mapping[str, str], name: str) -> dict[str, Any] | None:
    """A variable holding a JSON object; None when unset."""
    text = raw(env, name)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object, got {text[:60]!r}")
    return value


def parse_data_collection(env: Mapping[str, str], name: str) -> dict[str, Any] | None:
    """sentry-python's data_collection option as JSON (checked key by key); None when unset."""
    value = parse_json_object(env, name)
    if value is None:
        return None
    known = sdk_data_collection_keys() or frozenset(DATA_COLLECTION_KINDS)
    unknown = sorted(set(value) - known)
    if unknown:
        allowed = ", ".join(k for k in [*DATA_COLLECTION_KINDS, *sorted(known - set(DATA_COLLECTION_KINDS))]
                            if k in known)  # fmt: skip
        raise ConfigError(f"{name}: unknown key(s) {', '.join(unknown)}; allowed: {allowed}")
    for key, item in value.items():
        _check_item(name, key, item)
    return value


@dataclass(frozen=True)
class RuntimeConfig:
    """What the environment asks for. Build it with :meth:`from_env`."""

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
    #: log events instead of sending them (SENTRY_STACKS_LOG_EVENTS, default: in development environments)
    log_events: bool = False
    env_file: str | None = None
    reload_interval: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RuntimeConfig:
        """Parse and check every variable of the contract; the first bad one raises ConfigError."""
        environment = raw(env, "SENTRY_ENVIRONMENT") or str(variable("SENTRY_ENVIRONMENT")["default"])
        log_events = parse_bool(env, LOG_EVENTS_VAR, None)
        config = cls(
            dsn=raw(env, "SENTRY_DSN"),
            environment=environment,
            release=raw(env, "SENTRY_RELEASE"),
            sample_rate=parse_rate(env, "SENTRY_SAMPLE_RATE", 1.0),
            traces_sample_rate=parse_rate(env, "SENTRY_TRACES_SAMPLE_RATE", 0.0),
            profiles_sample_rate=parse_rate(env, "SENTRY_PROFILES_SAMPLE_RATE", 0.0),
            profile_session_sample_rate=parse_rate(env, "SENTRY_PROFILE_SESSION_SAMPLE_RATE", 0.0),
            profile_lifecycle=parse_choice(env, "SENTRY_PROFILE_LIFECYCLE", tuple(variable(
                "SENTRY_PROFILE_LIFECYCLE")["choices"]), "trace"),
            send_default_pii=parse_bool(env, "SENTRY_SEND_DEFAULT_PII", None),
            data_collection=parse_data_collection(env, "SENTRY_DATA_COLLECTION"),
            debug=bool(parse_bool(env, "SENTRY_DEBUG", False)),
            log_events=(environment.lower() in development_environments()) if log_events is None else log_events,
            env_file=raw(env, ENV_FILE_VAR),
            reload_interval=parse_seconds(env, INTERVAL_VAR, 1.0, 0.05, 3600.0),
        )  # fmt: skip
        if config.profiles_sample_rate > 0 and config.profile_session_sample_rate > 0:
            raise ConfigError(
                "SENTRY_PROFILES_SAMPLE_RATE (transaction-based profiling) and "
                "SENTRY_PROFILE_SESSION_SAMPLE_RATE (continuous profiling) are both above 0; "
                "set only one of them (the other to 0 or empty)"
            )
        return config

    @property
    def user_info(self) -> bool:
        """Whether user details (email, username, IP address) are collected: data_collection's user_info, else the
        deprecated send_default_pii."""
        if self.data_collection is not None:
            return bool(self.data_collection.get("user_info", True))
        return bool(self.send_default_pii)

    @property
    def is_development(self) -> bool:
        return self.environment.lower() in development_environments()

    def describe(self) -> str:
        """One log line without the DSN (it carries the key)."""
        return (
            f"environment={self.environment} release={self.release or '-'} errors={self.sample_rate:g} "
            f"traces={self.traces_sample_rate:g} profiles={self.profiles_sample_rate:g} "
            f"profile_session={self.profile_session_sample_rate:g}/{self.profile_lifecycle} "
            f"user_info={str(self.user_info).lower()} "
            f"data_collection={'set' if self.data_collection is not None else 'unset'} "
            f"dsn={'set' if self.dsn else 'unset'} delivery={'log' if self.log_events else 'send'}"
            f"{' env_file=' + self.env_file if self.env_file else ''}"
        )


__all__ = [
    "COLLECTION_MODES",
    "DATA_COLLECTION_KINDS",
    "ENV_FILE_VAR",
    "HTTP_BODY_TYPES",
    "INTERVAL_VAR",
    "LOG_EVENTS_VAR",
    "ConfigError",
    "RuntimeConfig",
    "parse_bool",
    "parse_choice",
    "parse_data_collection",
    "parse_json_object",
    "parse_rate",
    "parse_seconds",
    "raw",
    "sdk_data_collection_keys",
]  # fmt: skip
