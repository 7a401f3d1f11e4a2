"""SourceMaps: the JavaScript of a build and its hidden source maps, uploaded to a project for a release, once.

Identity: the project, the release (and dist), the URL prefix and ``bundleHash``, the build's content hash (the
program computes it from the folder with :func:`~infra.sentry.source_maps_upload.bundle_hash`). A change of any of
them is a replacement, i.e. one new upload; the folder's path alone is not (an update without a request). A rerun
with the same build changes nothing and sends nothing.

``create()`` first looks in this project directory's record of confirmed uploads: a second stack of the same
release and build finds it there and sends no request. Otherwise it runs the real ``sentry-cli sourcemaps upload
--wait`` (:class:`~infra.sentry.source_maps_upload.SentryCli`) from the provider plugin's process (it runs on the
machine of the program, in the project directory), which sends only the chunks Sentry lacks and stores one artifact
bundle per content (a killed run's upload is found again by Sentry, never duplicated), and records it. The files
must still be the ones the program hashed: a folder rebuilt in between fails with what to do.

``read()`` asks Sentry for the bundle (one request), so ``pulumi refresh`` shows one that is gone. ``delete()``
leaves the bundle in Sentry: events of the release still need it, other stacks share it, and Sentry drops bundles
nobody used for 90 days.

The upload token is the provider's ``uploadToken`` (the program gives ``sentry:uploadToken``, a secret; on sentry.io
an organization token, scope ``org:ci``), else the provider's Sentry token. It is a secret input of the provider
(ciphertext in state) and reaches sentry-cli in its environment only; never a resource input, an output, an argument
or a log line.

Pulumi id: ``{org}/{project}/{release}/{bundleHash}``. Stacks made by the dynamic provider of earlier releases
(``pulumi-python:dynamic/sentry:SourceMaps``, same inputs and outputs) upgrade through the type alias with no step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from infra.fields import BundleHash, Dist, ProjectSlug, ReleaseVersion, UrlPrefix, text
from infra.sentry.base import SentryProvider
from infra.sentry.errors import SentryToolError
from infra.sentry.shape import SentryModel, field, inputs_of_state
from infra.sentry.source_maps_upload import SentryCli, Target, Upload, UploadRecord, bundle_hash, find_bundle


class SourceMapsInputs(SentryModel):
    """A build's source maps in a project for a release (``sentrystacks:index:SourceMaps``); nothing is sent as a
    request body: sentry-cli uploads the folder."""

    UNSET = "default"

    project: ProjectSlug = field("project", replace=True, sent=False, description="The project's slug")
    release: ReleaseVersion = field("release", replace=True, sent=False, description="The release's version")
    dist: Dist | None = field("dist", None, replace=True, sent=False, description="The release's distribution")
    url_prefix: UrlPrefix = field("urlPrefix", "~/", replace=True, sent=False,
                                  description="Where the folder's files are served ('~/': the site root, any host)")
    path: Annotated[str, text("a folder path")] = field(
        "path", sent=False, description="The folder with the build's JavaScript and source maps (absolute)")
    bundle_hash: BundleHash = field("bundleHash", replace=True, sent=False,
                                    description="The build's content hash (hex SHA-256 of the files uploaded)")

    def target(self, base_url: str, organization: str) -> Target:
        return Target(base_url, organization, self.project, self.release, self.dist, self.url_prefix)


class SourceMapsState(SourceMapsInputs):
    """What a SourceMaps' state holds besides its inputs: the artifact bundle Sentry holds."""

    organization: str | None = field("organization", None, sent=False, diff=False)
    bundle_id: str | None = field("bundleId", None, sent=False, diff=False, description="The artifact bundle's id")
    files: int | None = field("files", None, sent=False, diff=False, description="Files in the bundle")


def source_maps_id(org: str, inputs: SourceMapsInputs) -> str:
    return f"{org}/{inputs.project}/{inputs.release}/{inputs.bundle_hash}"


def parse_source_maps_id(id_: str) -> tuple[str, str, str, str]:
    parts = id_.split("/")
    if len(parts) != 4 or not all(parts):
        raise ValueError(f"invalid source maps id {id_!r}: expected org/project/release/bundleHash")
    return parts[0], parts[1], parts[2], parts[3]


def outputs_from_api(bundle_id: str, files: int, inputs: SourceMapsInputs, *, organization: str) -> dict[str, Any]:
    """State of an upload: the declared inputs, the organization, and the bundle Sentry holds (id, files)."""
    return {"project": inputs.project, "release": inputs.release, "dist": inputs.dist, "urlPrefix": inputs.url_prefix,
            "path": inputs.path, "bundleHash": inputs.bundle_hash, "organization": organization,
            "bundleId": bundle_id, "files": files}  # fmt: skip


class SourceMapsProvider(SentryProvider[SourceMapsInputs]):
    """Upload (once per release, build and project), read, and leave in place a build's source maps."""

    inputs_type = SourceMapsInputs
    record: UploadRecord | None = None  # tests give their own; else the project directory's

    def _cli(self) -> SentryCli:
        return SentryCli(self.upload_token or self.client.connection.token)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client = self.client
        org = client.org
        target = inputs.target(client.connection.api_root.removesuffix("api/0/"), org)
        key = target.key(inputs.bundle_hash)
        record = self.record or UploadRecord()
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
        inputs = self.inputs({**props, "project": props.get("project") or project})
        bundle = find_bundle(self.client, org, inputs.project, str(props.get("bundleId") or ""))
        if bundle is None:
            return ReadResult("", {})
        outs = outputs_from_api(str(bundle["bundleId"]), int(bundle.get("fileCount") or 0), inputs, organization=org)
        return ReadResult(id_, outs, inputs_of_state(SourceMapsInputs, outs))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only the folder's path changed (anything else replaces): nothing to send."""
        org = str(olds.get("organization") or self.client.org)
        return UpdateResult(outputs_from_api(str(olds.get("bundleId") or ""), int(olds.get("files") or 0),
                                             self.inputs(news), organization=org))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return  # kept in Sentry: events of the release need it, other stacks share it (see the module docstring)


__all__ = [
    "SourceMapsInputs",
    "SourceMapsProvider",
    "SourceMapsState",
    "outputs_from_api",
    "parse_source_maps_id",
    "source_maps_id",
]
