"""``sentry-stacks-adopt`` and ``sentry-stacks-orphans`` through the real CLI, the YAML language host, the real plugin
and a real localsentry.

A hand-made setup is brought under code: the command writes a YAML program, the stack settings and an import file;
``pulumi import --file`` then the first ``up`` send no write to Sentry, and a preview shows no change. Running it
again without ``--force`` writes nothing, in one line; the token is never printed or written. Objects made later (one
under the stack's naming, one by hand) are listed as orphans, the imported ones are not.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.pulumi_support import VENV, PulumiProject, require_yaml_host
from tests.support.hand_made import hand_made
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.e2e


def tool(name: str, project: PulumiProject, ls: LocalSentry, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**project.env(), "SENTRY_BASE_URL": ls.url, "SENTRY_AUTH_TOKEN": ls.token}
    return subprocess.run([str(VENV / "bin" / name), *args], cwd=project.workdir, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def writes(ls: LocalSentry) -> dict[str, int]:
    return {r: n for r, n in ls.stats()["by_route"].items() if not r.startswith(("GET", "POST /_localsentry"))}


def test_adopt_import_up_sends_nothing_then_orphans(localsentry: LocalSentry, tmp_path: Path) -> None:
    require_yaml_host()
    ls = localsentry
    objects = hand_made(ls, tmp_path)
    slug = objects["project"][2]["slug"]
    workdir = tmp_path / "adopted"
    workdir.mkdir()
    project = PulumiProject(workdir, stack="handmade")
    project.extra_env["SENTRY_AUTH_TOKEN"] = ls.token

    done = tool("sentry-stacks-adopt", project, ls, "--org", ls.org, "--project", slug, "--stack", "handmade")
    assert done.returncode == 0, done.stderr
    assert ls.token not in done.stdout + done.stderr
    program = yaml.safe_load((workdir / "Pulumi.yaml").read_text())
    kinds = sorted(r["type"].rsplit(":", 1)[1] for r in program["resources"].values())
    assert {"Project", "ClientKey", "InboundFilter", "MetricMonitor", "CronMonitor", "Alert"} <= set(kinds)
    settings = yaml.safe_load((workdir / "Pulumi.handmade.yaml").read_text())
    assert settings == {"config": {"sentrystacks:baseUrl": ls.url, "sentrystacks:organization": ls.org}}
    for name in ("Pulumi.yaml", "Pulumi.handmade.yaml", "import.json"):
        assert ls.token not in (workdir / name).read_text()

    before = {p.name: p.read_text() for p in workdir.iterdir()}
    again = tool("sentry-stacks-adopt", project, ls, "--org", ls.org, "--project", slug, "--stack", "handmade")
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
    assert "already exist(s): nothing written (--force overwrites)" in again.stderr
    assert {p.name: p.read_text() for p in workdir.iterdir()} == before
    missing = tool("sentry-stacks-adopt", project, ls, "--org", ls.org, "--project", "no-such", "--stack", "x",
                   "--dir", str(tmp_path / "none"))
    assert missing.returncode == 1 and missing.stderr.strip() == (
        f"sentry-stacks-adopt: --project no-such: no such project in organization '{ls.org}'")
    assert not (tmp_path / "none").exists()

    project.init()
    ls.reset_stats()
    imported = project.run("import", "--file", "import.json", "--yes")
    assert f"{len(program['resources'])} imported" in imported.stdout, imported.stdout
    assert writes(ls) == {}
    ls.reset_stats()
    project.up()
    assert writes(ls) == {}  # the first up after the import: no write to Sentry
    project.run("preview", "--expect-no-changes")
    assert ls.token not in project.state_text()

    assert tool("sentry-stacks-orphans", project, ls, "--stack", "handmade").returncode == 0  # all imported
    ls.api("POST", f"/api/0/projects/{ls.org}/{slug}/keys/", json={"name": "handmade-g2"})
    ls.api("POST", f"/api/0/projects/{ls.org}/{slug}/keys/", json={"name": "someone's key"})
    listed = tool("sentry-stacks-orphans", project, ls, "--stack", "handmade")
    assert listed.returncode == 3, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2, listed.stdout
    named = next(line for line in lines if "named for stack handmade" in line)
    other = next(line for line in lines if "declared by nothing" in line)
    assert named.startswith("ClientKey") and "pulumi import sentrystacks:index:ClientKey" in named
    assert other.startswith("ClientKey")
    assert ls.token not in listed.stdout + listed.stderr
