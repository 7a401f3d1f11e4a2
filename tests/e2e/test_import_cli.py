"""``pulumi import`` of hand-made Sentry objects through the real CLI, the real plugin and a real localsentry.

Objects made outside Pulumi (a project with its "Default" key, an inbound filter, a metric monitor, a cron monitor,
an alert) are imported one by one with ``pulumi import sentrystacks:index:<Type> <name> <natural id>``; a Python
program that declares the same objects then previews with ``--expect-no-changes``. Bad ids (none such, another
organization, an id that does not fit the type, a type with nothing to import) fail with one line and leave the
state as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.provider.plugin import plugin_version
from tests.e2e.pulumi_support import PulumiProject, require_langhost, write_project
from tests.support.hand_made import hand_made
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.e2e

PROGRAM = '''
import json, pulumi
declared = json.loads(open("declared.json").read())
for name, (kind, props) in declared.items():
    pulumi.CustomResource(f"sentrystacks:index:{kind}", name, props,
                          opts=pulumi.ResourceOptions(version="{version}"))
'''


def new_project(workdir: Path, ls: LocalSentry) -> PulumiProject:
    """A Python project declaring what declared.json holds (nothing yet), its default provider on `ls`."""
    write_project(workdir, workdir.name, PROGRAM.replace("{version}", plugin_version()))
    (workdir / "declared.json").write_text("{}")
    project = PulumiProject(workdir)
    project.init()
    project.config_set("sentrystacks:baseUrl", ls.url)
    project.config_set("sentrystacks:organization", ls.org)
    project.config_set("sentrystacks:token", ls.token, secret=True)
    return project


def resources(project: PulumiProject) -> list[str]:
    return [r["urn"] for r in project.export()["deployment"].get("resources", [])]


def test_import_then_preview_no_changes(localsentry: LocalSentry, tmp_path: Path) -> None:
    require_langhost()
    ls = localsentry
    objects = hand_made(ls, tmp_path)
    project = new_project(tmp_path / "imported", ls)
    workdir = project.workdir

    for name, (kind, import_id, _) in objects.items():
        done = project.run("import", f"sentrystacks:index:{kind}", name, import_id, "--yes", "--protect=false",
                           "--generate-code=false")
        assert "1 imported" in done.stdout, done.stdout
    state = project.state_text()
    assert ls.token not in state and ls.keys(objects["project"][2]["slug"])[0]["secret"] not in state

    (workdir / "declared.json").write_text(json.dumps({n: [k, d] for n, (k, _, d) in objects.items()}))
    ls.reset_stats()
    preview = project.run("preview", "--expect-no-changes", "--diff")
    assert "to create" not in preview.stdout and "to update" not in preview.stdout, preview.stdout
    writes = {r: n for r, n in ls.stats()["by_route"].items() if not r.startswith(("GET", "POST /_localsentry"))}
    assert writes == {}
    ls.reset_stats()
    project.up()
    writes = {r: n for r, n in ls.stats()["by_route"].items() if not r.startswith(("GET", "POST /_localsentry"))}
    assert writes == {}  # the first up after the import sends no write

    # a declared change is one update of that object, so the import really manages it
    changed = {**objects["project"][2], "resolveAge": 24}
    (workdir / "declared.json").write_text(json.dumps({**{n: [k, d] for n, (k, _, d) in objects.items()},
                                                       "project": ["Project", changed]}))
    project.up()
    assert ls.api("GET", f"/api/0/projects/{ls.org}/{changed['slug']}/").json()["resolveAge"] == 24


def test_bad_import_ids_change_nothing(localsentry: LocalSentry, tmp_path: Path) -> None:
    require_langhost()
    ls = localsentry
    other = ls.create_org(unique("other"))
    slug = ls.create_project(name=unique("bad"))["slug"]
    project = new_project(tmp_path / "bad", ls)
    before = resources(project)
    cases = {
        ("Project", f"{ls.org}/no-such-project"): f"resource '{ls.org}/no-such-project' does not exist",
        ("Project", f"{other}/{slug}"): f"import id '{other}/{slug}' is in organization '{other}'",
        ("ClientKey", f"{ls.org}/{slug}"): f"import id '{ls.org}/{slug}' does not fit ClientKey: expected "
                                           "org/project-slug/key-id",
        ("DeployStart", f"{ls.org}/x"): "DeployStart cannot be imported",
    }
    for (kind, import_id), line in cases.items():
        failed = project.run("import", f"sentrystacks:index:{kind}", "x", import_id, "--yes",
                             "--generate-code=false", check=False)
        out = failed.stdout + failed.stderr
        assert failed.returncode != 0 and line in out, out
        assert 'File "' not in out and "Traceback" not in out
        assert resources(project) == before
