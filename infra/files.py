"""RenderedFile: a file on the machine that runs `pulumi up`, managed as a Pulumi resource.

The file is written atomically (a temp file in the same folder, created with the final mode from the
start, fsync, rename, fsync of the folder), so a reader never sees a half-written file and a secret is
never readable by others, not even for an instant. Its content is a secret input and output, so it is
encrypted in state. `pulumi refresh` detects drift: a file edited by hand shows a changed `sha256`
(and content), a removed file is reported as deleted. `pulumi destroy` removes the file, and its folder when
nothing else is left in it.

``owner`` (a uid, optional) makes another user the file's owner from its first byte on (still mode 0600):
the env file of a ``dsnReload: file`` service is read by the container's user through a read-only mount.
Giving a file away needs root (``CAP_CHOWN``); without it the write fails with a message saying so.

The provider is pickled by reference (this module must stay importable as `infra.files`).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra import cli_watch, provider_errors
from infra.unknown import is_unknown

DEFAULT_MODE = 0o600
_FIELDS = ("path", "content", "mode", "owner")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_atomic(path: str, content: str, mode: int = DEFAULT_MODE, owner: int | None = None) -> None:
    """Write `content` to `path` atomically; the file has `mode` (and `owner`) from its first byte on."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if owner is not None:  # the owner must reach the file: the folder becomes traversable, not listable
        folder_mode = stat.S_IMODE(os.stat(folder).st_mode)
        if folder_mode & 0o011 != 0o011:
            os.chmod(folder, folder_mode | 0o011)  # noqa: S103 - search (x) only; files stay 0600
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, mode)  # mkstemp creates 0600; set the exact final mode before any byte is written
        if owner is not None and owner != os.fstat(fd).st_uid:
            try:
                os.fchown(fd, owner, -1)
            except PermissionError:
                raise PermissionError(
                    f"{path}: cannot make uid {owner} the owner (needs root); run `pulumi up` as root, or drop the"
                    " service's user/dsnReload: file (the container then reads the DSN from its environment)"
                ) from None
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_file(path: str) -> None:
    """Remove the file (gone already is fine), then its folder if that is empty now: `pulumi destroy` leaves no empty
    ``deploy/<stack>/`` behind. A folder with anything else in it (another file, a write in progress) stays, and so
    does one that cannot be removed (a mount point, no permission): the file is what was asked for."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    try:
        os.rmdir(os.path.dirname(os.path.abspath(path)))  # fails unless the folder is empty
    except OSError:
        pass


@dataclass(frozen=True)
class RenderedFileInputs:
    path: str
    content: str
    mode: int = DEFAULT_MODE
    owner: int | None = None

    @staticmethod
    def from_props(props: dict[str, Any]) -> RenderedFileInputs:
        owner = props.get("owner")
        return RenderedFileInputs(
            path=os.path.abspath(str(props["path"])),
            content=str(props["content"]),
            mode=int(props.get("mode") or DEFAULT_MODE),
            owner=None if owner is None else int(owner),
        )


def outputs_from_disk(path: str) -> dict[str, Any] | None:
    """The only place a file on disk becomes state. None when the file is gone."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            content = handle.read()
        info = os.stat(path)
    except FileNotFoundError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    return {"path": path, "content": content, "mode": mode, "sha256": sha256_text(content), "uid": info.st_uid}


class RenderedFileProvider(ResourceProvider):
    def configure(self, req: ConfigureRequest) -> None:
        provider_errors.install((OSError,))  # a file that cannot be written says which and why, in one line
        cli_watch.watch()  # the dynamic-provider host ends with the CLI (a kill -9 of it leaves no host behind)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        path = news.get("path")
        if not is_unknown(path):
            if not isinstance(path, str) or not path.strip():
                failures.append(CheckFailure("path", "path must be a non-empty string (a file path)"))
            elif "\x00" in path:
                failures.append(CheckFailure("path", "path must not contain NUL characters"))
            elif os.path.isdir(path):
                failures.append(CheckFailure("path", f"{path} is a directory; path must name a file"))
        content = news.get("content")
        if not is_unknown(content) and not isinstance(content, str):
            failures.append(CheckFailure("content", "content must be a string"))
        mode = news.get("mode", DEFAULT_MODE)
        if not is_unknown(mode) and mode is not None:
            if isinstance(mode, bool) or not isinstance(mode, int | float) or not 0 <= int(mode) <= 0o777:
                failures.append(CheckFailure("mode", "mode must be a permission number between 0 and 0o777"))
        owner = news.get("owner")
        if not is_unknown(owner) and owner is not None:
            if isinstance(owner, bool) or not isinstance(owner, int | float) or not 0 <= int(owner) < 2**32:
                failures.append(CheckFailure("owner", "owner must be a numeric uid (0 to 4294967295) or absent"))
        inputs = dict(news)
        if isinstance(path, str) and path.strip() and not is_unknown(path):
            inputs["path"] = os.path.abspath(path)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if any(is_unknown(news.get(k)) for k in _FIELDS):
            replaces = ["path"] if is_unknown(news.get("path")) else []
            return DiffResult(changes=True, replaces=replaces)
        new = RenderedFileInputs.from_props(news)
        replaces = ["path"] if olds.get("path") != new.path else []
        changed = (
            bool(replaces)
            or olds.get("sha256") != sha256_text(new.content)
            or int(olds.get("mode") or DEFAULT_MODE) != new.mode
            or (new.owner is not None and olds.get("uid") != new.owner)
        )
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = RenderedFileInputs.from_props(props)
        write_atomic(inputs.path, inputs.content, inputs.mode, inputs.owner)
        outs = outputs_from_disk(inputs.path)
        assert outs is not None
        return CreateResult(inputs.path, {**outs, "owner": inputs.owner})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = str(props.get("path") or id_)
        outs = outputs_from_disk(path)
        if outs is None:
            return ReadResult("", {})  # the file is gone: refresh drops it from state
        inputs = {"path": path, "content": outs["content"], "mode": outs["mode"]}
        if props.get("owner") is not None:
            inputs["owner"] = props["owner"]
        return ReadResult(id_, {**outs, "owner": props.get("owner")}, inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = RenderedFileInputs.from_props(news)
        write_atomic(inputs.path, inputs.content, inputs.mode, inputs.owner)
        outs = outputs_from_disk(inputs.path)
        assert outs is not None
        return UpdateResult({**outs, "owner": inputs.owner})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        remove_file(str(props.get("path") or id_))


class RenderedFile(Resource, module="files", name="RenderedFile"):
    """A file written atomically with a secret content (default mode 0600)."""

    path: pulumi.Output[str]
    content: pulumi.Output[str]
    mode: pulumi.Output[int]
    sha256: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        path: pulumi.Input[str],
        content: pulumi.Input[str],
        mode: int = DEFAULT_MODE,
        opts: pulumi.ResourceOptions | None = None,
        owner: int | None = None,
    ) -> None:
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["content"])
        props: dict[str, Any] = {"path": path, "content": pulumi.Output.secret(content), "mode": mode, "sha256": None}
        if owner is not None:
            props["owner"] = owner  # only when set: files without an owner keep their recorded inputs
        super().__init__(
            RenderedFileProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret_opts),
        )


__all__ = ["RenderedFile", "RenderedFileInputs", "RenderedFileProvider", "outputs_from_disk", "remove_file",
           "write_atomic"]
