"""Source maps in the whole program, under Pulumi mocks: the frontend's build (`services.frontend.sentry.sourceMaps`,
a folder of the project root) becomes one SourceMaps resource of the frontend's project for the stack's release,
identified by the build's content hash, and the containers wait for it; a folder without source maps (nothing
built) declares none and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import program
from infra.sentry.source_maps_upload import bundle_hash
from tests.program.test_program import Mocks, clean_config, done, mocks, settings  # noqa: F401 - the fixtures
from tests.unit.settings_support import RELEASE, ROOT

S = "sentrystacks:index:SourceMaps"


def project_root(tmp: Path, *, built: bool) -> Path:
    """A project root with the repository's templates and, when `built`, a frontend build's maps."""
    root = tmp / "root"
    root.mkdir()
    (root / "templates").symlink_to(ROOT / "templates")
    if built:
        assets = root / "dist" / "sourcemaps" / "frontend" / "_app" / "immutable" / "nodes"
        assets.mkdir(parents=True)
        (assets / "2.abc.js").write_text('function a(){throw new Error("x")}\n//# debugId=1d6fe2f0-5f4b-5c8a-9d7e-'
                                         '0a1b2c3d4e5f\n')  # fmt: skip
        (assets / "2.abc.js.map").write_text('{"version":3,"sources":["../../../src/routes/+page.svelte"],'
                                             '"names":[],"mappings":"AAAA"}')  # fmt: skip
    return root


@pulumi.runtime.test
def test_the_frontend_build_is_one_upload_before_the_containers(mocks: Mocks, tmp_path: Path) -> Any:  # noqa: F811
    root = project_root(tmp_path, built=True)
    s = settings("dev", tmp_path)
    p = program.build(s, root=root)
    folder = root / "dist" / "sourcemaps" / "frontend"

    def check(_: Any) -> None:
        [maps] = mocks.of(S).values()
        assert maps.name == "dev-frontend-sourcemaps"
        assert {k: maps.inputs.get(k) for k in ("project", "release", "path", "bundleHash", "urlPrefix")} == {
            "project": "sentry-stacks-demo-frontend", "release": RELEASE, "path": str(folder),
            "bundleHash": bundle_hash(folder), "urlPrefix": "~/"}
        assert "dist" not in maps.inputs or maps.inputs["dist"] is None

    assert list(p.sentry.source_maps) == ["frontend"]
    assert p.sentry.source_maps["frontend"] in p.sentry.before_deploy()  # the containers wait for it
    return done(p).apply(check)


@pulumi.runtime.test
def test_nothing_built_declares_no_upload_and_says_so(mocks: Mocks, tmp_path: Path,  # noqa: F811
                                                      monkeypatch: pytest.MonkeyPatch) -> Any:  # fmt: skip
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warned.append(str(message)))
    p = program.build(settings("dev", tmp_path), root=project_root(tmp_path, built=False))

    def check(_: Any) -> None:
        assert mocks.of(S) == {}

    assert p.sentry.source_maps == {}
    assert [w for w in warned if w.startswith("services.frontend.sentry.sourceMaps.path = dist/sourcemaps/frontend:")]
    return done(p).apply(check)


def test_no_sentry_cli_to_upload_with_stops_the_program_naming_the_setting(mocks: Mocks, tmp_path: Path,  # noqa: F811
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A build to upload and no sentry-cli (SENTRY_STACKS_SENTRY_CLI naming nothing): the preview fails, naming the
    setting, instead of the upload failing half-way through an up."""
    monkeypatch.setenv("SENTRY_STACKS_SENTRY_CLI", str(tmp_path / "no-such-sentry-cli"))
    with pytest.raises(pulumi.RunError) as stopped:
        program.build(settings("dev", tmp_path), root=project_root(tmp_path, built=True))
    message = str(stopped.value)
    assert message.startswith("sentry-stacks:services.frontend.sentry.sourceMaps: SENTRY_STACKS_SENTRY_CLI = "), message
    assert "not an executable file" in message
