"""Server-side data scrubbing at ingest, from a project's Security & Privacy settings, as Relay does it.

Relay turns a project's legacy settings into PII rules (``relay-pii/src/convert.rs``); localsentry applies the
key-based part of them to events and transactions before they are stored:

* ``scrubIPAddresses``: the fields known to hold an IP (``user.ip_address``, ``request.env.REMOTE_ADDR``,
  ``sdk.client_ip``) are removed, and IP addresses inside other values become ``[ip]`` (``@ip:replace``).
* ``dataScrubber`` + ``dataScrubberDefaults``: values under keys matching Relay's password rule
  (``PASSWORD_KEY_REGEX`` and ``TOKEN_KEY_REGEX`` in ``relay-pii/src/regexes.rs``: password, secret, passwd,
  api_key/api-key, apikey, auth, credentials, mysql_pwd, privatekey, private_key/private-key, token, otp,
  two_factor) become ``[Filtered]``, and so do Relay's session and CSRF cookies (``SENSITIVE_COOKIES``); a
  ``Cookie`` header that carries one of them is filtered whole.
* ``dataScrubber`` + ``sensitiveFields``: values under keys containing one of the fields (case-insensitive)
  become ``[Filtered]`` (Relay's ``strip-fields`` rule).
* ``safeFields``: keys the scrubber never touches (the known IP fields are still removed, as in Relay).

Not applied: Relay's value patterns (credit cards, IBANs, PEM keys, US SSNs, URL passwords, user paths).
Like Relay's ``DATASCRUBBER_IGNORE``, the exception value, the log message, frame paths, ``debug_meta`` and
the ``User-Agent`` header are never scrubbed: only the fields that may carry personal data are walked
(``request``, ``user``, ``extra``, ``contexts``, ``tags``, ``breadcrumbs``, stack frame ``vars``, span ``data``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from localsentry.ingest.protocol import Item

FILTERED = "[Filtered]"
IP_REPLACEMENT = "[ip]"
PASSWORD_KEY = re.compile(
    r"(?i)(password|secret|passwd|api[-_]key|apikey|auth|credentials|mysql_pwd|privatekey|private[-_]key|token"
    r"|^otp$|^two[-_]factor$)"
)
SENSITIVE_COOKIES = frozenset({
    "sentrysid", "sudo", "su", "session", "__session", "sessionid", "user_session", "symfony", "phpsessid",
    "fasthttpsessionid", "mysession", "irissessionid", "_vercel_jwt", "csrf", "xsrf", "_xsrf", "_csrf", "csrf-token",
    "csrf_token", "xsrf-token", "xsrf_token", "fastcsrf", "_iris_csrf",
})  # fmt: skip
_V4 = r"(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"
IPV4 = re.compile(rf"\b{_V4}\.{_V4}\.{_V4}\.{_V4}\b")
#: item types whose JSON payload is an event
EVENT_ITEMS = ("event", "transaction")
#: the event fields that may carry personal data (what the scrubber walks)
WALKED = ("request", "user", "extra", "contexts", "tags", "breadcrumbs", "exception", "threads", "stacktrace", "spans")
NEVER = frozenset({"user-agent"})


@dataclass(frozen=True)
class Rules:
    """A project's scrubbing settings (its ``dataScrubber``... fields, Sentry's defaults when missing)."""

    scrub_data: bool = True
    scrub_defaults: bool = True
    scrub_ip: bool = False
    sensitive: tuple[str, ...] = ()
    safe: frozenset[str] = frozenset()

    @staticmethod
    def of_project(data: Mapping[str, Any]) -> Rules:
        def fields(name: str) -> Iterable[str]:
            value = data.get(name) or []
            return [str(v).strip().lower() for v in value if str(v).strip()] if isinstance(value, list) else []

        return Rules(
            scrub_data=data.get("dataScrubber") is not False,
            scrub_defaults=data.get("dataScrubberDefaults") is not False,
            scrub_ip=bool(data.get("scrubIPAddresses")),
            sensitive=tuple(fields("sensitiveFields")),
            safe=frozenset(fields("safeFields")),
        )

    @property
    def active(self) -> bool:
        return self.scrub_ip or (self.scrub_data and (self.scrub_defaults or bool(self.sensitive)))

    def sensitive_key(self, key: str) -> bool:
        if not self.scrub_data:
            return False
        if self.scrub_defaults and PASSWORD_KEY.search(key):
            return True
        lowered = key.lower()
        return any(field in lowered for field in self.sensitive)


class _Scrubber:
    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.changed = False

    def text(self, value: str) -> str:
        if not self.rules.scrub_ip:
            return value
        try:
            ipaddress.ip_address(value.strip())
        except ValueError:
            out = IPV4.sub(IP_REPLACEMENT, value)
        else:
            out = IP_REPLACEMENT
        self.changed |= out != value
        return out

    def filtered(self, value: Any) -> Any:
        if value in (None, "", FILTERED):
            return value
        self.changed = True
        return FILTERED

    def walk(self, value: Any, key: str | None = None) -> Any:
        if key is not None:
            lowered = key.lower()
            if lowered in self.rules.safe or lowered in NEVER:
                return value
            if self.rules.sensitive_key(key):
                return self.filtered(value)
        if isinstance(value, dict):
            return {k: self.walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            if value and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in value):
                return [[p[0], self.walk(p[1], p[0])] for p in value]  # a pair list (headers, query)
            return [self.walk(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def cookies(self, value: Any) -> Any:
        """A request's cookies: Relay's sensitive session/CSRF cookie names, then the key rules."""
        if isinstance(value, str):
            pairs = [[k.strip(), v] for k, _, v in (part.partition("=") for part in value.split(";")) if k.strip()]
            return "; ".join(f"{k}={v}" for k, v in self.cookies(pairs))
        if isinstance(value, dict):
            return {k: self.cookie(str(k), v) for k, v in value.items()}
        if isinstance(value, list):
            return [[p[0], self.cookie(str(p[0]), p[1])] if isinstance(p, list) and len(p) == 2 else p for p in value]
        return value

    def cookie(self, name: str, value: Any) -> Any:
        if self.rules.scrub_data and self.rules.scrub_defaults and name.lower() in SENSITIVE_COOKIES:
            if name.lower() not in self.rules.safe:
                return self.filtered(value)
        return self.walk(value, name)

    def headers(self, value: Any) -> Any:
        pairs = value.items() if isinstance(value, dict) else value if isinstance(value, list) else None
        if pairs is None:
            return value
        out: list[list[Any]] = []
        for pair in pairs:
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                continue
            name, item = str(pair[0]), pair[1]
            if name.lower() == "cookie" and isinstance(item, str) and self.sensitive_cookie_in(item):
                out.append([name, self.filtered(item)])
            else:
                out.append([name, self.walk(item, name)])
        return {k: v for k, v in out} if isinstance(value, dict) else out

    def sensitive_cookie_in(self, header: str) -> bool:
        if not (self.rules.scrub_data and self.rules.scrub_defaults) or "cookie" in self.rules.safe:
            return False
        names = {part.partition("=")[0].strip().lower() for part in header.split(";")}
        return bool(names & SENSITIVE_COOKIES) or any(self.rules.sensitive_key(n) for n in names if n)

    def query(self, value: Any) -> Any:
        if not isinstance(value, str):
            return self.walk(value)
        pairs = parse_qsl(value.lstrip("?"), keep_blank_values=True)
        scrubbed = [(k, self.walk(v, k)) for k, v in pairs]
        return urlencode(scrubbed) if scrubbed != pairs else value

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in request.items():
            if key == "cookies":
                out[key] = self.cookies(value)
            elif key == "headers":
                out[key] = self.headers(value)
            elif key == "query_string":
                out[key] = self.query(value)
            elif key in ("url", "method", "fragment"):
                out[key] = self.text(value) if isinstance(value, str) else value
            else:
                out[key] = self.walk(value, None if key in ("data", "env") else key)
        return out

    def frames(self, container: Any) -> None:
        """Only the frames' ``vars`` (paths, modules and functions are never personal data)."""
        holders = container.get("values") if isinstance(container, dict) else None
        for holder in holders if isinstance(holders, list) else [container]:
            trace = holder.get("stacktrace") if isinstance(holder, dict) else None
            for frame in (trace or {}).get("frames") or [] if isinstance(trace, dict) else []:
                if isinstance(frame, dict) and isinstance(frame.get("vars"), dict):
                    frame["vars"] = self.walk(frame["vars"])

    def event(self, event: dict[str, Any]) -> None:
        if self.rules.scrub_ip:
            for parent, field in (("user", "ip_address"), ("sdk", "client_ip")):
                holder = event.get(parent)
                if isinstance(holder, dict) and field in holder:
                    del holder[field]
                    self.changed = True
            env = (event.get("request") or {}).get("env") if isinstance(event.get("request"), dict) else None
            if isinstance(env, dict) and "REMOTE_ADDR" in env:
                del env["REMOTE_ADDR"]
                self.changed = True
        for name in WALKED:
            value = event.get(name)
            if value is None:
                continue
            if name == "request" and isinstance(value, dict):
                event[name] = self.request(value)
            elif name in ("exception", "threads"):
                self.frames(value)
            elif name == "stacktrace":
                self.frames({"values": [{"stacktrace": value}]})
            elif name == "breadcrumbs":
                crumbs = value.get("values") if isinstance(value, dict) else value
                for crumb in crumbs if isinstance(crumbs, list) else []:
                    if isinstance(crumb, dict) and "data" in crumb:
                        crumb["data"] = self.walk(crumb["data"])
            elif name == "spans":
                for span in value if isinstance(value, list) else []:
                    if isinstance(span, dict) and "data" in span:
                        span["data"] = self.walk(span["data"])
            else:
                event[name] = self.walk(value)


def scrub_event(event: dict[str, Any], rules: Rules) -> bool:
    """Scrub `event` in place by `rules`; True when anything changed."""
    if not rules.active:
        return False
    scrubber = _Scrubber(rules)
    scrubber.event(event)
    return scrubber.changed


def scrub_items(items: list[Item], project: Mapping[str, Any]) -> list[Item]:
    """The items to store, with events and transactions scrubbed by the project's settings (`project`: its data)."""
    rules = Rules.of_project(project)
    if not rules.active:
        return items
    out: list[Item] = []
    for item in items:
        payload = item.json()
        if item.type in EVENT_ITEMS and isinstance(payload, dict):
            event = json.loads(json.dumps(payload))
            if scrub_event(event, rules):
                item = Item(dict(item.headers), json.dumps(event, separators=(",", ":")).encode())
        out.append(item)
    return out


__all__ = ["FILTERED", "IP_REPLACEMENT", "PASSWORD_KEY", "SENSITIVE_COOKIES", "Rules", "scrub_event", "scrub_items"]
