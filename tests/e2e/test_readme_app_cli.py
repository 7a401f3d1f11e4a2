"""The README's "Use it for your app", followed literally by a team's project outside this repository, through the real
CLI against a real localsentry, with `driver: none` (no container, no fixed port).

The project is what the section's steps write: step 1's venv next to the project (a link to this checkout's venv, which
has the toolkit installed) and the state settings it gives, step 2's `Pulumi.yaml` and `__main__.py` taken from the
README's own code blocks, step 3's services (an Express API, a worker of the same code and a Nuxt app, a stack no other
test uses), step 4's stack values, with no Sentry connection: step 4's own command starts localsentry in the project
folder, and the stack finds it there (`.localsentry/info.json`). The CLI's PATH holds the Pulumi CLI and the system,
not the venv: the README never says to activate it, so the provider plugin must be found from what the section writes.
The rendered files name the project's own namespace (`shop:`), the key a team edits.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from infra.render import parse_dotenv
from tests.e2e.pulumi_support import ROOT, TOOLS_BIN, VENV, PulumiProject
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

SERVICES: dict[str, Any] = {
    "api": {"image": "shop/api:1", "port": 8500, "environment": {"REDIS_URL": "redis://${redis.host}:6379/0"},
            "sentry": {"project": "shop-api", "platform": "node-express"}},
    "worker": {"image": "shop/api:1", "command": ["node", "--import", "./instrument.mjs", "worker.mjs"],
               "dsnFrom": "api"},
    "redis": {"image": "shop/redis:1", "port": 6379},
    "web": {"image": "shop/web:1", "port": 8580, "framework": "nuxt",
            "environment": {"NUXT_PUBLIC_API_URL": "${api.url}", "HOST": "${self.bind}"},
            "sentry": {"project": "shop-web", "platform": "javascript-vue"}},
}  # fmt: skip


class ReadmeProject(PulumiProject):
    """The project with the README's state settings only: its passphrase file, not the tests' passphrase."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        for name in ("SENTRY_BASE_URL", "SENTRY_ORG", "SENTRY_AUTH_TOKEN"):  # the connection is step 4's localsentry
            env.pop(name, None)
        env.update(self.extra_env)
        return env


