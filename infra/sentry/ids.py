"""Composite Pulumi ids of Sentry objects, and parsing them from Sentry URLs.

| kind        | Pulumi id                     | API path                                              |
| ----------- | ----------------------------- | ----------------------------------------------------- |
| project     | ``org/<numeric project id>``  | ``projects/{org}/{slug or id}/``                      |
| key         | ``org/<project slug>/<public>`` | ``projects/{org}/{project}/keys/{public}/``         |
| filter      | ``org/<project slug>/<filter id>`` | ``projects/{org}/{project}/filters/{filter id}/``|
| workflow    | ``org/<workflow id>``         | ``organizations/{org}/workflows/{id}/``               |
| detector    | ``org/<detector id>``         | ``organizations/{org}/detectors/{id}/``               |
| rule        | ``org/<project slug>/<rule id>`` | ``projects/{org}/{project}/rules/{id}/`` (legacy)  |
| alert-rule  | ``org/<alert rule id>``       | ``organizations/{org}/alert-rules/{id}/`` (legacy)    |

A project id uses the numeric id (stable across slug renames); the others use what their URL needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Kind = Literal["project", "key", "filter", "workflow", "detector", "rule", "alert-rule"]

_PARTS: dict[str, int] = {
    "project": 2,
    "key": 3,
    "filter": 3,
    "workflow": 2,
    "detector": 2,
    "rule": 3,
    "alert-rule": 2,
}
_SEGMENT = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class SentryId:
    """A parsed composite id. ``project`` is empty for org-level kinds; ``object_id`` is the last
    segment (numeric project id, public key, filter id, workflow/detector/rule id)."""

    kind: Kind
    org: str
    project: str
    object_id: str

    def __str__(self) -> str:
        if _PARTS[self.kind] == 3:
            return f"{self.org}/{self.project}/{self.object_id}"
        return f"{self.org}/{self.object_id}"


def make(kind: Kind, org: str, *rest: str) -> str:
    """The composite id of `kind` from its parts (``make("key", "acme", "backend", "abc…")``)."""
    return str(parse(kind, "/".join((org, *rest))))


def parse(kind: Kind, text: str) -> SentryId:
    """Parse a composite id of `kind`; ValueError says what was expected."""
    parts = text.split("/")
    n = _PARTS[kind]
    shape = "org/project/id" if n == 3 else "org/id"
    if len(parts) != n or not all(_SEGMENT.match(p) for p in parts):
        raise ValueError(f"invalid {kind} id {text!r}: expected {shape}")
    if kind == "project" and not parts[1].isdigit():
        raise ValueError(f"invalid project id {text!r}: expected org/<numeric project id>")
    if n == 3:
        return SentryId(kind, parts[0], parts[1], parts[2])
    return SentryId(kind, parts[0], "", parts[1])


_URL_PATTERNS: list[tuple[Kind, re.Pattern[str]]] = [
    ("key", re.compile(r"^(?:api/0/)?projects/(?P<org>[^/]+)/(?P<project>[^/]+)/keys/(?P<id>[^/]+)$")),
    ("filter", re.compile(r"^(?:api/0/)?projects/(?P<org>[^/]+)/(?P<project>[^/]+)/filters/(?P<id>[^/]+)$")),
    ("rule", re.compile(r"^(?:api/0/)?projects/(?P<org>[^/]+)/(?P<project>[^/]+)/rules/(?P<id>\d+)$")),
    ("workflow", re.compile(r"^(?:api/0/)?organizations/(?P<org>[^/]+)/workflows/(?P<id>\d+)$")),
    ("detector", re.compile(r"^(?:api/0/)?organizations/(?P<org>[^/]+)/detectors/(?P<id>\d+)$")),
    ("alert-rule", re.compile(r"^(?:api/0/)?organizations/(?P<org>[^/]+)/alert-rules/(?P<id>\d+)$")),
    # settings pages: /settings/{org}/projects/{project}/keys/{key}/ and the customer-domain form
    ("key", re.compile(r"^settings/(?P<org>[^/]+)/projects/(?P<project>[^/]+)/keys/(?P<id>[^/]+)$")),
]


def from_url(url: str) -> SentryId:
    """The composite id of the object a Sentry API or settings URL points at.

    Accepts ``https://sentry.io/api/0/projects/acme/backend/keys/<public>/``,
    ``https://acme.sentry.io/settings/projects/backend/keys/<public>/`` (customer domain: the org
    comes from the host), workflow, detector, filter and legacy rule URLs. Project URLs are not
    accepted (a project id needs the numeric id, which a slug URL does not carry).
    """
    parts = urlsplit(url.strip())
    path = parts.path.strip("/")
    host = parts.hostname or ""
    if path.startswith("settings/projects/") and host.endswith(".sentry.io"):
        org = host.split(".", 1)[0]
        path = f"settings/{org}/" + path[len("settings/") :]
    for kind, pattern in _URL_PATTERNS:
        match = pattern.match(path)
        if match:
            groups = match.groupdict()
            return parse(kind, "/".join(v for v in (groups["org"], groups.get("project"), groups["id"]) if v))
    raise ValueError(f"not a URL of a Sentry key, filter, workflow, detector or alert rule: {url!r}")


__all__ = ["Kind", "SentryId", "from_url", "make", "parse"]
