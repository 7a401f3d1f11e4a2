"""scripts/render-env from recorded stack outputs and config: writes the stack's files, --check detects
drift with exit 1, and nothing it prints holds a DSN or a secret config value."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.unit.settings_support import DSNS, RELEASE, ROOT, SENTRY

SCRIPT = ROOT / "scripts" / "render-env"
GOLDEN = ROOT / "tests" / "golden"
SECRET_VALUE = "hunter2-not-for-logs"


def recorded(
    tmp: Path,
    stack: str = "dev",
    *,
    outputs: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    secret: tuple[str, ...] = (),
) -> tuple[Path, Path]:
    """`pulumi stack output --json --show-secrets` and `pulumi config --json --show-secrets` as files."""
    config: dict[str, Any] = dict(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"])
    config.update(SENTRY)
    config.update(extra or {})
    as_json = {}
    for key, value in config.items():
        entry: dict[str, Any] = {
            "value": json.dumps(value) if isinstance(value, dict | list) else str(value),
            "secret": key in secret,
        }
        if isinstance(value, dict | list):
            entry["objectValue"] = value
        as_json[key] = entry
    out_file, cfg_file = tmp / "outputs.json", tmp / "config.json"
    out_file.write_text(json.dumps({"dsns": DSNS, "release": RELEASE} if outputs is None else outputs))
    cfg_file.write_text(json.dumps(as_json))
    return out_file, cfg_file


def render_env(*args: str, files: tuple[Path, Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--outputs-json", str(files[0]), "--config-json", str(files[1])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
    )


def assert_nothing_secret(proc: subprocess.CompletedProcess[str]) -> None:
    printed = proc.stdout + proc.stderr
    for dsn in DSNS.values():
        assert dsn not in printed and dsn.split("//")[1].split("@")[0] not in printed
    assert SECRET_VALUE not in printed


def test_writes_the_stack_files(tmp_path: Path) -> None:
    files = recorded(tmp_path)
    out = tmp_path / "out"
    proc = render_env("--stack", "dev", "--out", str(out), files=files)
    assert proc.returncode == 0, proc.stderr
    assert_nothing_secret(proc)
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(p.name for p in (GOLDEN / "dev").iterdir())
    for name in written:
        assert (out / name).read_text() == (GOLDEN / "dev" / name).read_text(), name
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    again = render_env("--stack", "dev", "--out", str(out), files=files)
    assert again.returncode == 0 and again.stdout.count("unchanged") == len(written)


def test_check_reports_drift_and_writes_nothing(tmp_path: Path) -> None:
    files = recorded(tmp_path, "prod")
    out = tmp_path / "out"
    assert render_env("--stack", "prod", "--out", str(out), files=files).returncode == 0
    ok = render_env("--stack", "prod", "--out", str(out), "--check", files=files)
    assert ok.returncode == 0 and "6 files" in ok.stdout and "match the stack" in ok.stdout

    backend = out / "backend.env"
    backend.write_text(
        backend.read_text().replace("SENTRY_TRACES_SAMPLE_RATE='0.069444'", "SENTRY_TRACES_SAMPLE_RATE='1.0'")
        + "EXTRA='1'\n"
    )
    compose_file = out / "docker-compose.yml"
    compose_file.write_text(compose_file.read_text().replace('PORT: "8100"', 'PORT: "9999"'))
    (out / "redis.env").unlink()
    before = {p.name: p.read_text() for p in out.iterdir()}
    proc = render_env("--stack", "prod", "--out", str(out), "--check", files=files)
    assert proc.returncode == 1
    assert "backend.env: EXTRA is on disk but would not be rendered" in proc.stderr
    assert "backend.env: SENTRY_TRACES_SAMPLE_RATE differs" in proc.stderr
    assert f"redis.env: missing ({out / 'redis.env'})" in proc.stderr
    assert '-      PORT: "9999"' in proc.stderr and '+      PORT: "8100"' in proc.stderr
    assert_nothing_secret(proc)
    assert {p.name: p.read_text() for p in out.iterdir()} == before  # --check wrote nothing


def test_secrets_are_masked_in_diffs(tmp_path: Path) -> None:
    extra = {
        "sentry-stacks:serviceOverrides": {
            "backend": {"port": 8000, "environment": {"DJANGO_SECRET_KEY": SECRET_VALUE}},
            "frontend": {"port": 8080},
            "redis": {"port": 6380},
        }
    }
    files = recorded(tmp_path, extra=extra, secret=("sentry-stacks:serviceOverrides",))
    out = tmp_path / "out"
    assert render_env("--stack", "dev", "--out", str(out), files=files).returncode == 0
    assert SECRET_VALUE in (out / "backend.env").read_text()
    compose_file = out / "docker-compose.yml"
    # change lines right next to the DSN and the secret so that both appear in the diff's context
    text = compose_file.read_text().replace('DJANGO_ALLOWED_HOSTS: "127.0.0.1,localhost"', 'DJANGO_ALLOWED_HOSTS: "x"')
    text = text.replace('SENTRY_DEBUG: "false"', 'SENTRY_DEBUG: "true"')
    compose_file.write_text(text)
    proc = render_env("--stack", "dev", "--out", str(out), "--check", files=files)
    assert proc.returncode == 1 and "[secret]" in proc.stderr
    assert_nothing_secret(proc)


def test_missing_outputs_and_bad_settings_exit_2(tmp_path: Path) -> None:
    proc = render_env("--stack", "dev", "--out", str(tmp_path / "o"), files=recorded(tmp_path, outputs={}))
    assert proc.returncode == 2 and "has no `dsns` output: run `pulumi up -s dev` first" in proc.stderr
    proc = render_env(
        "--stack",
        "dev",
        "--out",
        str(tmp_path / "o"),
        files=recorded(tmp_path, outputs={"dsns": {"backend": DSNS["backend"]}, "release": RELEASE}),
    )
    assert proc.returncode == 2 and "no DSN for frontend" in proc.stderr
    bad = recorded(tmp_path, extra={"sentry-stacks:driver": "k8s", "sentry-stacks:sampling": {"traces": 2}})
    proc = render_env("--stack", "dev", files=bad)
    assert proc.returncode == 2
    assert 'sentry-stacks:driver = "k8s": unknown value; allowed: compose, docker' in proc.stderr
    assert "sentry-stacks:sampling.traces = 2: must be a number from 0 to 1" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_what_sentry_keeps_is_rendered_as_up_renders_it(tmp_path: Path) -> None:
    """The env files' comment says what Sentry keeps for a shared project (the output privacy.keptInSentry), so
    render-env writes what `up` wrote and --check reports no drift for it."""
    kept = {"backend": {"kept": {"scrubIPAddresses": True}, "users": ["prod"]}}
    files = recorded(tmp_path, outputs={"dsns": DSNS, "release": RELEASE, "privacy": {"keptInSentry": kept}})
    out = tmp_path / "out"
    proc = render_env("--stack", "dev", "--out", str(out), files=files)
    assert proc.returncode == 0, proc.stderr
    assert "IP addresses removed (kept in Sentry for the shared project, asked by stack prod" in \
        (out / "backend.env").read_text()
    assert "IP addresses kept" in (out / "frontend.env").read_text()
    assert render_env("--stack", "dev", "--out", str(out), "--check", files=files).returncode == 0