def section(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {name}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def code_blocks(text: str, language: str) -> list[str]:
    return [textwrap.dedent(m.group(1)) for m in re.finditer(rf"```{language}\n(.*?)\s*```", text, re.S)]


def step(number: int) -> str:
    text = section("Use it for your app")
    start = text.index(f"\n{number}. **")
    end = text.find(f"\n{number + 1}. **", start)
    return text[start : end if end > 0 else len(text)]


def readme_state_env(workdir: Path) -> dict[str, str]:
    """The `export NAME=value` lines step 1 gives for the state, evaluated in the project folder."""
    env: dict[str, str] = {}
    for block in code_blocks(step(1), "bash"):
        for line in (line.strip() for line in block.splitlines()):
            if line.startswith("export "):
                env.update((k, v.replace("$PWD", str(workdir))) for k, v in re.findall(r"(PULUMI_\w+)=(\S+)", line))
    return env


class Sentry:
    """The localsentry step 4 started, as its info file describes it."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.url, self.org = str(info["url"]), str(info["organization"])
        self.token = Path(info["token_file"]).read_text().strip()

    def get_json(self, path: str) -> Any:
        resp = requests.get(self.url + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        assert resp.status_code == 200, resp.text[:300]
        return resp.json()


def start_localsentry(workdir: Path) -> tuple[subprocess.Popen[bytes], Sentry]:
    """Step 4's command, run in the project folder as written (the venv is the project's; the port a free one)."""
    [line] = [ln for block in code_blocks(step(4), "bash") for ln in block.splitlines() if "-m localsentry" in ln]
    args = shlex.split(line.strip().removesuffix("&"))
    args[args.index("--port") + 1] = str(free_port())
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    info_file = workdir / args[args.index("--info-file") + 1]
    for _ in range(200):
        if info_file.is_file() and info_file.stat().st_size:
            return proc, Sentry(json.loads(info_file.read_text()))
        assert proc.poll() is None, f"step 4's localsentry exited {proc.returncode}"
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"step 4's localsentry wrote no {info_file}")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PulumiProject, Sentry]]:
    tmp = tmp_path_factory.mktemp("readme")
    workdir = tmp / "shop"
    workdir.mkdir()
    (workdir / "venv").symlink_to(VENV)  # step 1: the toolkit in a venv next to the project
    server, ls = start_localsentry(workdir)
    proj: ReadmeProject | None = None
    try:  # a failure while writing the project stops localsentry too
        [pulumi_yaml] = code_blocks(step(2), "yaml")
        [main_py] = code_blocks(step(2), "python")
        project = yaml.safe_load(pulumi_yaml)
        project["config"] = {"services": {"type": "object", "default": SERVICES}}
        (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
        (workdir / "__main__.py").write_text(main_py)
        path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != VENV / "bin")
        env = readme_state_env(workdir)
        assert set(env) >= {"PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE_FILE"}, "step 1 gives no state settings"
        Path(env["PULUMI_BACKEND_URL"].removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        Path(env["PULUMI_CONFIG_PASSPHRASE_FILE"]).write_text("shop passphrase\n")
        proj = ReadmeProject(workdir, stack="prod", extra_env={"PATH": f"{TOOLS_BIN}{os.pathsep}{path}", **env})
        proj.run("stack", "init", "prod", stack=False)
        for key, value in (("shop:environment", "production"), ("shop:release", "shop@1.0.0"),
                           ("shop:driver", "none")):  # fmt: skip
            proj.config_set(key, value)  # no sentry: settings: the project folder's localsentry
        yield proj, ls
    finally:
        if proj is not None:
            proj.run("destroy", "--yes", check=False)
        server.terminate()
        server.wait(timeout=30)


def test_the_readme_project_previews_and_ups_without_the_venv_on_path(shop: tuple[PulumiProject, Sentry]) -> None:
    proj, ls = shop
    preview = proj.run("preview", check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    proj.up()
    outputs = proj.outputs(show_secrets=True)
    assert sorted(outputs["sentryProjects"].values()) == ["shop-api", "shop-web"]
    files = {name: Path(p) for name, p in outputs["files"].items()}
    api, web = (parse_dotenv(files[f"{n}.env"].read_text()) for n in ("api", "web"))
    assert api["SENTRY_DSN"] == outputs["dsns"]["api"] == parse_dotenv(files["worker.env"].read_text())["SENTRY_DSN"]
    assert web["NUXT_PUBLIC_SENTRY_DSN"] == outputs["dsns"]["web"] and "NUXT_PUBLIC_SENTRY_DSN" not in api
    assert ls.get_json(f"/api/0/projects/{ls.org}/shop-api/")["slug"] == "shop-api"


def test_the_rendered_files_name_the_projects_own_keys(shop: tuple[PulumiProject, Sentry]) -> None:
    proj, _ = shop
    files = proj.outputs()["files"]
    for name in ("api.env", "web.env", "worker.env", "redis.env"):
        text = Path(files[name]).read_text()
        comments = "\n".join(line for line in text.splitlines() if line.startswith("#"))
        assert "sentry-stacks:" not in comments, (name, comments)
        assert f"shop:services.{name.removesuffix('.env')}.environment" in comments, (name, comments)


def test_a_refusal_names_the_command_the_readme_runs(shop: tuple[PulumiProject, Sentry]) -> None:
    """Step 6's rotation command, run as written from the project folder: a step that must not run yet says what to
    run instead with that same command (not `rotate-dsn`, which exists only as this repository's scripts/)."""
    proj, _ = shop
    if "dsns" not in proj.outputs():
        proj.up()
    [command] = set(re.findall(r"`(venv/bin/sentry-stacks-rotate-dsn) --stack prod", step(6)))
    refused = subprocess.run([command, "--stack", "prod", "--service", "api", "verify"], cwd=proj.workdir,
                             env=proj.env(), capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"run `{command} --stack prod --service api start` first" in refused.stderr, refused.stderr


def test_the_check_named_in_every_rendered_file_reports_edits(shop: tuple[PulumiProject, Sentry]) -> None:
    """The command in the rendered files' header (step 6 names it too), run as written from the project folder with
    the venv off PATH: it passes on the files `up` wrote, and reports a hand edit by file and variable, exit 1, no
    DSN printed; untouched again, it passes."""
    proj, _ = shop
    if "dsns" not in proj.outputs():
        proj.up()
    outputs = proj.outputs(show_secrets=True)
    api_env = Path(outputs["files"]["api.env"])
    headers = {name: " ".join(line.lstrip("# ") for line in Path(path).read_text().splitlines()[:4])
               for name, path in outputs["files"].items()}  # fmt: skip
    named = {m.group(1) if (m := re.search(r"`([^`]*--check)` reports edits", text)) else text
             for text in headers.values()}  # fmt: skip
    assert named == {"venv/bin/sentry-stacks-render-env --stack prod --check"}, headers
    [command] = named
    assert f"`{command}`" in step(6)

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(shlex.split(command), cwd=proj.workdir, env=proj.env(), capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip

    clean = check()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"{len(outputs['files'])} files in {api_env.parent} match the stack" in clean.stdout, clean.stdout
    written = api_env.read_text()
    try:
        edit = [(line.replace(":6379/0", ":6379/1") if line.startswith("REDIS_URL=") else line)
                for line in written.splitlines()]  # a hand edit: another Redis database  # fmt: skip
        assert edit != written.splitlines()
        api_env.write_text("\n".join(edit) + "\n")
        edited = check()
        assert edited.returncode == 1, edited.stdout + edited.stderr
        assert "sentry-stacks-render-env: prod: files in" in edited.stderr, edited.stderr
        assert "  api.env: REDIS_URL differs" in edited.stderr.splitlines(), edited.stderr
        for dsn in outputs["dsns"].values():
            assert dsn not in edited.stdout + edited.stderr
    finally:
        api_env.write_text(written)
    assert check().returncode == 0
