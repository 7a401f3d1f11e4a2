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

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pydantic import Field

from infra.fields import EnvName, HttpUrl, ProjectSlug, ReleaseVersion, text
from infra.sentry.base import SentryProvider
from infra.sentry.client import SentryClient
from infra.sentry.compare import text_or_none, unordered
from infra.sentry.errors import SentryNotFound
from infra.sentry.shape import SentryModel, field, inputs_of_state, props_of

ISO_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
IsoTime = Annotated[str, text("an ISO 8601 date-time such as 2026-01-31T12:00:00Z", pattern=ISO_RE)]
Fingerprint = Annotated[str, text("a fingerprint (at most 200 characters)", max_len=200)]

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


class DeployStartInputs(SentryModel):
    """When the rollout of one configuration began (``sentrystacks:index:DeployStart``; no Sentry call): anything
    new replaces it, with a fresh ``dateStarted``."""

    UNSET = "default"

    version: ReleaseVersion = field("version", replace=True, sent=False, description="The release rolled out")
    environment: EnvName = field("environment", replace=True, sent=False, description="The environment")
    fingerprint: Fingerprint = field("fingerprint", replace=True, sent=False,
                                     description="What is rolled out (e.g. the compose file's hash)")


class DeployStartState(DeployStartInputs):
    date_started: str | None = field("dateStarted", None, sent=False, diff=False,
                                     description="When the rollout began")


class DeployStartProvider(SentryProvider[DeployStartInputs]):
    """Records when a rollout started; no Sentry call."""

    inputs_type = DeployStartInputs

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = props_of(self.inputs(props))
        outs["dateStarted"] = now_iso()
        return CreateResult(uuid.uuid4().hex, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, dict(props), inputs_of_state(DeployStartInputs, props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **props_of(self.inputs(news))})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


# --------------------------------------------------------------------------- the deploy record


class DeployInputs(SentryModel):
    """Sentry's record that a release reached an environment (``sentrystacks:index:Deploy``): a record never
    changes, so anything new is a new record."""

    UNSET = "default"

    version: ReleaseVersion = field("version", replace=True, sent=False, description="The release deployed")
    environment: EnvName = field("environment", replace=True, description="Where it was deployed")
    projects: Annotated[list[ProjectSlug], Field(min_length=1)] = field(
        "projects", replace=True, compare=unordered, description="The projects deployed")
    name: Annotated[str, text("a deploy name", max_len=64)] = field("name", replace=True,
                                                                     description="Unique per rollout")
    date_started: IsoTime | None = field("dateStarted", None, replace=True, compare=text_or_none,
                                         description="When the rollout began")
    fingerprint: Fingerprint | None = field("fingerprint", None, replace=True, sent=False, compare=text_or_none,
                                            description="What was rolled out")
    url: HttpUrl | None = field("url", None, replace=True, compare=text_or_none, description="A URL of the deploy")

    def to_body(self, date_finished: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "environment": self.environment, "name": self.name, "projects": unordered(self.projects),
            "dateFinished": date_finished,
        }
        if self.date_started:
            body["dateStarted"] = self.date_started
        if self.url:
            body["url"] = self.url
        return body


class DeployState(DeployInputs):
    organization: str | None = field("organization", None, sent=False, diff=False)
    deploy_id: str | None = field("deployId", None, sent=False, diff=False)
    date_finished: str | None = field("dateFinished", None, sent=False, diff=False)


def outputs_from_api(live: dict[str, Any], inputs: DeployInputs, *, organization: str) -> dict[str, Any]:
    """State of a deploy record: the declared inputs (a record never changes; Sentry may write the dates in
    another ISO form, which must not look like a new rollout), with what Sentry computed."""
    return {
        **props_of(inputs),
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


class DeployProvider(SentryProvider[DeployInputs]):
    """Record (once) and read deploys of a release."""

    inputs_type = DeployInputs

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
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
        inputs = self.inputs({**props, "version": props.get("version") or version})
        live = next((d for d in list_deploys(self.client, org, version) or [] if str(d.get("id")) == deploy_id), None)
        if live is None:
            return ReadResult("", {})
        outs = outputs_from_api(live, inputs, organization=org)
        return ReadResult(id_, outs, inputs_of_state(DeployInputs, outs))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**olds, **props_of(self.inputs(news))})  # only reached for no-op changes

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # Sentry keeps deploy records; there is no API to remove one


__all__ = [
    "DeployInputs",
    "DeployProvider",
    "DeployStartInputs",
    "DeployStartProvider",
    "deploy_name",
    "deploys_path",
    "find_deploy",
    "list_deploys",
    "outputs_from_api",
    "parse_deploy_id",
]
