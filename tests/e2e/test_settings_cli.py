"""Bad stack settings fail `pulumi preview` through the real CLI, each named with its key and what is allowed,
and nothing is created: no Sentry object, no file, no container."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.stack_support import AppStack, copy_project
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.e2e

BAD = {
    "sentry-stacks:sampling.traces": ("1.5", "sentry-stacks:sampling.traces"),
    "sentry-stacks:driver": ("kubernetes", "allowed: compose, docker"),
    "sentry-stacks:services.backend.sentry.platform": ("cobol", "sentry-stacks:services.backend.sentry.platform"),
    "sentry-stacks:services.frontend.sentry.project": ("Bad Slug!", "sentry-stacks:services.frontend.sentry.project"),
    "sentry-stacks:serviceOverrides.backend.port": ("70000", "sentry-stacks:serviceOverrides.backend.port"),
    # what Sentry's monitor validator refuses (issue 22: these passed preview, and `up` half-created the stack)
    "sentry-stacks:cronMonitors.heartbeat.schedule": ("5-1 * * * *", "minute field '5-1' is not valid"),
    "sentry-stacks:cronMonitors.impossible.schedule": ("0 0 31 2 *", "day-of-month field '31' never matches"),
    "sentry-stacks:cronMonitors.heartbeat.timezone": ("posix/Europe/Berlin", "unknown time zone 'posix/Europe/Berlin'"),
}


def test_each_bad_setting_fails_preview_and_nothing_is_created(tmp_path: Path) -> None:
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        stack = AppStack.create(copy_project(tmp_path / "proj", ls), "dev", "bad-settings")
        stack.extra_env["SENTRY_STACKS_IMAGE_CHECK"] = "off"  # no container is deployed here
        for key, (value, _) in BAD.items():
            stack.run("config", "set", "--path", key, value)
        stack.run("config", "set", "--path", "sentry-stacks:cronMonitors.impossible.service", "backend")
        stack.run("config", "set", "--path", "sentry-stacks:sampling.budget.spansPerMonth", "--", "-5")
        stack.config_set("sentry:baseUrl", ls.url)  # a Sentry without an organization
        preview = stack.run("preview", check=False)
        output = preview.stdout + preview.stderr
        assert preview.returncode != 0
        for key, (_, expected) in BAD.items():
            assert expected in output, f"{key}: {output}"
        assert "spansPerMonth" in output
        assert "sentry:organization" in output
        up = stack.run("up", "--yes", "--skip-preview", check=False)
        assert up.returncode != 0
        projects = ls.api("GET", f"/api/0/organizations/{ls.org}/projects/").json()
        assert projects == [], "nothing may be created in Sentry"
        assert not (stack.workdir / "deploy").exists(), "no file may be written"
        resources = stack.export()["deployment"].get("resources") or []
        assert [r["type"] for r in resources if r["type"] != "pulumi:pulumi:Stack"] == []
    finally:
        ls.stop()


def test_a_huge_value_and_a_plain_text_token_are_named(tmp_path: Path) -> None:
    """Issue 22: a 10 MB value failed with `Argument list too long` naming no key; a token in plain text in the
    stack file was accepted without a word."""
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        stack = AppStack.create(copy_project(tmp_path / "proj", ls), "dev", "big-values")
        stack.extra_env["SENTRY_STACKS_IMAGE_CHECK"] = "off"  # no container is deployed here
        stack.config_set("sentry:token", ls.token)  # plain text
        preview = stack.run("preview")
        output = preview.stdout + preview.stderr
        assert "sentry:token is stored in plain text in Pulumi.dev.yaml" in output, output
        assert "pulumi config set --secret sentry:token" in output and ls.token not in output
        big = stack.workdir / "Pulumi.dev.yaml"
        data = yaml.safe_load(big.read_text())
        data["config"]["sentry-stacks:notes"] = "x" * 10_000_000
        big.write_text(yaml.safe_dump(data, sort_keys=False, width=1 << 30))
        preview = stack.run("preview", check=False)
        output = preview.stdout + preview.stderr
        assert preview.returncode != 0
        assert "sentry-stacks:notes (10,000,000 bytes)" in output and "131,072 bytes" in output, output[-3000:]
        assert "Argument list too long" not in output
    finally:
        ls.stop()
