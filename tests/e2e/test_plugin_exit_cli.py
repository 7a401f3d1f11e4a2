"""The sentrystacks provider plugin ends cleanly at the end of a real `pulumi up` and `pulumi preview`.

The engine ends a plugin with SIGINT once a command is done. The plugin used to let that KeyboardInterrupt close
its event loop with the gRPC server still running, whose ``__del__`` then failed: "Exception ignored in:
<function Server.__del__>", a traceback ending in "RuntimeError: Event loop is closed" on the plugin's stderr,
which the engine copies into its verbose log. Here a one-service stack (a project, its key and an alert) goes up
and previews against a real localsentry with ``--logflow --logtostderr -v=9``: the log shows the engine ending the
plugin and no traceback, and the create journal is complete (every create that began is done).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.pulumi_support import project_on_localsentry, require_langhost, require_pulumi
from tests.support.localsentry import LocalSentry
from tests.support.sentry_program import PROGRAM

pytestmark = pytest.mark.e2e

VERBOSE = ("--logflow", "--logtostderr", "-v=9")
BROKEN = re.compile(r"Traceback \(most recent call last\)|Event loop is closed|Exception ignored in|never awaited")


def _clean_exit(log: str, command: str) -> None:
    assert re.search(r"killing plugin \S*pulumi-resource-sentrystacks", log), f"{command}: the plugin was not ended"
    found = [line[:300] for line in log.splitlines() if BROKEN.search(line)]
    assert not found, f"{command}: the verbose log holds a traceback:\n" + "\n".join(found[:20])


def test_the_plugin_exits_without_a_traceback(tmp_path: Path) -> None:
    require_pulumi()
    require_langhost()
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        workdir = tmp_path / "proj"
        proj = project_on_localsentry(workdir, "plugin-exit", PROGRAM, ls, app="shop", services="1", extras="false",
                                      environment="development", team=ls.team)

        up = proj.up(*VERBOSE)
        _clean_exit(up.stderr, "up")
        assert len(ls.keys("shop-svc0")) == 1
        events = [json.loads(line) for line in (workdir / ".sentry-stacks" / "pending-creates.jsonl").read_text()
                  .splitlines()]
        began = {e["begin"] for e in events if "begin" in e}
        assert began and began <= {e["done"] for e in events if "done" in e}, events  # nothing left pending

        preview = proj.run("preview", "--expect-no-changes", *VERBOSE)
        _clean_exit(preview.stderr, "preview")
    finally:
        ls.stop()
