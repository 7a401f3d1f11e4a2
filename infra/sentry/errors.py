"""The exceptions raised by the Sentry client and the Sentry dynamic providers.

::

    SentryError                     every error of this package; str() is safe to show (no token)
    ├── SentryConfigError           connection settings missing or invalid (base URL, org, token)
    ├── SentryTransportError        no usable answer: connection refused/dropped, timeouts (after retries)
    ├── SentryProtocolError         an answer that is not Sentry's: HTML or other text, JSON of another shape
    ├── SentryStateError            Sentry holds something the stack cannot accept (a shared project
    │                               whose settings differ, an object that exists but may not be adopted)
    ├── SentryToolError             a Sentry tool run for the stack failed (sentry-cli: its exit and last lines)
    └── SentryApiError              Sentry answered with an error status (.status, .detail, .body)
        ├── SentryBadRequest        400: field errors (.fields: {"field": ["msg", ...]})
        ├── SentryAuthError         401 / 403 (.advice says what to fix)
        ├── SentryNotFound          404
        ├── SentryConflict          409 (e.g. a project slug already taken)
        ├── SentryGone              410 (the legacy alert APIs on sentry.io)
        ├── SentryRateLimited       429 after every retry
        └── SentryServerError       5xx after every retry

Every message names the action, the object, the HTTP status and Sentry's own detail, e.g.
``create project 'backend' in organization 'acme': HTTP 409 Conflict: A project with this slug already
exists.`` Secrets registered with :func:`register_secret` (the token, key secrets) are replaced by
``[redacted]`` in every message, whatever the server echoes back.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from typing import Any

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
REDACTED = "[redacted]"


def register_secret(value: str | None) -> None:
    """Remember a secret so that no error message of this package ever contains it."""
    if value and len(value) >= 6:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret replaced by ``[redacted]``."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def detail_from_body(body: Any) -> str:
    """Sentry's detail from an error body: the ``detail`` (or ``message``) of an object that has only
    that, a bare JSON string as is, otherwise the compact JSON (field errors, lists)."""
    if body is None or body == "":
        return ""
    if isinstance(body, str):
        return describe_text(body) or body
    if isinstance(body, dict):
        for key in ("detail", "message"):
            value = body.get(key)
            if value is not None and (len(body) == 1 or key == "detail"):
                if isinstance(value, dict):  # e.g. 302 resource-moved {"code", "message", "extra"}
                    return str(value.get("message") or json.dumps(value, sort_keys=True))
                return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return json.dumps(body, sort_keys=True, separators=(", ", ": "))


def describe_text(text: str) -> str | None:
    """A short description of a body that is not JSON (an HTML page, long text), or None for short plain text
    (a 429's bare string, a proxy's one-line error), which is shown as it is."""
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or "<html" in head or "<body" in head:
        return "an HTML page, not Sentry's JSON"
    if "\n" in text.strip() or len(text) > 200:
        return f"{len(text)} characters of text, not Sentry's JSON"
    return None


class SentryError(Exception):
    """Base class. The message is redacted at construction."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0])


class SentryConfigError(SentryError):
    """Connection settings missing or invalid."""


class SentryTransportError(SentryError):
    """No usable HTTP answer after every retry."""

    def __init__(self, action: str, what: str, cause: str, attempts: int) -> None:
        self.action, self.what, self.attempts = action, what, attempts
        super().__init__(f"{action} {what}: no answer from Sentry after {attempts} attempt(s): {cause}")


class SentryProtocolError(SentryError):
    """The server answered, but not as Sentry does (an HTML page, text, JSON of another shape): the base URL
    points at something that is not Sentry's API."""


class SentryStateError(SentryError):
    """Sentry holds something that the stack cannot accept as it is."""


class SentryToolError(SentryError):
    """A tool of Sentry's (sentry-cli) could not be run or failed; the message ends with what it said."""


class SentryApiError(SentryError):
    """Sentry answered with an error status."""

    def __init__(
        self, action: str, what: str, status: int, body: Any = None, *, advice: str = "", attempts: int = 1
    ) -> None:
        self.action, self.what, self.status, self.body, self.attempts = action, what, status, body, attempts
        self.detail = redact(detail_from_body(body))
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        head = f"{action} {what}: HTTP {status}{(' ' + phrase) if phrase else ''}"
        text = f"{head}: {self.detail}" if self.detail else head
        if attempts > 1:
            text += f" (after {attempts} attempts)"
        if advice:
            text += f". {advice}"
        self.advice = advice
        super().__init__(text)


class SentryBadRequest(SentryApiError):
    """400 with field errors."""

    @property
    def fields(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


class SentryAuthError(SentryApiError):
    """401 or 403."""


class SentryNotFound(SentryApiError):
    """404."""


class SentryConflict(SentryApiError):
    """409."""


class SentryGone(SentryApiError):
    """410: the endpoint was retired (legacy alert APIs)."""


class SentryRateLimited(SentryApiError):
    """429 after every retry."""


class SentryServerError(SentryApiError):
    """5xx after every retry."""


_BY_STATUS: dict[int, type[SentryApiError]] = {
    400: SentryBadRequest,
    401: SentryAuthError,
    403: SentryAuthError,
    404: SentryNotFound,
    409: SentryConflict,
    410: SentryGone,
    429: SentryRateLimited,
}


def api_error(
    action: str, what: str, status: int, body: Any = None, *, advice: str = "", attempts: int = 1
) -> SentryApiError:
    """The SentryApiError subclass for `status`."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = SentryServerError if status >= 500 else SentryApiError
    return cls(action, what, status, body, advice=advice, attempts=attempts)


__all__ = [
    "REDACTED",
    "SentryApiError",
    "SentryAuthError",
    "SentryBadRequest",
    "SentryConfigError",
    "SentryConflict",
    "SentryError",
    "SentryGone",
    "SentryNotFound",
    "SentryProtocolError",
    "SentryRateLimited",
    "SentryServerError",
    "SentryStateError",
    "SentryToolError",
    "SentryTransportError",
    "api_error",
    "describe_text",
    "detail_from_body",
    "redact",
    "register_secret",
]
