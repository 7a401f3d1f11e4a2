"""sentry-stacks-adopt and sentry-stacks-orphans against a real localsentry, without the Pulumi CLI (the e2e tier runs
them with it: tests/e2e/test_adopt_cli.py): what they find, what they write, what they refuse, in one line each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.provider import adopt, orphans
from tests.support.hand_made import hand_made
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.sentry


@pytest.fixture
def sentry_env(localsentry: LocalSentry, monkeypatch: pytest.MonkeyPatch) -> LocalSentry:
    """The commands' connection: the test's localsentry through SENTRY_BASE_URL and SENTRY_AUTH_TOKEN."""
    monkeypatch.setenv("SENTRY_BASE_URL", localsentry.url)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", localsentry.token)
    return localsentry


def test_adopt_writes_every_object_and_refuses_to_overwrite(
        sentry_env: LocalSentry, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ls = sentry_env
    objects = hand_made(ls, tmp_path)
    slug = objects["project"][2]["slug"]
    out = tmp_path / "out"
    ls.reset_stats()
    assert adopt.main(["--org", ls.org, "--project", slug, "--stack", "prod", "--dir", str(out)]) == 0
    assert all(route.startswith(("GET", "POST /_localsentry")) for route in ls.stats()["by_route"])  # reads only
    entries = json.loads((out / "import.json").read_text())["resources"]
    ids = {e["id"] for e in entries}
    assert {import_id for _kind, import_id, _decl in objects.values()} <= ids
    program = yaml.safe_load((out / "Pulumi.yaml").read_text())
    assert set(program["resources"]) == {e["name"] for e in entries} and program["runtime"] == "yaml"
    project = next(r for r in program["resources"].values() if r["type"] == "sentrystacks:index:Project")
    assert project["properties"]["resolveAge"] == 72 and project["options"] == {"protect": True}
    printed = capsys.readouterr()
    assert ls.token not in printed.out + printed.err + "".join(p.read_text() for p in out.iterdir())

    before = {p.name: p.read_text() for p in out.iterdir()}
    assert adopt.main(["--org", ls.org, "--project", slug, "--stack", "prod", "--dir", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and {p.name: p.read_text() for p in out.iterdir()} == before
    assert adopt.main(["--org", ls.org, "--project", slug, "--stack", "prod", "--dir", str(out), "--force"]) == 0
    assert adopt.main(["--org", ls.org, "--project", slug, "--stack", "bad name!", "--dir", str(tmp_path / "x")]) == 2
    assert "--stack 'bad name!'" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_orphans_lists_what_the_state_does_not_hold(sentry_env: LocalSentry, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ls = sentry_env
    objects = hand_made(ls, tmp_path)
    slug = objects["project"][2]["slug"]
    project = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/").json()
    state = {"deployment": {"resources": [  # a stack that holds the project and its key, nothing else
        {"type": "sentrystacks:index:Project", "id": f"{ls.org}/{project['id']}",
         "outputs": {"slug": slug, "organization": ls.org}},
        {"type": "sentrystacks:index:ClientKey", "id": objects["key"][1], "outputs": {"organization": ls.org}},
    ]}}
    export = tmp_path / "export.json"
    export.write_text(json.dumps(state))
    ls.api("POST", f"/api/0/projects/{ls.org}/{slug}/keys/", json={"name": "prod-g2"})
    assert orphans.main(["--stack", "prod", "--export", str(export)]) == orphans.SOME
    lines = capsys.readouterr().out.strip().splitlines()
    listed = {line.split()[0]: line for line in lines}
    assert {"MetricMonitor", "CronMonitor", "Alert", "InboundFilter", "ClientKey"} <= set(listed)
    assert "named for stack prod" in listed["ClientKey"] and objects["key"][1] not in "".join(lines)
    assert "declared by nothing" in listed["Alert"] and "pulumi import sentrystacks:index:Alert" in listed["Alert"]
    assert not any(line.startswith("Project ") for line in lines)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"deployment": {"resources": []}}))
    assert orphans.main(["--stack", "prod", "--export", str(empty)]) == 2
    assert capsys.readouterr().err.strip() == ("sentry-stacks-orphans: stack 'prod' holds no sentrystacks Project: "
                                               "nothing to compare")
