"""The one way this toolkit talks HTTP to Sentry.

* :func:`connection_from_config` reads the connection in a provider's ``configure()`` through the one
  resolver, :func:`infra.connection.resolve_connection` (stack config ``sentry:baseUrl`` /
  ``sentry:organization`` / ``sentry:token``, then ``SENTRY_BASE_URL`` / ``SENTRY_ORG`` /
  ``SENTRY_AUTH_TOKEN``, then the embedded localsentry's ``.localsentry/info.json`` in the project root).
* :class:`SentryClient`: a ``requests.Session`` per thread; retries with backoff for 5xx, 429 and
  connection errors; pacing by the ``X-Sentry-Rate-Limit-*`` headers and a concurrency cap learned from
  ``…-ConcurrentLimit`` (:mod:`infra.sentry.pacer`, shared by every thread of the process); cursor pagination
  through the ``Link`` header; :meth:`SentryClient.create` never repeats a POST blindly: after an ambiguous
  failure it looks the object up first.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

if TYPE_CHECKING:  # imported where a request is sent: a Pulumi program declares resources and sends none
    import requests

from infra.connection import (
    LOCALSENTRY_INFO,
    ConnectionValues,
    is_sentry_io,
    normalize_base_url,
    read_localsentry_info,
    resolve_connection,
)
from infra.sentry.errors import (
    SentryApiError,
    SentryAuthError,
    SentryConfigError,
    SentryNotFound,
    SentryProtocolError,
    SentryTransportError,
    api_error,
    describe_text,
    redact,
    register_secret,
)
from infra.sentry.pacer import Pacer, pacer_for, rate_limit_from_body

USER_AGENT = "sentry-stacks/0.1"
TIMEOUT = (10.0, 60.0)
MAX_ATTEMPTS = 8
MAX_RATE_LIMITED_ATTEMPTS = 40
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0


# --------------------------------------------------------------------------- connection settings


@dataclass(frozen=True)
class Connection:
    """Where and as whom to talk to Sentry. ``source`` says where the values came from."""

    api_root: str
    organization: str
    token: str = field(repr=False)
    source: str = "stack config"

    @property
    def is_sentry_io(self) -> bool:
        return is_sentry_io(self.api_root)


def connection_from_config(
    config: Any, environ: Mapping[str, str] | None = None, root: Path | None = None
) -> Connection:
    """The connection from :func:`infra.connection.resolve_connection` (stack config, then environment, then
    the embedded localsentry), or :class:`SentryConfigError` saying what is missing.

    `config` is a ``pulumi.dynamic.Config`` (or anything with ``get(key)``); namespaced keys are used.
    """
    values = resolve_connection(
        lambda key: config.get(key) if config is not None else None, environ, root, read_token=True
    )
    return connection_from_values(values)


def connection_from_values(values: ConnectionValues) -> Connection:
    """The connection from resolved values (with the token), or :class:`SentryConfigError` saying what is missing."""
    if values.base_url is None:
        if values.localsentry_error is not None:
            raise SentryConfigError(values.localsentry_error)
        raise SentryConfigError(
            "no Sentry connection: set sentry:baseUrl, sentry:organization and (as a secret) "
            "sentry:token in the stack config, or SENTRY_BASE_URL / SENTRY_ORG / SENTRY_AUTH_TOKEN, "
            f"or start the embedded localsentry (it writes {LOCALSENTRY_INFO})"
        )
    source = {"sentry:baseUrl": "stack config", "SENTRY_BASE_URL": "environment"}.get(
        values.base_url_source or "", f"localsentry ({LOCALSENTRY_INFO})"
    )
    api_root = normalize_base_url(values.base_url)
    if not values.organization:
        raise SentryConfigError(f"no Sentry organization for {api_root}: set sentry:organization or SENTRY_ORG")
    if not values.token:
        raise SentryConfigError(
            f"no Sentry token for {api_root}: run `pulumi config set --secret sentry:token <token>` "
            "or set SENTRY_AUTH_TOKEN"
        )
    register_secret(values.token)
    return Connection(api_root=api_root, organization=values.organization, token=values.token, source=source)


_SESSIONS = threading.local()


def _session(token: str) -> requests.Session:
    sessions: dict[str, requests.Session] | None = getattr(_SESSIONS, "by_token", None)
    if sessions is None:
        sessions = _SESSIONS.by_token = {}
    session = sessions.get(token)
    if session is None:
        import requests

        session = requests.Session()
        session.headers.update(
            {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT, "Accept": "application/json"}
        )
        sessions[token] = session
    return session


# --------------------------------------------------------------------------- the client


class AmbiguousWrite(Exception):
    """A non-idempotent request may or may not have been applied (connection dropped, 5xx)."""

    def __init__(self, cause: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(cause)
        self.cause, self.status, self.body = cause, status, body


_LINK = re.compile(r'<(?P<url>[^>]*)>\s*;(?P<attrs>[^<]*)')
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def next_page_url(link_header: str | None) -> str | None:
    """The URL of the next page from a Sentry ``Link`` header, or None when there are no more results."""
    if not link_header:
        return None
    for match in _LINK.finditer(link_header):
        attrs = dict(_ATTR.findall(match.group("attrs")))
        if attrs.get("rel") == "next":
            return match.group("url") if attrs.get("results") == "true" else None
    return None


def _decode(response: requests.Response) -> Any:
    """The body of an error answer: JSON, or the text (Sentry's 429 on old releases is a bare string)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


BASE_URL_ADVICE = (
    "check sentry:baseUrl: the URL of your Sentry (https://sentry.example.com), or us / de for sentry.io"
)


def json_of(response: requests.Response, action: str, what: str) -> Any:
    """The JSON body of a successful answer (None when empty). Anything else means the base URL is not a
    Sentry API (a login page, a proxy's error page): :class:`SentryProtocolError`, never the text itself."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        pass
    kind = describe_text(response.text) or f"text ({response.text.strip()[:80]!r}), not Sentry's JSON"
    raise SentryProtocolError(
        f"{action} {what}: {response.url.split('?')[0]} answered HTTP {response.status_code} with {kind}; "
        + BASE_URL_ADVICE
    )


_AUTH_ADVICE = {
    401: "Check sentry:token (set it with `pulumi config set --secret sentry:token <token>`)",
    403: "The token lacks a scope this needs (project:admin, project:write, alerts:write, org:read); "
         "organization tokens (sntrys_…) cannot manage projects, keys or alerts",
}


def backoff(attempt: int) -> float:
    """Full-jitter exponential backoff for retry number `attempt` (1-based)."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1))))


class SentryClient:
    """HTTP client for one connection. Thread-safe; cheap to create."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.org = connection.organization
        self.pacer = pacer_for(connection.api_root, connection.organization)
        self.sleep: Callable[[float], None] = time.sleep

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.connection.api_root + path.lstrip("/")

    def _send(self, method: str, url: str, timeout: tuple[float, float] = TIMEOUT, **kw: Any) -> requests.Response:
        seq = self.pacer.acquire()
        response: requests.Response | None = None
        try:
            response = _session(self.connection.token).request(method, url, timeout=timeout, **kw)
            return response
        finally:
            body = None
            if response is not None and response.status_code == 429:
                body = _decode(response)
            self.pacer.release(
                response.headers if response is not None else None,
                response.status_code if response is not None else None,
                body,
                seq,
            )

    def request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        what: str,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        advice: Callable[[int], str] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> requests.Response:
        """Send one request with retries; return the successful (2xx/3xx) response.

        GET/PUT/DELETE are retried on connection errors, 429 and 5xx. A POST is retried only when it
        certainly was not applied (429, connection refused); otherwise :class:`AmbiguousWrite` is
        raised so the caller can look the object up (see :meth:`create`).
        """
        idempotent = method.upper() != "POST"
        url = self.url(path)
        kw: dict[str, Any] = {"params": dict(params) if params else None, "allow_redirects": False,
                              "timeout": timeout}
        if json_body is not None:
            kw["json"] = json_body
        import requests

        attempts = throttled = 0
        while True:
            attempts += 1
            try:
                response = self._send(method, url, **kw)
            except (requests.ConnectionError, requests.Timeout) as exc:
                cause = redact(f"{type(exc).__name__}: {exc}")
                never_sent = isinstance(exc, requests.ConnectTimeout) or "NewConnectionError" in str(exc)
                if not idempotent and not never_sent:
                    raise AmbiguousWrite(cause) from None
                if attempts >= max_attempts:
                    raise SentryTransportError(action, what, cause, attempts) from None
                self.sleep(backoff(attempts))
                continue
            status = response.status_code
            if status < 400:
                return response
            body = _decode(response)
            if status == 429:
                throttled += 1
                if throttled < MAX_RATE_LIMITED_ATTEMPTS:
                    attempts -= 1  # pacing handles 429s; they do not use up the error budget
                    self.sleep(backoff(min(throttled, 4)))
                    continue
            elif status >= 500:
                if not idempotent:
                    raise AmbiguousWrite(f"HTTP {status}", status, body)
                if attempts < max_attempts:
                    self.sleep(backoff(attempts))
                    continue
            extra = advice(status) if advice else _AUTH_ADVICE.get(status, "")
            raise api_error(action, what, status, body, advice=extra, attempts=attempts + throttled)

    def get(self, path: str, *, what: str, params: Mapping[str, Any] | None = None) -> Any:
        return json_of(self.request("GET", path, action="read", what=what, params=params), "read", what)

    def get_or_none(self, path: str, *, what: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET, or None on 404."""
        try:
            return self.get(path, what=what, params=params)
        except SentryNotFound:
            return None

    def put(self, path: str, body: Any, *, what: str, action: str = "update") -> Any:
        return json_of(self.request("PUT", path, action=action, what=what, json_body=body), action, what)

    def delete(self, path: str, *, what: str) -> bool:
        """DELETE; False when it was already gone (404)."""
        try:
            self.request("DELETE", path, action="delete", what=what)
        except SentryNotFound:
            return False
        return True

    def paginate(self, path: str, *, what: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a (cursor-paginated) list; follows ``Link: rel="next"; results="true"``."""
        query: Mapping[str, Any] | None = {"per_page": 100, **(params or {})}
        url: str | None = path
        seen: set[str] = set()
        while url is not None:
            response = self.request("GET", url, action="list", what=what, params=query)
            data = json_of(response, "list", what)
            if isinstance(data, list):
                yield from data
            nxt = next_page_url(response.headers.get("Link"))
            if nxt is None or nxt in seen:
                break
            seen.add(nxt)
            # the next URL carries the whole query; Sentry may send only a path (/api/0/...): resolve it
            url, query = urljoin(self.connection.api_root, nxt), None

    def create(
        self,
        path: str,
        body: Any,
        *,
        what: str,
        find: Callable[[], Any | None],
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """POST that never runs twice blindly: after an ambiguous failure, `find()` looks for the object
        the POST may have created; it is returned if found, otherwise the POST is tried again."""
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self.request("POST", path, action="create", what=what, json_body=body, params=params)
                return json_of(response, "create", what)
            except AmbiguousWrite as exc:
                found = find()
                if found is not None:
                    return found
                if attempts >= MAX_ATTEMPTS:
                    if exc.status is not None:
                        raise api_error("create", what, exc.status, exc.body, attempts=attempts) from None
                    raise SentryTransportError("create", what, exc.cause, attempts) from None
                self.sleep(backoff(attempts))


__all__ = [
    "LOCALSENTRY_INFO",
    "AmbiguousWrite",
    "Connection",
    "Pacer",
    "SentryApiError",
    "SentryAuthError",
    "SentryClient",
    "backoff",
    "connection_from_config",
    "connection_from_values",
    "is_sentry_io",
    "json_of",
    "next_page_url",
    "normalize_base_url",
    "pacer_for",
    "rate_limit_from_body",
    "read_localsentry_info",
]
