"""The noise filter (``before_send``), chained after the app's own ``before_send`` when it has one.

1. In every environment, drop Django's DisallowedHost (a Host header outside ALLOWED_HOSTS: scanners, bots,
   misrouted probes), matched by exception type or by the logger ``django.security.DisallowedHost``.
2. In development environments, drop events recorded by known-noise loggers: the dev server's request log, the
   autoreloader, template lookups, SQL debug logging, plus the loggers the app names
   (``init(development_noise_loggers=[...])``).

Everything else, exceptions from views and tasks included, goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sentry_stacks_runtime.contract import development_environments

log = logging.getLogger("sentry_stacks_runtime")

Event = dict[str, Any]
Hint = dict[str, Any]
BeforeSend = Callable[[Event, Hint], Event | None]

ALWAYS_DROPPED_EXCEPTIONS = frozenset({"DisallowedHost"})
ALWAYS_DROPPED_LOGGERS = frozenset({"django.security.DisallowedHost"})
DEVELOPMENT_NOISE_LOGGERS = frozenset(
    {"django.server", "django.utils.autoreload", "django.template", "django.db.backends"}
)


def _exception_types(event: Mapping[str, Any], hint: Mapping[str, Any] | None) -> set[str]:
    types: set[str] = set()
    exc_info = (hint or {}).get("exc_info")
    if exc_info and exc_info[0] is not None:
        types.add(exc_info[0].__name__)
    for value in (event.get("exception") or {}).get("values") or []:
        if isinstance(value, Mapping) and value.get("type"):
            types.add(str(value["type"]))
    return types


def drop_reason(
    event: Mapping[str, Any], hint: Mapping[str, Any] | None, environment: str, noise: Collection[str] = ()
) -> str | None:
    """Why the filter drops this event, or None to send it."""
    logger = str(event.get("logger") or "")
    if logger in ALWAYS_DROPPED_LOGGERS or _exception_types(event, hint) & ALWAYS_DROPPED_EXCEPTIONS:
        return "DisallowedHost"
    if environment.lower() in development_environments() and (logger in DEVELOPMENT_NOISE_LOGGERS or logger in noise):
        return f"development noise from logger {logger}"
    return None


def make_before_send(environment: str, noise: Collection[str] = (), app: BeforeSend | None = None) -> BeforeSend:
    """The filter for `environment`; `app` (the app's own before_send) runs first and may drop or change."""
    extra = frozenset(noise)

    def before_send(event: Event, hint: Hint) -> Event | None:
        if app is not None:
            result = app(event, hint)
            if result is None:
                return None
            event = result
        reason = drop_reason(event, hint, environment, extra)
        if reason is not None:
            log.debug("not sending event %s: %s", event.get("event_id", "?"), reason)
            return None
        return event

    return before_send


__all__ = [
    "ALWAYS_DROPPED_EXCEPTIONS", "ALWAYS_DROPPED_LOGGERS", "DEVELOPMENT_NOISE_LOGGERS", "drop_reason",
    "make_before_send",
]  # fmt: skip
