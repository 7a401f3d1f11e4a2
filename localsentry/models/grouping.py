"""Grouping errors into issues, as Sentry does in its simplest form.

1. The SDK's `fingerprint` when given (`{{ default }}` stands for the default components below).
2. Otherwise the exception chain: each exception's type plus its top in-app frames (module or file and
   function; all frames when none is in-app), so the same error from the same code path groups together
   whatever its message or line numbers. A file that is a URL (browser SDKs send `http://host:port/app.js`)
   counts by its path only, as Sentry's JavaScript processing makes a module of the path: the same bundle
   served from localhost and from staging groups together.
3. Otherwise the message (the `logentry` template before formatting, else the formatted message).
4. Otherwise the event's title.

The group hash is the MD5 of the components, as Sentry's hashes are. Users are told apart by id, else email,
username or IP address, as Sentry counts `userCount`.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

TOP_FRAMES = 5
DEFAULT = "{{ default }}"


def _values(payload: dict[str, Any]) -> list[dict[str, Any]]:
    exc = payload.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else exc
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def frames_of(exception: dict[str, Any]) -> list[dict[str, Any]]:
    stack = exception.get("stacktrace")
    frames = stack.get("frames") if isinstance(stack, dict) else None
    return [f for f in frames if isinstance(f, dict)] if isinstance(frames, list) else []


def top_frames(exception: dict[str, Any], n: int = TOP_FRAMES) -> list[dict[str, Any]]:
    """The innermost frames (the call that raised first), in-app ones when there are any."""
    frames = frames_of(exception)
    in_app = [f for f in frames if f.get("in_app") is True]
    return list(reversed(in_app or frames))[:n]


def _origin_free(where: str) -> str:
    """A URL's path (no scheme, host, port, query or fragment); anything else as it is."""
    if where.startswith(("http://", "https://")):
        return urlsplit(where).path or "/"
    return where


def _frame_component(frame: dict[str, Any]) -> str:
    where = frame.get("module") or _origin_free(str(frame.get("filename") or frame.get("abs_path") or "?"))
    return f"{where}:{frame.get('function') or '?'}"


def _message(payload: dict[str, Any]) -> str:
    logentry = payload.get("logentry")
    logentry = logentry if isinstance(logentry, dict) else {}
    message = payload.get("message")
    if isinstance(message, dict):
        message = message.get("message") or message.get("formatted")
    return str(logentry.get("message") or logentry.get("formatted") or message or "")


def default_components(payload: dict[str, Any], title: str) -> list[str]:
    values = _values(payload)
    if values:
        parts: list[str] = []
        for exception in values:
            parts.append(str(exception.get("type") or "Error"))
            parts += [_frame_component(f) for f in top_frames(exception)]
        return ["exception", *parts]
    message = _message(payload)
    if message:
        return ["message", message]
    return ["title", title]


def components(payload: dict[str, Any], title: str) -> list[str]:
    fingerprint = payload.get("fingerprint")
    if isinstance(fingerprint, list) and fingerprint and all(isinstance(f, str | int | float) for f in fingerprint):
        parts: list[str] = ["fingerprint"]
        for part in fingerprint:
            parts += default_components(payload, title) if str(part) == DEFAULT else [str(part)]
        return parts
    return default_components(payload, title)


def group_hash(payload: dict[str, Any], title: str) -> str:
    return hashlib.md5("\x00".join(components(payload, title)).encode(), usedforsecurity=False).hexdigest()


def user_key(payload: dict[str, Any]) -> str | None:
    user = payload.get("user")
    if not isinstance(user, dict):
        return None
    for field in ("id", "email", "username", "ip_address"):
        if user.get(field) not in (None, ""):
            return f"{field}:{user[field]}"
    return None


def culprit(payload: dict[str, Any]) -> str | None:
    """What Sentry shows under the title: the SDK's culprit or transaction, else the top in-app frame."""
    if payload.get("culprit"):
        return str(payload["culprit"])
    if payload.get("transaction"):
        return str(payload["transaction"])
    values = _values(payload)
    frames = top_frames(values[-1], 1) if values else []
    if frames:
        frame = frames[0]
        return f"{frame.get('module') or frame.get('filename') or '?'} in {frame.get('function') or '?'}"
    return None
