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


def test_dev_preview_says_which_setting_wins_and_who_asked(tmp_path: Path) -> None:
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        stack = AppStack.create(copy_project(tmp_path / "proj", ls), "dev", "privacy-notes")
        stack.run("config", "set", "--path", "sentry-stacks:sendDefaultPii", "true")
        preview = stack.run("preview")
        output = preview.stdout + preview.stderr
        assert "sentry-stacks:sendDefaultPii (true) is deprecated and ignored: sentry-stacks:dataCollection is set " \
               "too and wins" in output
        assert "privacy.scrubIPAddresses = true (strictest of the stacks sharing the project; asked by stack prod; " \
               "this stack asks false)" in output
    finally:
        ls.stop()
