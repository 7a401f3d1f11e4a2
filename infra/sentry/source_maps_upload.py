"""Source maps of a build, uploaded with the real `sentry-cli` (npm `@sentry/cli`): the plain logic behind the
:class:`~infra.sentry.source_maps.SourceMaps` resource, with nothing of Pulumi in it.

* :func:`bundle_hash`: the identity of a build's upload, the SHA-256 of the files sentry-cli uploads from the
  folder (`.js`, `.cjs`, `.mjs`, `.map`: their relative paths and bytes). Two builds of the same sources give the
  same hash (bundlers and `sentry-cli sourcemaps inject` are deterministic); any change of a file gives another.
* :class:`SentryCli`: ``sentry-cli sourcemaps upload --wait`` of the folder to one project, for one release (and
  dist), under a URL prefix; the token goes to the CLI in its environment only (never on its command line, never
  in a message). sentry-cli asks Sentry which chunks it lacks and sends only those, so an upload of content Sentry
  has is two small requests and no chunk.
* :class:`UploadRecord`: the uploads this project directory has confirmed (``.sentry-stacks/source-map-uploads.jsonl``,
  one line per upload: connection, project, release, dist, prefix, hash, bundle id; no secret). A second stack of the
  same release and build finds its upload there and sends nothing at all; ``pulumi refresh`` checks Sentry still
  has it.
* :func:`find_bundle`: the project's artifact bundle of a bundle id (``GET …/files/artifact-bundles/?query=``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryToolError, redact

EXTENSIONS = (".js", ".cjs", ".mjs", ".map")  # what `sentry-cli sourcemaps upload` takes from a folder by default
CLI_VERSION = "3.8.0"  # scripts/install-sentry-cli installs this one
CLI_ENV = "SENTRY_STACKS_SENTRY_CLI"
INSTALLER = Path(__file__).resolve().parents[2] / "scripts" / "install-sentry-cli"
RECORD = Path(".sentry-stacks") / "source-map-uploads.jsonl"
RECORD_MAX_AGE = 7 * 86400.0  # seconds a recorded upload is trusted without asking Sentry (refresh asks)
UPLOAD_TIMEOUT = 900.0
BUNDLE_ID = re.compile(r"Bundle ID: ([0-9a-fA-F-]{36})")
BUNDLED = re.compile(r"Bundled (\d+) files? for upload")


def upload_files(folder: Path) -> list[Path]:
    """The files sentry-cli would upload from `folder`, as sorted relative paths."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and p.suffix in EXTENSIONS)


def bundle_hash(folder: Path) -> str | None:
    """The build's identity (hex SHA-256 of paths and bytes), or None when `folder` holds no source map."""
    if not folder.is_dir():
        return None
    files = upload_files(folder)
    if not any(f.suffix == ".map" for f in files):
        return None
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256((folder / rel).read_bytes()).digest())
    return digest.hexdigest()


