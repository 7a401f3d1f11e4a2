"""Run the real Pulumi CLI against a throw-away project on a local file backend.

`require_pulumi()` finds the CLI (./tools/bin first, then PATH). Without one, tests skip with what to
run; in CI (CI=true) they fail instead, because CI must provide every real component.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.localsentry import LocalSentry

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / "tools" / "bin"
VENV = ROOT / "venv"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(component: str, how: str) -> None:
    """Skip locally, fail in CI, with exactly what to install."""
    message = f"{component} is not available: {how}"
    if in_ci():
        pytest.fail(f"CI requires the real component. {message}")
    pytest.skip(message)


def require_pulumi() -> str:
    for candidate in (TOOLS_BIN / "pulumi", shutil.which("pulumi")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    missing("The Pulumi CLI", "run `make pulumi` (builds v3.274.1 from Go modules into ./tools/bin)")
    raise AssertionError("unreachable")


def require_langhost() -> None:
    if not (TOOLS_BIN / "pulumi-language-python").exists() and not shutil.which("pulumi-language-python"):
        missing("The Python language host", "run `make pulumi` after `make venv`")


def require_yaml_host() -> None:
    """Pulumi's YAML language host (pulumi-language-yaml, built by scripts/install-pulumi-yaml)."""
    require_pulumi()
    if not (TOOLS_BIN / "pulumi-language-yaml").exists() and not shutil.which("pulumi-language-yaml"):
        missing("The YAML language host", "run `make pulumi-yaml` (builds pulumi-language-yaml v1.25.0 from Go "
                "modules into ./tools/bin)")


@dataclass
class PulumiProject:
    """A Pulumi project folder with its own file backend, passphrase and PULUMI_HOME."""

    workdir: Path
    stack: str = "test"
    passphrase: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.workdir / ".state"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PATH=f"{TOOLS_BIN}:{VENV / 'bin'}:{env.get('PATH', '')}",
            PULUMI_BACKEND_URL=f"file://{self.state_dir}",
            PULUMI_CONFIG_PASSPHRASE=self.passphrase,
            PULUMI_HOME=str(self.workdir / ".pulumi-home"),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_ENABLE_LEGACY_DIFF="false",
            NO_COLOR="1",
        )
        env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
        env.update(self.extra_env)
        return env

    def run(
        self, *args: str, check: bool = True, timeout: float = 600, stack: bool = True
    ) -> subprocess.CompletedProcess[str]:
        flags = ["--non-interactive"] + (["--stack", self.stack] if stack else [])
        if "--" in args:
            at = args.index("--")
            cmd = [require_pulumi(), *args[:at], *flags, *args[at:]]
        else:
            cmd = [require_pulumi(), *args, *flags]
        proc = subprocess.run(cmd, cwd=self.workdir, env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(args)} exited {proc.returncode}\n"
                f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
            )
        return proc

    def init(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.run("stack", "init", self.stack, "--secrets-provider", "passphrase", stack=False)

    def config_set(self, key: str, value: str, secret: bool = False) -> None:
        self.run("config", "set", key, "--secret" if secret else "--plaintext", "--", value)

    def up(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--skip-preview", *extra)

    def outputs(self, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json"] + (["--show-secrets"] if show_secrets else [])
        return dict(json.loads(self.run(*args).stdout or "{}"))

    def state_text(self) -> str:
        files = list((self.state_dir / ".pulumi" / "stacks").rglob(f"{self.stack}.json"))
        return "\n".join(f.read_text() for f in files)

    def export(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "export").stdout))


def plugins_yaml(venv: Path = VENV) -> str:
    """The Pulumi.yaml entry that finds the sentrystacks provider plugin in `venv` (no download, no warning)."""
    return f"plugins:\n  providers:\n    - name: sentrystacks\n      path: {venv / 'bin'}\n"


def write_project(workdir: Path, name: str, program: str) -> None:
    """A Python project using the repository's venv (absolute path), its installed packages and provider plugin."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {VENV}\n"
        + plugins_yaml()
    )
    (workdir / "__main__.py").write_text(program)


def project_on_localsentry(workdir: Path, name: str, program: str, ls: LocalSentry, **plain: str) -> PulumiProject:
    """A project of `program` (:func:`write_project`), stack ``dev`` initialised with `ls`'s URL, organization and
    token (a secret) as its ``sentry:`` config, and the `plain` project config values."""
    write_project(workdir, name, program)
    proj = PulumiProject(workdir, stack="dev")
    proj.init()
    args = ["--plaintext", f"sentry:baseUrl={ls.url}", "--plaintext", f"sentry:organization={ls.org}"]
    for key, value in plain.items():
        args += ["--plaintext", f"{key}={value}"]
    proj.run("config", "set-all", *args, "--secret", f"sentry:token={ls.token}")
    return proj


@contextmanager
def compose_shop(tmp: Path, services: dict[str, Any], compose_prefix: str) -> Iterator[PulumiProject]:
    """A `shop` project running the toolkit's own program on the compose driver: stack `prod` of `services`, release
    shop@1.0.0, its own localsentry (under `tmp`) and a compose project named `compose_prefix` and a random suffix.
    Initialised with its Sentry token, not deployed; on leaving, destroyed and its localsentry stopped."""
    ls = LocalSentry.start(tmp / "ls")
    proj = PulumiProject(tmp / "shop", stack="prod")
    try:
        write_project(proj.workdir, "shop", "import infra.program\ninfra.program.run()\n")
        config = {"shop:services": services, "shop:driver": "compose", "shop:release": "shop@1.0.0",
                  "shop:environment": "production", "shop:composeProject": f"{compose_prefix}{uuid.uuid4().hex[:8]}",
                  "shop:team": ls.team, "sentry:baseUrl": ls.url, "sentry:organization": ls.org}  # fmt: skip
        (proj.workdir / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": config}))
        proj.init()
        proj.config_set("sentry:token", ls.token, secret=True)
        yield proj
    finally:
        proj.run("destroy", "--yes", check=False)
        ls.stop()
