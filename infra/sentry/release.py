"""Release: a Sentry release (an organization object) in every project of the stack that reports to Sentry.

Sentry's ``POST organizations/{org}/releases/`` is an upsert: it creates the version, or adds the listed
projects to the version that exists (201 either way when something changed, 208 when nothing did). So a
create never makes a duplicate, not even after a killed run, and two stacks that deploy the same version
(dev and prod of one commit, sharing the projects) share one release.

Ownership: a release is history (deploys, regressions and suspect commits point at it), so ``pulumi
destroy`` and a replacement by a newer version leave it in Sentry. Only with ``deleteOnDestroy`` is it
deleted, and even then never when another stack may use it: when the stack's projects are shared
(``shared``), when the release existed before this stack created it (``preexisting``), when it belongs to a
project outside the stack, or when it was deployed to another environment. Sentry itself refuses to delete a
release that events already point at (400): the release then stays, and the delete succeeds.

Pulumi id: ``{org}/{version}`` (a version never holds '/').
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pydantic import Field

from infra.fields import Bool, EnvName, HttpUrl, ProjectSlug, ReleaseVersion
from infra.sentry.base import SentryProvider
from infra.sentry.bodies import body_of
from infra.sentry.client import SentryClient
from infra.sentry.compare import text_or_none, unordered
from infra.sentry.errors import SentryBadRequest
from infra.sentry.shape import SentryModel, field, inputs_of_state, props_of


class ReleaseInputs(SentryModel):
    """A release (``sentrystacks:index:Release``) in every project of the stack that reports to Sentry."""

    UNSET = "default"

    version: ReleaseVersion = field("version", replace=True, description="The release's version")
    projects: Annotated[list[ProjectSlug], Field(min_length=1)] = field(
        "projects", compare=unordered, description="Projects the release belongs to")
    url: HttpUrl | None = field("url", None, compare=text_or_none, description="A URL recorded with the release")
    environment: EnvName | None = field("environment", None, sent=False, compare=text_or_none,
                                        description="The stack's environment (what a destroy may delete)")
    shared: Bool = field("shared", True, sent=False, description="The projects are shared by every stack")
    delete_on_destroy: Bool = field("deleteOnDestroy", False, sent=False,
                                    description="Delete the release on destroy when no other stack can share it")

    def to_body(self) -> dict[str, Any]:
        return {**body_of(self, skip_none=True), "projects": unordered(self.projects)}


class ReleaseState(ReleaseInputs):
    """What a Release's state holds besides its inputs."""

    organization: str | None = field("organization", None, sent=False, diff=False)
    release_id: str | None = field("releaseId", None, sent=False, diff=False)
    date_created: str | None = field("dateCreated", None, sent=False, diff=False)
    preexisting: bool | None = field("preexisting", None, sent=False, diff=False,
                                     description="The release existed before this stack created it")


def release_path(org: str, version: str) -> str:
    return f"organizations/{org}/releases/{quote(version, safe='')}/"


def release_id(org: str, version: str) -> str:
    return f"{org}/{version}"


def parse_release_id(id_: str) -> tuple[str, str]:
    org, sep, version = id_.partition("/")
    if not sep or not org or not version:
        raise ValueError(f"invalid release id {id_!r}: expected org/version")
    return org, version


def live_projects(live: dict[str, Any]) -> set[str]:
    return {str(p.get("slug")) for p in live.get("projects") or [] if isinstance(p, dict)}


def get_release(client: SentryClient, org: str, version: str) -> dict[str, Any] | None:
    found = client.get_or_none(release_path(org, version), what=f"release '{version}'")
    return found if isinstance(found, dict) else None


def outputs_from_api(
    live: dict[str, Any], inputs: ReleaseInputs, *, organization: str, preexisting: bool
) -> dict[str, Any]:
    """State of a release: the declared inputs, with ``projects`` as far as Sentry has them."""
    have = live_projects(live)
    return {
        **props_of(inputs),
        "projects": [p for p in unordered(inputs.projects) if p in have],
        "url": live.get("url") if inputs.url else None,  # someone else's URL on a shared release is no drift
        "organization": organization,
        "releaseId": str(live.get("id", "")),
        "dateCreated": live.get("dateCreated"),
        "preexisting": preexisting,
    }


class ReleaseProvider(SentryProvider[ReleaseInputs]):
    """Create (upsert), read, add projects to, and (rarely) delete a release."""

    inputs_type = ReleaseInputs

    def _upsert(self, client: SentryClient, org: str, inputs: ReleaseInputs) -> dict[str, Any]:
        what = f"release '{inputs.version}' in organization '{org}'"

        def landed() -> dict[str, Any] | None:
            live = get_release(client, org, inputs.version)
            return live if live is not None and set(inputs.projects) <= live_projects(live) else None

        created = client.create(f"organizations/{org}/releases/", inputs.to_body(), what=what, find=landed)
        live = created if isinstance(created, dict) and created.get("version") == inputs.version else None
        return live or get_release(client, org, inputs.version) or {"version": inputs.version}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client, org = self.client, self.client.org
        before = get_release(client, org, inputs.version)
        # made before (by another stack, CI, or a run of this stack that died before recording it): shared
        # history, never deleted by this stack
        if before is not None and set(inputs.projects) <= live_projects(before) and inputs.url == before.get("url"):
            live = before  # nothing new: no write
        else:
            live = self._upsert(client, org, inputs)
        outs = outputs_from_api(live, inputs, organization=org, preexisting=before is not None)
        return CreateResult(release_id(org, inputs.version), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        org, version = parse_release_id(id_)
        inputs = self.inputs({**props, "version": props.get("version") or version})
        live = get_release(self.client, org, version)
        if live is None:
            return ReadResult("", {})
        outs = outputs_from_api(live, inputs, organization=org, preexisting=bool(props.get("preexisting")))
        return ReadResult(id_, outs, inputs_of_state(ReleaseInputs, outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        org, _version = parse_release_id(id_)
        inputs = self.inputs(news)
        client = self.client
        live = get_release(client, org, inputs.version)
        if live is None or not set(inputs.projects) <= live_projects(live):
            live = self._upsert(client, org, inputs)
        if inputs.url and live.get("url") != inputs.url:
            updated = client.put(release_path(org, inputs.version), {"url": inputs.url},
                                 what=f"release '{inputs.version}'")
            live = updated if isinstance(updated, dict) else live
        return UpdateResult(outputs_from_api(live, inputs, organization=org,
                                             preexisting=bool(olds.get("preexisting"))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = self.inputs(props)
        if not inputs.delete_on_destroy or inputs.shared or props.get("preexisting"):
            return  # shared history: other stacks (or people) may point at it
        org, version = parse_release_id(id_)
        client = self.client
        live = get_release(client, org, version)
        if live is None or not live_projects(live) <= set(inputs.projects):
            return
        deploys = client.get_or_none(f"{release_path(org, version)}deploys/", what=f"deploys of release '{version}'")
        environments = {str(d.get("environment")) for d in deploys or [] if isinstance(d, dict)}
        if environments - {inputs.environment}:
            return  # deployed elsewhere too
        try:
            client.delete(release_path(org, version), what=f"release '{version}'")
        except SentryBadRequest:
            return  # Sentry keeps releases that events point at


__all__ = [
    "ReleaseInputs",
    "ReleaseProvider",
    "get_release",
    "live_projects",
    "outputs_from_api",
    "parse_release_id",
    "release_id",
    "release_path",
]
