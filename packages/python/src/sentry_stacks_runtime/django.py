"""Django: the Sentry user of every request, from a middleware class the app adds to ``MIDDLEWARE``.

    MIDDLEWARE = [
        ...,
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "sentry_stacks_runtime.django.SentryUserMiddleware",   # after AuthenticationMiddleware
    ]

The user is the logged-in Django user (``request.user``: its primary key as the id; username and email only when
the environment collects user info), else, when the app names them, an id from a request header or a cookie
(anonymous visitors, API clients). Optional settings::

    SENTRY_STACKS = {
        "USER_ID_HEADER": "X-User-Id",         # an id header (default: none)
        "USER_EMAIL_HEADER": "X-User-Email",   # its email, kept only with user info (default: none)
        "USER_ID_COOKIE": "visitor_id",        # an id cookie, when the header is absent (default: none)
        "REQUEST_ID_HEADER": "X-Request-Id",   # tagged as request_id (default X-Request-Id; None: off)
        "EVENT_ID_HEADER": "X-Sentry-Event-Id", # a 5xx answer names its event (default; None: off)
    }

The user is also what Celery tasks published during the request carry to the worker
(``sentry_stacks_runtime.celery``). ``request.sentry_user`` holds it for views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sentry_sdk
from django.conf import settings

from sentry_stacks_runtime.users import User, current_user, sentry_user

DEFAULTS: dict[str, str | None] = {
    "USER_ID_HEADER": None, "USER_EMAIL_HEADER": None, "USER_ID_COOKIE": None,
    "REQUEST_ID_HEADER": "X-Request-Id", "EVENT_ID_HEADER": "X-Sentry-Event-Id",
}  # fmt: skip


def options() -> dict[str, str | None]:
    """The SENTRY_STACKS setting with the defaults filled in; an unknown key is an error naming it."""
    given = dict(getattr(settings, "SENTRY_STACKS", None) or {})
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"settings.SENTRY_STACKS: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(DEFAULTS)}")
    return {**DEFAULTS, **given}


def account_user(account: Any) -> User | None:
    """The Sentry user of a Django user (None when it is anonymous)."""
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    return sentry_user(account.pk, username=account.get_username(), email=getattr(account, "email", "") or None,
                       ip_address="{{auto}}")  # fmt: skip


def request_user(request: Any, opts: dict[str, str | None] | None = None) -> User | None:
    """The request's Sentry user: the logged-in account, else the id header, else the id cookie."""
    opts = opts or options()
    user = account_user(getattr(request, "user", None))
    if user is not None:
        return user
    header, cookie = opts["USER_ID_HEADER"], opts["USER_ID_COOKIE"]
    user_id = (request.headers.get(header) if header else None) or (request.COOKIES.get(cookie) if cookie else None)
    if not user_id:
        return None
    email_header = opts["USER_EMAIL_HEADER"]
    return sentry_user(user_id, email=request.headers.get(email_header) if email_header else None,
                       ip_address="{{auto}}")  # fmt: skip


class SentryUserMiddleware:
    """Sets the Sentry user (and the request_id tag) of each request; a 5xx names its event in a header."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.opts = options()

    def __call__(self, request: Any) -> Any:
        user = request_user(request, self.opts)
        request.sentry_user = user
        if user is not None:
            sentry_sdk.set_user(user)
        request_id_header = self.opts["REQUEST_ID_HEADER"]
        request_id = request.headers.get(request_id_header) if request_id_header else None
        if request_id:
            sentry_sdk.set_tag("request_id", request_id[:64])
        token = current_user.set(user)
        try:
            response = self.get_response(request)
        finally:
            current_user.reset(token)
        event_header = self.opts["EVENT_ID_HEADER"]
        if event_header and response.status_code >= 500:
            event_id = sentry_sdk.last_event_id()
            if event_id:
                response[event_header] = event_id
        return response


__all__ = ["DEFAULTS", "SentryUserMiddleware", "account_user", "options", "request_user"]
