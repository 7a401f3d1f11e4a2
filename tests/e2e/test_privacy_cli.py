"""Privacy settings through the real CLI: the production guardrail fails `pulumi preview` naming the key, before
anything is created; the deprecated sendDefaultPii alias and the shared project's strictest settings are said in
the preview."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.stack_support import AppStack, copy_project
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.e2e


def test_prod_collecting_user_info_fails_preview_naming_the_key(tmp_path: Path) -> None:
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        stack = AppStack.create(copy_project(tmp_path / "proj", ls), "prod", "privacy-guard")
        stack.extra_env["SENTRY_STACKS_IMAGE_CHECK"] = "off"  # no container is deployed here
        stack.run("config", "set", "--path", "sentry-stacks:dataCollection.userInfo", "true")
        preview = stack.run("preview", check=False)
        output = preview.stdout + preview.stderr
        assert preview.returncode != 0
        assert "sentry-stacks:dataCollection.userInfo = true: stack environment 'production' is production" in output
        assert "sentry-stacks:allowPersonalData: true" in output
        assert ls.api("GET", f"/api/0/organizations/{ls.org}/projects/").json() == []
        # saying so lets it through
        stack.run("config", "set", "--path", "sentry-stacks:allowPersonalData", "true")
        assert stack.run("preview", check=False).returncode == 0
    finally:
        ls.stop()


def _up(stack: AppStack) -> str:
    """`up` of the Sentry objects and files (the containers are left out: this is about Sentry's settings)."""
    done = stack.run("up", "--yes", "--skip-preview", "--exclude", f"**{stack.stack}-deploy**", "--exclude-dependents")
    return done.stdout + done.stderr


def _scrubbing(ls: LocalSentry) -> dict[str, tuple[bool, bool, bool]]:
    out = {}
    for slug in ("sentry-stacks-demo-backend", "sentry-stacks-demo-frontend"):
        p = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/").json()
        out[slug] = (p["dataScrubber"], p["dataScrubberDefaults"], p["scrubIPAddresses"])
    return out


STRICT = {"sentry-stacks-demo-backend": (True, True, True), "sentry-stacks-demo-frontend": (True, True, True)}


def test_no_dev_up_lowers_what_prod_applied_whatever_prod_s_file_says(tmp_path: Path) -> None:
    """Issue 22: with a typo in Pulumi.prod.yaml, or without that file, `up -s dev` turned prod's scrubbing off on
    the shared projects. Now what prod applied stays, whether prod's file is invalid, absent or edited, and dev is
    told where it meets it; only prod itself can withdraw it."""
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        work = copy_project(tmp_path / "proj", ls)
        prod_file = work / "Pulumi.prod.yaml"
        prod = AppStack.create(work, "prod", "privacy-floor")
        prod.extra_env["SENTRY_STACKS_IMAGE_CHECK"] = "off"  # no container is deployed here
        original = prod_file.read_text(encoding="utf-8")  # with the test's own ports and release
        _up(prod)
        assert _scrubbing(ls) == STRICT
        dev = AppStack.create(work, "dev", "privacy-floor")
        dev.extra_env["SENTRY_STACKS_IMAGE_CHECK"] = "off"  # no container is deployed here
        output = _up(dev)
        assert _scrubbing(ls) == STRICT
        assert "privacy.scrubIPAddresses stays true in Sentry: set there by stack prod" in output, output
        env = (work / "deploy" / "dev" / "backend.env").read_text(encoding="utf-8")
        assert "IP addresses removed (kept in Sentry for the shared project, asked by stack prod" in env, env

        cases = {
            "invalid": original.replace("scrubIPAddresses: true", "scrubIPAdresses: true"),
            "absent": None,
            "edited": original.replace("dataScrubber: true", "dataScrubber: false")
                              .replace("scrubIPAddresses: true", "scrubIPAddresses: false"),
        }
        for n, (case, text) in enumerate(cases.items()):
            if text is None:
                prod_file.unlink()
            else:
                prod_file.write_text(text, encoding="utf-8")
            # dev changes its own privacy asks, so its projects are updated and the floor decides
            dev.run("config", "set", "--path", "sentry-stacks:privacy.sensitiveFields[0]", f"field{n}")
            output = _up(dev)
            assert _scrubbing(ls) == STRICT, case
            assert "Traceback" not in output
            if case == "invalid":
                assert "Pulumi.prod.yaml: sentry-stacks:privacy.scrubIPAdresses = true: unknown key" in output, output
            assert "stays true in Sentry" in output, (case, output)

        # the stack that asked withdraws it: prod itself lowers it (dev's file, present and valid, asks false)
        prod_file.write_text(cases["edited"] or "", encoding="utf-8")
        _up(prod)
        assert _scrubbing(ls)["sentry-stacks-demo-backend"] == (False, True, False)
    finally:
        ls.stop()


def test_dev_alone_takes_nothing_from_a_prod_stack_that_does_not_exist(tmp_path: Path) -> None:
    """Issue 22, item 9: the dev stack printed "privacy … asked by stack prod" lines and scrubbed IP addresses
    although no prod stack existed."""
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        dev = AppStack.create(copy_project(tmp_path / "proj", ls), "dev", "privacy-alone")
        dev.extra_env["SENTRY_STACKS_IMAGE_CHECK"] = "off"  # no container is deployed here
        preview = dev.run("preview")
        output = _up(dev) + preview.stdout + preview.stderr
        assert "stack prod" not in output, output
        assert _scrubbing(ls)["sentry-stacks-demo-backend"][2] is False  # dev collects IP addresses
    finally:
        ls.stop()


def test_dev_preview_warns_about_the_deprecated_alias(tmp_path: Path) -> None:
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        stack = AppStack.create(copy_project(tmp_path / "proj", ls), "dev", "privacy-notes")
        stack.extra_env["SENTRY_STACKS_IMAGE_CHECK"] = "off"  # no container is deployed here
        stack.run("config", "set", "--path", "sentry-stacks:sendDefaultPii", "true")
        preview = stack.run("preview")
        output = preview.stdout + preview.stderr
        assert "sentry-stacks:sendDefaultPii (true) is deprecated and ignored: sentry-stacks:dataCollection is set " \
               "too and wins" in output
    finally:
        ls.stop()
