"""The build's upload identity (`bundle_hash`), the record of confirmed uploads, and the sentry-cli wrapper's
handling of a tool that is missing or fails (with a stand-in executable: the real CLI runs in tests/sentry)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from infra.sentry.errors import SentryToolError, register_secret
from infra.sentry.source_maps_upload import (
    CLI_ENV,
    SentryCli,
    Target,
    Upload,
    UploadRecord,
    bundle_hash,
    sentry_cli_problem,
    upload_files,
)


def build(folder: Path, body: str = "a()") -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "assets" / "app.js").write_text(body)
    (folder / "assets" / "app.js.map").write_text('{"version":3}')
    (folder / "index.html").write_text("<html>")
    return folder


def test_the_hash_is_the_uploaded_files_paths_and_bytes(tmp_path: Path) -> None:
    one, two = build(tmp_path / "one"), build(tmp_path / "two")
    assert upload_files(one) == [Path("assets/app.js"), Path("assets/app.js.map")]  # what sentry-cli takes
    assert bundle_hash(one) == bundle_hash(two) and len(bundle_hash(one) or "") == 64
    (two / "index.html").write_text("<html>changed")  # not uploaded: no other identity
    assert bundle_hash(two) == bundle_hash(one)
    (two / "assets" / "app.js").write_text("b()")
    assert bundle_hash(two) != bundle_hash(one)
    (two / "assets" / "app.js").rename(two / "assets" / "main.js")
    assert bundle_hash(two) not in (bundle_hash(one), None)
    assert bundle_hash(tmp_path / "missing") is None
    (tmp_path / "nomaps").mkdir()
    (tmp_path / "nomaps" / "app.js").write_text("a()")
    assert bundle_hash(tmp_path / "nomaps") is None  # nothing to map: no upload


def test_the_record_finds_a_recent_upload_of_the_same_target(tmp_path: Path) -> None:
    record = UploadRecord(tmp_path / ".sentry-stacks" / "source-map-uploads.jsonl", max_age=60)
    target = Target("https://sentry.io/", "acme", "web", "shop@1")
    assert record.find(target.key("h1")) is None
    record.add(target.key("h1"), Upload("b-1", 4, True))
    assert record.find(target.key("h1")) == Upload("b-1", 4, False)
    assert record.find(target.key("h2")) is None
    assert record.find(Target("https://sentry.io/", "acme", "web", "shop@1", dist="web").key("h1")) is None
    assert oct(os.stat(record.path).st_mode & 0o777) == "0o600"
    assert UploadRecord(record.path, max_age=0).find(target.key("h1")) is None  # too old: asked again


def test_a_failing_cli_names_its_last_words_never_the_token(tmp_path: Path) -> None:
    token = "sntrys_" + "x" * 40
    register_secret(token)
    fake = tmp_path / "sentry-cli"
    fake.write_text('#!/bin/sh\necho "error: API request failed (token $SENTRY_AUTH_TOKEN): 403" >&2\nexit 1\n')
    fake.chmod(0o755)
    folder = build(tmp_path / "dist")
    with pytest.raises(SentryToolError) as failed:
        SentryCli(token, binary=str(fake)).upload(Target("http://127.0.0.1:9/", "acme", "web", "shop@1"), folder)
    message = str(failed.value)
    assert "sentry-cli exited 1" in message and "403" in message and token not in message


def test_the_cli_gets_the_token_in_its_environment_only(tmp_path: Path) -> None:
    token = "sntrys_" + "y" * 40
    seen = tmp_path / "seen"
    fake = tmp_path / "sentry-cli"
    fake.write_text(f'#!/bin/sh\necho "$@" > {seen}.args\necho "$SENTRY_AUTH_TOKEN|$SENTRY_URL" > {seen}.env\n'
                    'echo "> Bundled 2 files for upload"\necho "> Bundle ID: 0D3A6F7E-1B2C-5D4E-8F90-A1B2C3D4E5F6"\n')
    fake.chmod(0o755)
    started = time.time()
    upload = SentryCli(token, binary=str(fake)).upload(
        Target("https://de.sentry.io/", "acme", "web", "shop@1", dist="web", url_prefix="~/static/"), tmp_path)
    assert upload == Upload("0d3a6f7e-1b2c-5d4e-8f90-a1b2c3d4e5f6", 2, True) and time.time() - started < 60
    args = Path(f"{seen}.args").read_text().split()
    assert token not in " ".join(args)
    assert args[:2] == ["sourcemaps", "upload"] and "--wait" in args
    assert args[args.index("--release") + 1] == "shop@1" and args[args.index("--dist") + 1] == "web"
    assert args[args.index("--url-prefix") + 1] == "~/static/" and args[-1] == str(tmp_path)
    assert Path(f"{seen}.env").read_text().strip() == f"{token}|https://de.sentry.io/"


def test_a_missing_sentry_cli_is_found_out_without_running_anything(tmp_path: Path) -> None:
    """The toolkit installed from a wheel has no scripts/install-sentry-cli: then sentry-cli comes from PATH or
    SENTRY_STACKS_SENTRY_CLI, and without either the problem says how to get one."""
    no_installer = tmp_path / "no-installer"
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    problem = sentry_cli_problem({"PATH": str(empty)}, installer=no_installer)
    assert problem is not None and "no sentry-cli" in problem and CLI_ENV in problem
    assert "npm install --global @sentry/cli@" in problem
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "sentry-cli"
    cli.write_text("#!/bin/sh\n")
    cli.chmod(0o755)
    assert sentry_cli_problem({"PATH": f"{empty}{os.pathsep}{bin_dir}"}, installer=no_installer) is None
    assert sentry_cli_problem({"PATH": str(empty), CLI_ENV: str(cli)}, installer=no_installer) is None
    gone = sentry_cli_problem({"PATH": str(bin_dir), CLI_ENV: str(tmp_path / "gone")}, installer=no_installer)
    assert gone is not None and gone.startswith(f"{CLI_ENV} = {tmp_path / 'gone'}: not an executable file")
    cli.chmod(0o644)
    assert sentry_cli_problem({"PATH": str(bin_dir)}, installer=no_installer) is not None  # not executable
