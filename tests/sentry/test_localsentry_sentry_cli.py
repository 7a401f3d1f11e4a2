"""The real sentry-cli (npm `@sentry/cli`, pinned in `scripts/install-sentry-cli`) against an unmodified localsentry:
`info`, `projects list`, `releases new|list|finalize`, `deploys new`, `send-event` and `monitors run` (upserting a
new monitor with `--schedule`, and checking in to an existing one), each result read back through Sentry's APIs.

The CLI comes from `scripts/install-sentry-cli` (cached per user, `make sentry-cli`); without npm or the registry the
tests skip locally and fail with CI=true.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.localsentry import ROOT, LocalSentry, needed, unique

pytestmark = pytest.mark.sentry


@pytest.fixture(scope="module")
def sentry_cli() -> str:
    proc = subprocess.run([str(ROOT / "scripts" / "install-sentry-cli")], capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    if proc.returncode != 0:
        needed(f"sentry-cli could not be installed (scripts/install-sentry-cli): {proc.stderr.strip()[-400:]}")
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("sentry-cli"))
    yield server
    server.stop()


class Cli:
    def __init__(self, binary: str, ls: LocalSentry, project: dict[str, Any], home: Path) -> None:
        self.binary = binary
        self.env = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(home), "SENTRY_URL": ls.url,
            "SENTRY_AUTH_TOKEN": ls.token, "SENTRY_ORG": ls.org, "SENTRY_PROJECT": str(project["slug"]),
            "SENTRY_DSN": ls.dsn(str(project["slug"])), "SENTRY_DISABLE_UPDATE_CHECK": "1",
        }  # fmt: skip

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)  # fmt: skip
        if ok:
            assert proc.returncode == 0, f"sentry-cli {' '.join(args)}: {proc.returncode}\n{proc.stderr[-1500:]}"
        return proc


@pytest.fixture(scope="module")
def cli(sentry_cli: str, ls: LocalSentry, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    project = ls.create_project(name=unique("cli"), platform="python")
    return Cli(sentry_cli, ls, project, tmp_path_factory.mktemp("cli-home"))


def test_info_and_projects_list(cli: Cli, ls: LocalSentry) -> None:
    info = cli("info").stdout
    assert f"Sentry Server: {ls.url}" in info and f"Default Organization: {ls.org}" in info
    assert "project:releases" in info and ls.token not in info
    listed = cli("projects", "list").stdout
    assert cli.env["SENTRY_PROJECT"] in listed


def test_release_lifecycle_and_deploy(cli: Cli, ls: LocalSentry) -> None:
    project = cli.env["SENTRY_PROJECT"]
    version = unique("shop@1.0")
    assert f"Created release {version}" in cli("releases", "new", version).stdout
    release = ls.get_json(f"/api/0/organizations/{ls.org}/releases/{version}/")
    assert [p["slug"] for p in release["projects"]] == [project] and release["dateReleased"] is None
    assert version in cli("releases", "list").stdout
    assert ls.get_json(f"/api/0/projects/{ls.org}/{project}/releases/")[0]["version"] == version
    cli("releases", "finalize", version)
    assert ls.get_json(f"/api/0/organizations/{ls.org}/releases/{version}/")["dateReleased"] is not None
    cli("deploys", "new", "--release", version, "-e", "production", "-n", "cli deploy")
    deploys = ls.get_json(f"/api/0/organizations/{ls.org}/releases/{version}/deploys/")
    assert [(d["environment"], d["name"]) for d in deploys] == [("production", "cli deploy")]
    assert "production" in [e["name"] for e in ls.get_json(f"/api/0/projects/{ls.org}/{project}/environments/")]


def test_send_event(cli: Cli, ls: LocalSentry) -> None:
    message = unique("cli says hello")
    out = cli("send-event", "-m", message, "--release", "shop@cli", "-E", "staging", "-t", "source:cli").stdout
    event_id = out.split("Event id:")[1].split()[0].replace("-", "")
    event = ls.get_json(f"/api/0/projects/{ls.org}/{cli.env['SENTRY_PROJECT']}/events/{event_id}/")
    tags = {t["key"]: t["value"] for t in event["tags"]}
    assert (event["message"], event["environment"], tags["release"], tags["source"]) == (
        message, "staging", "shop@cli", "cli")  # fmt: skip
    assert [i["title"] for i in ls.get_json(f"/api/0/organizations/{ls.org}/issues/", query=message)] == [message]


def test_monitors_run_upserts_a_monitor_and_checks_in(cli: Cli, ls: LocalSentry) -> None:
    slug = unique("cli-job")
    cli("monitors", "run", "--schedule", "*/5 * * * *", "--check-in-margin", "3", slug, "--", "true")
    monitor = ls.get_json(f"/api/0/organizations/{ls.org}/monitors/{slug}/")
    assert (monitor["config"]["schedule"], monitor["config"]["checkin_margin"]) == ("*/5 * * * *", 3)
    checkins = ls.get_json(f"/api/0/organizations/{ls.org}/monitors/{slug}/checkins/")
    assert [c["status"] for c in checkins] == ["ok"] and checkins[0]["duration"] is not None
    detectors = ls.get_json(f"/api/0/organizations/{ls.org}/detectors/", query="type:monitor_check_in_failure")
    assert slug in [d["dataSources"][0]["queryObj"]["slug"] for d in detectors]


def test_monitors_run_of_an_existing_monitor(cli: Cli, ls: LocalSentry) -> None:
    slug = unique("nightly")
    body = {"project": cli.env["SENTRY_PROJECT"], "name": "Nightly", "slug": slug,
            "config": {"schedule_type": "crontab", "schedule": "0 2 * * *", "checkin_margin": 10}}  # fmt: skip
    assert ls.api("POST", f"/api/0/organizations/{ls.org}/monitors/", json=body).status_code == 201
    cli("monitors", "run", "-e", "staging", slug, "--", "true")
    failed = cli("monitors", "run", "-e", "staging", slug, "--", "false", ok=False)
    assert failed.returncode == 1
    checkins = ls.get_json(f"/api/0/organizations/{ls.org}/monitors/{slug}/checkins/")
    assert [(c["status"], c["environment"]) for c in checkins] == [("error", "staging"), ("ok", "staging")]
    monitor = ls.get_json(f"/api/0/organizations/{ls.org}/monitors/{slug}/")
    assert monitor["config"]["schedule"] == "0 2 * * *"  # a check-in without --schedule changes nothing
    assert [(e["name"], e["status"]) for e in monitor["environments"]] == [("staging", "error")]
