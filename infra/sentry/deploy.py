"""Deploy: Sentry's record that a release reached an environment, written once every container is healthy.

Two resources:

* :class:`DeployStart` (no API call) notes when the stack began rolling out one configuration of its
  containers (``fingerprint``, e.g. the rendered compose file's hash): the program creates it before the
  containers, and a new fingerprint, release or environment replaces it with a fresh ``dateStarted``.
* :class:`Deploy` depends on the containers (so it runs only after every one of them is healthy) and POSTs
  ``organizations/{org}/releases/{version}/deploys/`` with ``dateStarted`` from the marker and
  ``dateFinished`` now. Any change (release, environment, fingerprint) replaces it with a new record; a
  rerun with nothing new records nothing, and a failed rollout records nothing (the containers failed, so
  the Deploy never runs).

Sentry has no API to change or delete a deploy: ``delete`` forgets it. The deploy's ``name``
(``{stack}-{fingerprint[:12]}``) is unique per rollout, so a create whose outcome is unknown (a dropped
answer, a killed CLI) finds its record again by environment and name before it POSTs a second time.

Pulumi id: ``{org}/{version}/{deploy id}``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra.sentry.base import SLUG_RE, Checker, SentryProvider, declared, is_unknown
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryNotFound

ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
INPUT_KEYS = ("version", "environment", "projects", "name", "dateStarted", "fingerprint", "url")
COMPUTED = ("organization", "deployId", "dateFinished")
START_KEYS = ("version", "environment", "fingerprint")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def deploy_name(stack: str, fingerprint: str) -> str:
    """The deploy's name: the stack and the rollout it records (at most 64 characters, as Sentry allows)."""
    return f"{stack[:50]}-{fingerprint[:12]}"


def deploys_path(org: str, version: str) -> str:
    return f"organizations/{org}/releases/{quote(version, safe='')}/deploys/"


def parse_deploy_id(id_: str) -> tuple[str, str, str]:
    org, _, rest = id_.partition("/")
    version, _, deploy_id = rest.rpartition("/")
    if not org or not version or not deploy_id:
        raise ValueError(f"invalid deploy id {id_!r}: expected org/version/deploy-id")
    return org, version, deploy_id


# --------------------------------------------------------------------------- the start marker


class DeployStartProvider(ResourceProvider):
    """Records when a rollout started; no Sentry call."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        for key in START_KEYS:
            c.str_(key, required=True, max_len=200)
        return CheckResult(declared(news), c.failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in START_KEYS if is_unknown(news.get(k)) or news.get(k) != olds.get(k)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {k: props.get(k) for k in START_KEYS}
        outs["dateStarted"] = now_iso()
        return CreateResult(uuid.uuid4().hex, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, dict(props), {k: props.get(k) for k in START_KEYS})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **{k: news.get(k) for k in START_KEYS}})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class DeployStart(Resource, module="sentry", name="DeployStart"):
    """When the rollout of a configuration began (``pulumi-python:dynamic/sentry:DeployStart``)."""

    dateStarted: pulumi.Output[str]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*START_KEYS, "dateStarted")}
        full.update(props)
        super().__init__(DeployStartProvider(), resource_name, full, opts)


# --------------------------------------------------------------------------- the deploy record


@dataclass(frozen=True)
class DeployInputs:
    version: str
    environment: str
    projects: tuple[str, ...]
    name: str
    date_started: str | None = None
    fingerprint: str = ""
    url: str | None = None

    @staticmethod
    def from_props(props: dict[str, Any]) -> DeployInputs:
        return DeployInputs(
            version=str(props["version"]),
            environment=str(props["environment"]),
            projects=tuple(sorted({str(p) for p in props.get("projects") or ()})),
            name=str(props["name"]),
            date_started=str(props["dateStarted"]) if props.get("dateStarted") else None,
            fingerprint=str(props.get("fingerprint") or ""),
            url=str(props["url"]) if props.get("url") else None,
        )

    def to_body(self, date_finished: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "environment": self.environment, "name": self.name, "projects": list(self.projects),
            "dateFinished": date_finished,
        }
        if self.date_started:
            body["dateStarted"] = self.date_started
        if self.url:
            body["url"] = self.url
        return body

    def props(self) -> dict[str, Any]:
        return {
            "version": self.version, "environment": self.environment, "projects": list(self.projects),
            "name": self.name, "dateStarted": self.date_started, "fingerprint": self.fingerprint, "url": self.url,
        }


def outputs_from_api(live: dict[str, Any], inputs: DeployInputs, *, organization: str) -> dict[str, Any]:
    """State of a deploy record: the declared inputs (a record never changes; Sentry may write the dates in
    another ISO form, which must not look like a new rollout), with what Sentry computed."""
    return {
        **inputs.props(),
        "organization": organization,
        "deployId": str(live.get("id", "")),
        "dateFinished": live.get("dateFinished"),
    }


def list_deploys(client: SentryClient, org: str, version: str) -> list[dict[str, Any]] | None:
    """The release's deploys, or None when the release is gone."""
    try:
        return [d for d in client.paginate(deploys_path(org, version), what=f"deploys of release '{version}'")
                if isinstance(d, dict)]
    except SentryNotFound:
        return None


