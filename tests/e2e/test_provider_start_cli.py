"""The engine starts the sentrystacks plugin while the toolkit's program is still loading (issue 26's preview floor).

The engine starts a provider's plugin only when the program registers the provider, and Pulumi's Python SDK sends a
registration only when the program lets its event loop run. The toolkit's program used to register its provider
after it had imported the toolkit and loaded its settings, so the plugin's own start (Python, Pulumi's SDK, the Sentry
models) came after all of that, with every Sentry object waiting. Importing ``infra.program`` in a program now
registers the provider and lets the registration go out (infra/provider/resource.py): here a program imports it and
then, before it does anything else, looks for the plugin among the CLI's children. With the old order the plugin
never starts while the program waits, and the program says so.

It does so in a preview, which changes nothing; an ``up`` registers the provider once the program's settings are known
to be valid (tests/e2e/test_settings_cli.py: wrong settings leave nothing in the state). The same stack then goes
through a real ``up`` and a ``preview``: one provider, registered once, and no change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pulumi_support import project_on_localsentry, require_langhost, require_pulumi
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.e2e

PROGRAM = '''
import os
import time
from pathlib import Path

import pulumi

import infra.program  # noqa: F401  (registers the stack's provider)
from infra.provider import resource as provider_resource


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def plugin_running(cli: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            plugin = b"pulumi-resource-sentrystacks" in (entry / "cmdline").read_bytes()
            if plugin and parent_of(int(entry.name)) == cli:
                return True
        except (OSError, ValueError, IndexError):
            continue
    return False


cli = parent_of(os.getppid())  # the program's parent is the language host, whose parent is the CLI
# a bound, not a measure: the plugin is up in about a second (an update does not start it here: no wait)
deadline = time.monotonic() + (60 if pulumi.runtime.is_dry_run() else 0)
found = plugin_running(cli)
while not found and time.monotonic() < deadline:
    time.sleep(0.1)
    found = plugin_running(cli)
Path("plugin-started-while-loading").write_text(f"{found} {pulumi.runtime.is_dry_run()}")
provider_resource.stack_provider(pulumi.get_project())  # as the program's sentry_provider: the same one, or now
'''


def test_the_plugin_starts_while_the_program_is_still_loading(tmp_path: Path) -> None:
    require_pulumi()
    require_langhost()
    ls = LocalSentry.start(tmp_path / "ls")
    try:
        workdir = tmp_path / "proj"
        proj = project_on_localsentry(workdir, "provider-start", PROGRAM, ls)
        said = workdir / "plugin-started-while-loading"
        proj.run("preview")
        assert said.read_text() == "True True"  # a preview: the plugin ran while the program had not loaded yet
        proj.up()  # an update registers the provider once the settings are valid (here: none), not at the import
        assert said.read_text() == "False False"
        resources = proj.export()["deployment"]["resources"]
        [provider] = [r for r in resources if r["type"] == "pulumi:providers:sentrystacks"]
        assert provider["inputs"]["namespace"] == "provider-start"  # its messages name this project's sentry:* keys
        proj.run("preview", "--expect-no-changes")
    finally:
        ls.stop()
