"""SourceMaps: the JavaScript of a build and its hidden source maps, uploaded to a project for a release, once.

Identity: the project, the release (and dist), the URL prefix and ``bundleHash``, the build's content hash (the
program computes it from the folder with :func:`~infra.sentry.source_maps_upload.bundle_hash`). A change of any of
them is a replacement, i.e. one new upload; the folder's path alone is not (an update without a request). A rerun
with the same build changes nothing and sends nothing.

``create()`` first looks in this project directory's record of confirmed uploads: a second stack of the same
release and build finds it there and sends no request. Otherwise it runs the real ``sentry-cli sourcemaps upload
--wait`` (:class:`~infra.sentry.source_maps_upload.SentryCli`), which sends only the chunks Sentry lacks and stores
one artifact bundle per content (a killed run's upload is found again by Sentry, never duplicated), and records it.
The files must still be the ones the program hashed: a folder rebuilt in between fails with what to do.

``read()`` asks Sentry for the bundle (one request), so ``pulumi refresh`` shows one that is gone. ``delete()``
leaves the bundle in Sentry: events of the release still need it, other stacks share it, and Sentry drops bundles
nobody used for 90 days.

The upload token is ``sentry:uploadToken`` (a secret; on sentry.io an organization token, scope ``org:ci``), read in
``configure()``, else the stack's Sentry token. It reaches sentry-cli in its environment only; it is never an input,
an output, an argument or a log line.

Pulumi id: ``{org}/{project}/{release}/{bundleHash}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, ConfigureRequest, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from infra.connection import UPLOAD_TOKEN_KEY
from infra.sentry.base import Checker, SentryProvider, declared, is_unknown
from infra.sentry.errors import SentryToolError, register_secret
from infra.sentry.release import VERSION_BAD, VERSION_RESERVED
from infra.sentry.source_maps_upload import (
    SentryCli,
    Target,
    Upload,
    UploadRecord,
    bundle_hash,
    find_bundle,
)
from infra.vocabulary import DIST_RE, DIST_RULE, URL_PREFIX_RE, URL_PREFIX_RULE

INPUT_KEYS = ("project", "release", "dist", "urlPrefix", "path", "bundleHash")
IDENTITY = ("project", "release", "dist", "urlPrefix", "bundleHash")
COMPUTED = ("organization", "bundleId", "files")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class SourceMapsInputs:
    project: str
    release: str
    path: str
    bundle_hash: str
    url_prefix: str = "~/"
    dist: str | None = None

    @staticmethod
    def from_props(props: dict[str, Any]) -> SourceMapsInputs:
        return SourceMapsInputs(
            project=str(props["project"]), release=str(props["release"]), path=str(props["path"]),
            bundle_hash=str(props["bundleHash"]), url_prefix=str(props.get("urlPrefix") or "~/"),
            dist=str(props["dist"]) if props.get("dist") else None,
        )  # fmt: skip

    def props(self) -> dict[str, Any]:
        return {"project": self.project, "release": self.release, "dist": self.dist, "urlPrefix": self.url_prefix,
                "path": self.path, "bundleHash": self.bundle_hash}  # fmt: skip

    def identity(self) -> tuple[str, ...]:
        return self.project, self.release, self.dist or "", self.url_prefix, self.bundle_hash

    def target(self, base_url: str, organization: str) -> Target:
        return Target(base_url, organization, self.project, self.release, self.dist, self.url_prefix)


def source_maps_id(org: str, inputs: SourceMapsInputs) -> str:
    return f"{org}/{inputs.project}/{inputs.release}/{inputs.bundle_hash}"


def parse_source_maps_id(id_: str) -> tuple[str, str, str, str]:
    parts = id_.split("/")
    if len(parts) != 4 or not all(parts):
        raise ValueError(f"invalid source maps id {id_!r}: expected org/project/release/bundleHash")
    return parts[0], parts[1], parts[2], parts[3]


def outputs_from_api(bundle_id: str, files: int, inputs: SourceMapsInputs, *, organization: str) -> dict[str, Any]:
    """State of an upload: the declared inputs, the organization, and the bundle Sentry holds (id, files)."""
    return {**inputs.props(), "organization": organization, "bundleId": bundle_id, "files": files}


class SourceMapsProvider(SentryProvider):
    """Upload (once per release, build and project), read, and leave in place a build's source maps."""

    record: UploadRecord | None = None  # tests give their own; else the project directory's

    def configure(self, req: ConfigureRequest) -> None:
        super().configure(req)
        token = req.config.get(UPLOAD_TOKEN_KEY)
        self._upload_token: str | None = (str(token).strip() or None) if token else None
        register_secret(self._upload_token)

    def _cli(self) -> SentryCli:
        return SentryCli(getattr(self, "_upload_token", None) or self.client.connection.token)

    def _record(self) -> UploadRecord:
        return self.record or UploadRecord()

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        c.slug("project")
        c.str_("release", required=True, max_len=200)
        release = news.get("release")
        if isinstance(release, str) and not is_unknown(release) and (
            VERSION_BAD.search(release) or release in VERSION_RESERVED or release != release.strip()
        ):
            c.fail("release", f"release {release!r} is invalid: no '/', '\\', tabs or line breaks, no surrounding "
                              f"spaces, not {', '.join(VERSION_RESERVED)}")
        c.str_("path", required=True)
        c.str_("bundleHash", required=True, pattern=HASH_RE, pattern_text="a hex SHA-256 of the build's files")
        c.str_("urlPrefix", pattern=URL_PREFIX_RE, pattern_text=URL_PREFIX_RULE)
        c.str_("dist", pattern=DIST_RE, pattern_text=DIST_RULE)
        return CheckResult(declared(news), c.failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if any(is_unknown(v) for v in news.values()):
            replaces = [k for k in IDENTITY if is_unknown(news.get(k))]
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=False)
        new, old = SourceMapsInputs.from_props(news), SourceMapsInputs.from_props(olds)
        replaces = [k for k, a, b in zip(IDENTITY, new.identity(), old.identity(), strict=True) if a != b]
        return DiffResult(changes=new != old, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = SourceMapsInputs.from_props(props)
        client = self.client
        org = client.org
        target = inputs.target(client.connection.api_root.removesuffix("api/0/"), org)
        key = target.key(inputs.bundle_hash)
        record = self._record()
        upload: Upload | None = record.find(key)
        if upload is None:
            folder = Path(inputs.path)
            if bundle_hash(folder) != inputs.bundle_hash:
                raise SentryToolError(f"the source maps in {folder} changed after the program read them (another "
                                      "build ran in between): run `pulumi up` again to upload the build that is there")
            upload = self._cli().upload(target, folder)
            record.add(key, upload)
        outs = outputs_from_api(upload.bundle_id, upload.files, inputs, organization=org)
        return CreateResult(source_maps_id(org, inputs), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        org, project, _release, _hash = parse_source_maps_id(id_)
        inputs = SourceMapsInputs.from_props({**props, "project": props.get("project") or project})
        bundle = find_bundle(self.client, org, inputs.project, str(props.get("bundleId") or ""))
        if bundle is None:
            return ReadResult("", {})
        outs = outputs_from_api(str(bundle["bundleId"]), int(bundle.get("fileCount") or 0), inputs, organization=org)
        return ReadResult(id_, outs, {k: outs[k] for k in INPUT_KEYS})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only the folder's path changed (anything else replaces): nothing to send."""
        inputs = SourceMapsInputs.from_props(news)
        return UpdateResult(outputs_from_api(str(olds.get("bundleId") or ""), int(olds.get("files") or 0), inputs,
                                             organization=str(olds.get("organization") or self.client.org)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return  # kept in Sentry: events of the release need it, other stacks share it (see the module docstring)


class SourceMaps(Resource, module="sentry", name="SourceMaps"):
    """A build's source maps in a Sentry project for a release (``pulumi-python:dynamic/sentry:SourceMaps``)."""

    project: pulumi.Output[str]
    release: pulumi.Output[str]
    bundleHash: pulumi.Output[str]
    bundleId: pulumi.Output[str]
    files: pulumi.Output[int]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*INPUT_KEYS, *COMPUTED)}
        full.update(props)
        super().__init__(SourceMapsProvider(), resource_name, full, opts)


__all__ = [
    "SourceMaps",
    "SourceMapsInputs",
    "SourceMapsProvider",
    "outputs_from_api",
    "parse_source_maps_id",
    "source_maps_id",
]