def find_deploy(client: SentryClient, org: str, inputs: DeployInputs) -> dict[str, Any] | None:
    for item in list_deploys(client, org, inputs.version) or []:
        if item.get("environment") == inputs.environment and item.get("name") == inputs.name:
            return item
    return None


class DeployProvider(SentryProvider):
    """Record (once) and read deploys of a release."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        c.str_("version", required=True, max_len=200)
        c.str_("environment", required=True, max_len=64)
        c.str_("name", required=True, max_len=64)
        c.str_list("projects", required=True, non_empty=True, pattern=SLUG_RE, pattern_text="a project slug")
        c.str_("dateStarted", pattern=ISO_RE, pattern_text="an ISO 8601 date-time such as 2026-01-31T12:00:00Z")
        c.str_("fingerprint", max_len=200)
        c.str_("url", max_len=200, pattern=re.compile(r"^https?://\S+$"), pattern_text="an http(s) URL")
        return CheckResult(declared(news), c.failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in INPUT_KEYS if k in news or olds.get(k) is not None
                   if is_unknown(news.get(k)) or _norm(k, news.get(k)) != _norm(k, olds.get(k))]
        # a deploy record cannot change: anything new is a new record
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = DeployInputs.from_props(props)
        client, org = self.client, self.client.org
        found = find_deploy(client, org, inputs)  # recorded by a run that died before saving its state
        if found is None:
            what = f"deploy of release '{inputs.version}' to '{inputs.environment}'"
            created = client.create(deploys_path(org, inputs.version), inputs.to_body(now_iso()), what=what,
                                    find=lambda: find_deploy(client, org, inputs))
            found = created if isinstance(created, dict) else find_deploy(client, org, inputs) or {}
        outs = outputs_from_api(found, inputs, organization=org)
        return CreateResult(f"{org}/{inputs.version}/{outs['deployId']}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        org, version, deploy_id = parse_deploy_id(id_)
        inputs = DeployInputs.from_props({**props, "version": props.get("version") or version})
        live = next((d for d in list_deploys(self.client, org, version) or [] if str(d.get("id")) == deploy_id), None)
        if live is None:
            return ReadResult("", {})
        outs = outputs_from_api(live, inputs, organization=org)
        return ReadResult(id_, outs, {k: outs[k] for k in INPUT_KEYS})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **DeployInputs.from_props(news).props()})  # only reached for no-op changes

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # Sentry keeps deploy records; there is no API to remove one


def _norm(key: str, value: Any) -> Any:
    if key == "projects":
        return sorted(str(p) for p in value or ())
    return value or None


class Deploy(Resource, module="sentry", name="Deploy"):
    """A deploy of a release to an environment (``pulumi-python:dynamic/sentry:Deploy``)."""

    deployId: pulumi.Output[str]
    dateStarted: pulumi.Output[str]
    dateFinished: pulumi.Output[str]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*INPUT_KEYS, *COMPUTED)}
        full.update(props)
        super().__init__(DeployProvider(), resource_name, full, opts)


__all__ = [
    "Deploy",
    "DeployInputs",
    "DeployProvider",
    "DeployStart",
    "DeployStartProvider",
    "deploy_name",
    "deploys_path",
    "find_deploy",
    "list_deploys",
    "outputs_from_api",
    "parse_deploy_id",
]
