"""The one way this toolkit talks HTTP to Sentry.

* :func:`connection_from_config` reads the connection in a provider's ``configure()`` through the one
  resolver, :func:`infra.connection.resolve_connection` (stack config ``sentry:baseUrl`` /
  ``sentry:organization`` / ``sentry:token``, then ``SENTRY_BASE_URL`` / ``SENTRY_ORG`` /
  ``SENTRY_AUTH_TOKEN``, then the embedded localsentry's ``.localsentry/info.json`` in the project root).
* :class:`SentryClient`: a ``requests.Session`` per thread; retries with backoff for 5xx, 429 and
  connection errors; pacing by the ``X-Sentry-Rate-Limit-*`` headers and a concurrency cap learned from
  ``…-ConcurrentLimit``, shared by every thread of the process (module state, created lazily, never
  pickled); cursor pagination through the ``Link`` header; :meth:`SentryClient.create` never repeats a
  POST blindly: after an ambiguous failure it looks the object up first.
"""

from __future__ import annotations

import math
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

USER_AGENT = "sentry-stacks/0.1"
TIMEOUT = (10.0, 60.0)
MAX_ATTEMPTS = 8
MAX_RATE_LIMITED_ATTEMPTS = 40
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0
INITIAL_CONCURRENCY = 4  # until the server advertises its limits
UNADVERTISED_CONCURRENCY = 16  # servers that send no rate-limit headers (self-hosted has limits off)
RATE_SAFETY = 0.85  # of the advertised rate, only when a server gives a limit but no budget
CLOCK_MARGIN = 0.02  # seconds past a window's reset before its budget is spent again
MAX_WAIT = 3600.0  # the longest Reset / Retry-After taken at its word


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


# --------------------------------------------------------------------------- pacing (process-wide)


