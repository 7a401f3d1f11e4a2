"""The JavaScript runtime package's and the reference frontend's own unit tests (`node --test`), run here so `make test`
runs them: packages/js/test (config parsing, the public list per framework, the env file, the bin) and
demo/frontend/test (the page's status line)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.localsentry import ROOT, needed


@pytest.mark.parametrize("folder", ["packages/js", "demo/frontend"])
def test_node_unit_tests_pass(folder: str) -> None:
    node = shutil.which("node")
    if node is None:
        needed("Node.js is needed for the JavaScript unit tests (Debian 13: apt-get install nodejs)")
    result = subprocess.run([str(node), "--test", "test/"], cwd=ROOT / folder, capture_output=True, text=True,
                            timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout
