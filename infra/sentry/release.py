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

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from infra.sentry.base import SLUG_RE, Checker, SentryProvider, declared, is_unknown
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryBadRequest

VERSION_BAD = re.compile(r"[\n\r\t\f\v/\\]")
VERSION_RESERVED = (".", "..", "latest")
INPUT_KEYS = ("version", "projects", "url", "environment", "shared", "deleteOnDestroy")
COMPUTED = ("organization", "releaseId", "dateCreated", "preexisting")


@dataclass(frozen=True)
class ReleaseInputs:
    version: str
    projects: tuple[str, ...]
    url: str | None = None
    environment: str | None = None
    shared: bool = True
    delete_on_destroy: bool = False

    @staticmethod
    def from_props(props: dict[str, Any]) -> ReleaseInputs:
        return ReleaseInputs(
            version=str(props["version"]),
            projects=tuple(sorted({str(p) for p in props.get("projects") or ()})),
            url=str(props["url"]) if props.get("url") else None,
            environment=str(props["environment"]) if props.get("environment") else None,
            shared=bool(props.get("shared", True)),
            delete_on_destroy=bool(props.get("deleteOnDestroy", False)),
        )

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"version": self.version, "projects": list(self.projects)}
        if self.url:
            body["url"] = self.url
        return body

    def props(self) -> dict[str, Any]:
        return {
            "version": self.version, "projects": list(self.projects), "url": self.url,
            "environment": self.environment, "shared": self.shared, "deleteOnDestroy": self.delete_on_destroy,
        }


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
        **inputs.props(),
        "projects": [p for p in inputs.projects if p in have],
        "url": live.get("url") if inputs.url else None,  # someone else's URL on a shared release is no drift
        "organization": organization,
        "releaseId": str(live.get("id", "")),
        "dateCreated": live.get("dateCreated"),
        "preexisting": preexisting,
    }


class ReleaseProvider(SentryProvider):
    """Create (upsert), read, add projects to, and (rarely) delete a release."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        c.str_("version", required=True, max_len=200)
        version = news.get("version")
        if isinstance(version, str) and not is_unknown(version) and (
            VERSION_BAD.search(version) or version in VERSION_RESERVED or version != version.strip()
        ):
            c.fail("version", f"version {version!r} is invalid: 1-200 characters, no '/', '\\', tabs or line breaks, "
                              f"no surrounding spaces, not {', '.join(VERSION_RESERVED)}")
        c.str_list("projects", required=True, non_empty=True, pattern=SLUG_RE, pattern_text="a project slug")
        c.str_("url", max_len=200, pattern=re.compile(r"^https?://\S+$"), pattern_text="an http(s) URL")
        c.str_("environment", max_len=64)
        c.bool_("shared")
        c.bool_("deleteOnDestroy")
        return CheckResult(declared(news), c.failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if any(is_unknown(v) for v in news.values()):
            replaces = ["version"] if is_unknown(news.get("version")) else []
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=False)
        new, old = ReleaseInputs.from_props(news), ReleaseInputs.from_props(olds)
        replaces = ["version"] if new.version != old.version else []
        return DiffResult(changes=new != old, replaces=replaces, delete_before_replace=False)

    def _upsert(self, client: SentryClient, org: str, inputs: ReleaseInputs) -> dict[str, Any]:
        what = f"release '{inputs.version}' in organization '{org}'"

        def landed() -> dict[str, Any] | None:
            live = get_release(client, org, inputs.version)
            return live if live is not None and set(inputs.projects) <= live_projects(live) else None

        created = client.create(f"organizations/{org}/releases/", inputs.to_body(), what=what, find=landed)
        live = created if isinstance(created, dict) and created.get("version") == inputs.version else None
        return live or get_release(client, org, inputs.version) or {"version": inputs.version}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = ReleaseInputs.from_props(props)
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
        inputs = ReleaseInputs.from_props({**props, "version": props.get("version") or version})
        live = get_release(self.client, org, version)
        if live is None:
            return ReadResult("", {})
        outs = outputs_from_api(live, inputs, organization=org, preexisting=bool(props.get("preexisting")))
        return ReadResult(id_, outs, {k: outs[k] for k in INPUT_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        org, _version = parse_release_id(id_)
        inputs = ReleaseInputs.from_props(news)
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
        inputs = ReleaseInputs.from_props(props)
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


class Release(Resource, module="sentry", name="Release"):
    """A Sentry release (``pulumi-python:dynamic/sentry:Release``)."""

    version: pulumi.Output[str]
    projects: pulumi.Output[list[str]]
    organization: pulumi.Output[str]
    releaseId: pulumi.Output[str]
    preexisting: pulumi.Output[bool]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*INPUT_KEYS, *COMPUTED)}
        full.update(props)
        super().__init__(ReleaseProvider(), resource_name, full, opts)


__all__ = [
    "Release",
    "ReleaseInputs",
    "ReleaseProvider",
    "get_release",
    "live_projects",
    "outputs_from_api",
    "parse_release_id",
    "release_id",
    "release_path",
]
