"""The Sentry user of the work being done, shared by the web request and the tasks it enqueues.

:func:`set_user` sets it on the SDK's isolation scope (this request or task only) and in a context variable that
the Celery hooks (``sentry_stacks_runtime.celery``) copy into the headers of tasks published meanwhile, so a task's
error names the same user as the request that enqueued it. Identity details (email, username, IP address) are kept
only when the environment's data collection includes user info (``user_info`` in SENTRY_DATA_COLLECTION, or the
deprecated SENTRY_SEND_DEFAULT_PII=true); the id is always kept.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sentry_sdk

User = dict[str, str]
#: the user of the request or task being handled
current_user: contextvars.ContextVar[User | None] = contextvars.ContextVar("sentry_stacks_user", default=None)
USER_ID = re.compile(r"^[A-Za-z0-9_.@:+-]{1,128}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
IDENTITY_FIELDS = ("username", "email", "ip_address")


def user_info_allowed() -> bool:
    """Whether the running configuration collects user details (False before init)."""
    from sentry_stacks_runtime.runtime import current_config

    config = current_config()
    return bool(config is not None and config.user_info)


def sentry_user(
    user_id: Any, *, username: str | None = None, email: str | None = None, ip_address: str | None = None,
    user_info: bool | None = None,
) -> User | None:
    """A Sentry user dict: the id (None when it is not a usable id: 1..128 of ``A-Za-z0-9_.@:+-``), and the details
    only with user info (``user_info`` defaults to the running configuration). ``ip_address="{{auto}}"`` lets
    Sentry fill in the client's address."""
    text = str(user_id).strip() if user_id is not None else ""
    if not USER_ID.match(text):
        return None
    user: User = {"id": text}
    if user_info_allowed() if user_info is None else user_info:
        if username:
            user["username"] = str(username)[:128]
        if email and EMAIL.match(email.strip()):
            user["email"] = email.strip()
        if ip_address:
            user["ip_address"] = ip_address
    return user


def set_user(user: Mapping[str, Any] | None) -> None:
    """Set (or with None clear) the Sentry user of the current request or task, for it and its tasks."""
    value = dict(user) if user else None
    sentry_sdk.set_user(value)
    current_user.set(value)


@contextmanager
def user_context(user: Mapping[str, Any] | None) -> Iterator[None]:
    """Within the block, `user` is the current user for tasks published meanwhile (the scope's user is set too)."""
    value = dict(user) if user else None
    if value is not None:
        sentry_sdk.set_user(value)
    token = current_user.set(value)
    try:
        yield
    finally:
        current_user.reset(token)


__all__ = ["EMAIL", "USER_ID", "User", "current_user", "sentry_user", "set_user", "user_context", "user_info_allowed"]