def find_sentry_cli(environ: Mapping[str, str] | None = None) -> str:
    """The sentry-cli to run: ``$SENTRY_STACKS_SENTRY_CLI``, else the pinned one of ``scripts/install-sentry-cli``
    (installed from npm on first use, cached per user), else ``sentry-cli`` on PATH."""
    env = os.environ if environ is None else environ
    given = env.get(CLI_ENV)
    if given:
        return given
    if INSTALLER.exists():
        proc = subprocess.run([str(INSTALLER)], capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip().splitlines()[-1]
    found = shutil.which("sentry-cli")
    if found:
        return found
    raise SentryToolError(f"no sentry-cli: install npm @sentry/cli {CLI_VERSION} (`npm install -g @sentry/cli@"
                          f"{CLI_VERSION}`; in the toolkit's repository scripts/install-sentry-cli) or set {CLI_ENV} "
                          "to its path")


@dataclass(frozen=True)
class SourceMapsUpload:
    """A service's build to upload: its folder (absolute), the content hash the program computed from it
    (:func:`bundle_hash`), the URL prefix it is served under and the dist."""

    service: str
    path: str
    bundle_hash: str
    url_prefix: str = "~/"
    dist: str | None = None


@dataclass(frozen=True)
class Upload:
    """What one upload of a build made in Sentry."""

    bundle_id: str
    files: int
    uploaded: bool  # False: Sentry had every chunk already (or this directory recorded it)


@dataclass(frozen=True)
class Target:
    """Where an upload goes: the Sentry URL (``https://sentry.io/``, without ``api/0/``), organization and project,
    the release (and dist), and the URL prefix the files are served under."""

    base_url: str
    organization: str
    project: str
    release: str
    dist: str | None = None
    url_prefix: str = "~/"

    def key(self, content_hash: str) -> str:
        return "|".join((self.base_url, self.organization, self.project, self.release, self.dist or "",
                         self.url_prefix, content_hash))  # fmt: skip


class SentryCli:
    """Runs ``sentry-cli sourcemaps upload`` (the binary found by :func:`find_sentry_cli` unless given)."""

    def __init__(self, token: str, binary: str | None = None) -> None:
        self._token = token
        self.binary = binary

    def upload(self, target: Target, folder: Path) -> Upload:
        binary = self.binary or find_sentry_cli()
        args = [binary, "sourcemaps", "upload", "--org", target.organization, "--project", target.project,
                "--release", target.release, "--url-prefix", target.url_prefix, "--wait"]  # fmt: skip
        if target.dist:
            args += ["--dist", target.dist]
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(folder)),
               "SENTRY_URL": target.base_url, "SENTRY_AUTH_TOKEN": self._token,
               "SENTRY_DISABLE_UPDATE_CHECK": "1", "SENTRY_LOAD_DOTENV": "0"}  # fmt: skip
        what = f"source maps of release '{target.release}' to project '{target.project}'"
        try:
            proc = subprocess.run([*args, str(folder)], env=env, capture_output=True, text=True,
                                  timeout=UPLOAD_TIMEOUT, check=False)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SentryToolError(f"upload {what}: sentry-cli did not run: {exc}") from None
        if proc.returncode != 0:
            tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
            raise SentryToolError(f"upload {what}: sentry-cli exited {proc.returncode}: {redact(tail)}")
        found = BUNDLE_ID.search(proc.stdout)
        if found is None:
            raise SentryToolError(f"upload {what}: sentry-cli named no bundle: {redact(proc.stdout[-300:])}")
        files = BUNDLED.search(proc.stdout)
        return Upload(found.group(1).lower(), int(files.group(1)) if files else 0,
                      "Nothing to upload, all files are on the server" not in proc.stdout)  # fmt: skip


class UploadRecord:
    """Confirmed uploads of this project directory, one JSON line each (append-only, locked, no secret)."""

    def __init__(self, path: Path | None = None, max_age: float = RECORD_MAX_AGE) -> None:
        self.path = path or Path.cwd() / RECORD
        self.max_age = max_age

    def find(self, key: str) -> Upload | None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return None
        now = time.time()
        for line in reversed(lines):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("key") == key and now - float(entry.get("at", 0)) < self.max_age:
                return Upload(str(entry["bundleId"]), int(entry.get("files", 0)), False)
        return None

    def add(self, key: str, upload: Upload) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"key": key, "bundleId": upload.bundle_id, "files": upload.files, "at": time.time()})
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def find_bundle(client: SentryClient, organization: str, project: str, bundle_id: str) -> dict[str, Any] | None:
    """The project's artifact bundle `bundle_id` as Sentry lists it, or None (gone, or never there)."""
    found = client.get_or_none(f"projects/{organization}/{project}/files/artifact-bundles/",
                               what=f"artifact bundle '{bundle_id}' of project '{project}'",
                               params={"query": bundle_id})  # fmt: skip
    for bundle in found if isinstance(found, list) else []:
        if isinstance(bundle, dict) and str(bundle.get("bundleId", "")).lower() == bundle_id.lower():
            return bundle
    return None


__all__ = [
    "CLI_VERSION",
    "EXTENSIONS",
    "RECORD",
    "SentryCli",
    "SourceMapsUpload",
    "Target",
    "Upload",
    "UploadRecord",
    "bundle_hash",
    "find_bundle",
    "find_sentry_cli",
    "upload_files",
]