class Pacer:
    """Rate and concurrency pacing shared by all threads that talk to one Sentry organization.

    Sentry counts requests in fixed windows (``Limit is N requests in W seconds``: 1 s on sentry.io
    today, 60 s on some endpoints and older releases). Every response's ``X-Sentry-Rate-Limit-Limit``,
    ``-Remaining`` and ``-Reset`` give the budget left in the current window; the pacer spends exactly
    that budget (minus the requests still in flight, which the server may not have counted yet) and
    then waits for ``-Reset``, so a full window is used without a 429. The window length is learned
    from a 429 body (Sentry's JSON object ``{"detail": "... Limit is N requests in W seconds"}`` or
    an older release's bare JSON string) and from how far away ``-Reset`` is; the longest window seen
    is kept, a later success never shortens it. ``-ConcurrentLimit`` caps requests in flight (one
    below the limit); ``-ConcurrentRemaining: 0`` on a 429 means a concurrency, not a rate, refusal.
    ``Retry-After`` (429/503) blocks everyone for that long. Servers that send no such headers
    (self-hosted Sentry with limits off) are not paced.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.in_flight = 0
        self.concurrency = INITIAL_CONCURRENCY
        self.limit: int | None = None  # requests per window, as advertised
        self.window = 1.0  # seconds; the longest window learned
        self.rate: float | None = None  # even spacing, only when a server advertises a limit but no budget
        self._counted = 0  # the highest count of the current window a response reported (all clients of the token)
        self._counted_seq = 0  # the request whose response reported it
        self._in_flight: set[int] = set()  # sequence numbers of requests sent and not answered
        self._window_end = 0.0  # monotonic time the current window resets (0: unknown)
        self._seq = 0  # requests sent so far (a response of request q saw the server's count after q)
        self._next_slot = 0.0
        self._blocked_until = 0.0
        self.learned = False
        self.throttled = 0  # 429s seen

    @property
    def budget(self) -> int | None:
        """Requests we may still send in the current window (None: no budget advertised)."""
        if self.limit is None or not self._window_end:
            return None
        # requests in flight may have arrived since (or not): count them as used until they are answered
        return self.limit - self._counted - len(self._in_flight)

    def acquire(self) -> int:
        """Wait for a slot; returns the request's sequence number (pass it to :meth:`release`)."""
        with self._cond:
            while True:
                now = time.monotonic()
                if self._window_end and now >= self._window_end + CLOCK_MARGIN:
                    self._roll_window(now)
                wait = 0.0
                budget = self.budget
                if now < self._blocked_until:
                    wait = self._blocked_until - now
                elif budget is not None and budget <= 0:
                    wait = self._window_end + CLOCK_MARGIN - now
                elif self.in_flight >= self.concurrency:
                    wait = 1.0  # a release notifies
                if wait <= 0:
                    break
                self._cond.wait(timeout=max(0.005, min(wait, 1.0)))
            self.in_flight += 1
            self._seq += 1
            seq = self._seq
            self._in_flight.add(seq)
            slot = now
            if self.rate and budget is None:
                slot = max(now, self._next_slot)
                self._next_slot = slot + 1.0 / self.rate
        if slot > now:
            time.sleep(slot - now)
        return seq

    def _roll_window(self, now: float) -> None:
        """The window we knew has ended: the server counts anew (requests still in flight may land in it)."""
        windows = int((now - self._window_end) // self.window) + 1
        self._window_end += windows * self.window
        self._counted, self._counted_seq = 0, 0  # requests still in flight may land in the new window

    def release(
        self, headers: Mapping[str, str] | None, status: int | None, body: Any = None, seq: int | None = None
    ) -> None:
        with self._cond:
            self.in_flight -= 1
            seq = self._seq if seq is None else seq
            self._in_flight.discard(seq)
            reported = headers is not None and self._learn(headers, status, body, seq)
            if not reported and self._window_end and seq > self._counted_seq:
                self._counted += 1  # answered (or failed) without a count: assume the server counted it
            self._cond.notify_all()

    def _learn(self, headers: Mapping[str, str], status: int | None, body: Any, seq: int) -> bool:
        """Learn from one response's headers (and 429 body); True when they reported the window's count."""
        now_wall, now = time.time(), time.monotonic()
        limit = _int_header(headers, "X-Sentry-Rate-Limit-Limit")
        remaining = _int_header(headers, "X-Sentry-Rate-Limit-Remaining")
        reset = _float_header(headers, "X-Sentry-Rate-Limit-Reset")
        concurrent = _int_header(headers, "X-Sentry-Rate-Limit-ConcurrentLimit")
        concurrent_left = _int_header(headers, "X-Sentry-Rate-Limit-ConcurrentRemaining")
        if limit is None and concurrent is None and not self.learned and status is not None and status < 400:
            self.concurrency = max(self.concurrency, UNADVERTISED_CONCURRENCY)
        retry_after = _float_header(headers, "Retry-After")
        if retry_after is not None and status in (429, 503) and 0 < retry_after <= MAX_WAIT:
            self._blocked_until = max(self._blocked_until, now + retry_after)
        if status == 429:
            stated = rate_limit_from_body(body)
            if stated is not None:
                limit = limit or stated[0]
                self.window = max(self.window, stated[1])
        reset_in = reset - now_wall if reset is not None else None
        if reset_in is not None and not 0 <= reset_in <= MAX_WAIT:
            reset_in = None  # a clock far off, or not a timestamp: ignore it
        if reset_in is not None and reset_in > self.window + CLOCK_MARGIN:
            self.window = float(math.ceil(reset_in))  # the reset is further away than one window of ours
        if limit and limit > 0:
            self.limit = limit
            self.rate = max(0.5, limit * RATE_SAFETY / self.window)
            self.learned = True
        if concurrent and concurrent > 0:
            self.concurrency = max(1, concurrent - 1) if concurrent > 2 else concurrent
            self.learned = True
        if reset_in is not None and remaining is not None and self.limit:
            end = now + reset_in
            counted = self.limit - remaining  # the server's count when request `seq` arrived
            if not self._window_end or end > self._window_end + 0.5:  # a later window than the one we knew
                self._window_end, self._counted, self._counted_seq = end, counted, seq
            elif end > self._window_end - 0.5 and counted >= self._counted:  # the same window: the higher count
                self._counted, self._counted_seq = counted, seq
        if status == 429:
            self.throttled += 1
            concurrency_hit = concurrent_left == 0 and remaining is not None and remaining > 0
            if concurrency_hit:
                self._blocked_until = max(self._blocked_until, now + random.uniform(0.05, 0.25))
            else:
                until = now + reset_in if reset_in is not None else now + min(self.window, 5.0)
                if not self._window_end or until > self._window_end:
                    self._window_end = until
                self._counted, self._counted_seq = max(self._counted, self.limit or 0), self._seq  # none left
                self._blocked_until = max(self._blocked_until, until + CLOCK_MARGIN, now + 0.05)
        return reset_in is not None and remaining is not None and bool(self.limit)


_STATED_LIMIT = re.compile(r"Limit is (\d+) requests? in (\d+(?:\.\d+)?) seconds?")


def rate_limit_from_body(body: Any) -> tuple[int, float] | None:
    """(requests, window seconds) stated by a 429 body: a JSON object's ``detail`` (current Sentry) or
    ``message``, or a bare JSON string (older releases, localsentry). None when the body states none."""
    text = body
    if isinstance(body, Mapping):
        text = body.get("detail") or body.get("message")
        if isinstance(text, Mapping):
            text = text.get("message")
    if not isinstance(text, str):
        return None
    match = _STATED_LIMIT.search(text)
    if match is None:
        return None
    return int(match.group(1)), max(1.0, float(match.group(2)))


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


_PACERS: dict[str, Pacer] = {}
_SESSIONS = threading.local()
_MODULE_LOCK = threading.Lock()


def pacer_for(api_root: str, organization: str) -> Pacer:
    """The process-wide pacer of one organization (created on first use)."""
    key = f"{api_root}|{organization}"
    with _MODULE_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            pacer = _PACERS[key] = Pacer()
        return pacer


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

    def ping(self) -> dict[str, Any]:
        """Check the connection; 401/403/404 become errors with advice on what to fix."""
        conn = self.connection

        def advice(status: int) -> str:
            if status == 401:
                return (
                    f"The token (from {conn.source}) is invalid or expired: create a user auth token "
                    "(sntryu_…) or an internal-integration token and set it with "
                    "`pulumi config set --secret sentry:token <token>`"
                )
            if status == 403:
                return (
                    "The token lacks a scope: it needs org:read, project:admin, project:write and "
                    "alerts:write (organization tokens, sntrys_…, only have org:ci and cannot manage projects)"
                )
            if status == 404:
                return (
                    f"No organization '{conn.organization}' at {conn.api_root}: check sentry:organization "
                    "and sentry:baseUrl (sentry.io organizations live in the us or de region)"
                )
            return ""

        response = self.request(
            "GET", f"organizations/{conn.organization}/", action="check access to",
            what=f"organization '{conn.organization}'", params={"detailed": 0}, advice=advice,
        )
        data = json_of(response, "check access to", f"organization '{conn.organization}'")
        return data if isinstance(data, dict) else {}


def client_from_config(config: Any) -> SentryClient:
    """A client for the connection resolved from `config` (see :func:`connection_from_config`)."""
    return SentryClient(connection_from_config(config))


__all__ = [
    "LOCALSENTRY_INFO",
    "AmbiguousWrite",
    "Connection",
    "Pacer",
    "SentryApiError",
    "SentryAuthError",
    "SentryClient",
    "backoff",
    "client_from_config",
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
