"""scripts/install-pulumi: two runs at once build the CLI once and both end with a working link (issue 22, item 9:
the script had no lock and raced), and a Go that is too old is named with where to get one.

The script runs for real in a copy of the repository's scripts folder, with its cache in a temporary folder and a
small stand-in for `go` (a shell script that answers `go env`, `go get`, `go list` and writes a fake `pulumi`
binary after a pause, counting its builds): building the real CLI takes minutes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_GO = r"""#!/usr/bin/env bash
set -e
case "$1" in
  env) [ "$2" = GOVERSION ] && echo "go1.$FAKE_GO_MINOR.0" || echo "$FAKE_GO_DIR/$2" ;;
  version) echo "go version go1.$FAKE_GO_MINOR.0 linux/amd64" ;;
  get) ;;
  list) echo "$FAKE_GO_DIR/sdk" ;;
  build)
    while [ "$1" != "-o" ]; do shift; done
    echo build >> "$FAKE_GO_DIR/builds"
    sleep 2
    printf '#!/bin/sh\necho v3.274.1\n' > "$2"; chmod +x "$2" ;;
esac
"""


def _setup(tmp_path: Path, minor: int) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    (repo / "scripts" / "langhost").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "install-pulumi", repo / "scripts" / "install-pulumi")
    for name in ("pulumi-language-python", "pulumi-resource-pulumi-python"):
        shutil.copy2(ROOT / "scripts" / "langhost" / name, repo / "scripts" / "langhost" / name)
    fake = tmp_path / "go"
    bindir = fake / "bin"
    bindir.mkdir(parents=True)
    (bindir / "go").write_text(FAKE_GO)
    (bindir / "go").chmod(0o755)
    for part in ("python/cmd/pulumi-language-python-exec", "python/dist/pulumi-resource-pulumi-python"):
        target = fake / "sdk" / part
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("#!/bin/sh\n")
        target.chmod(target.stat().st_mode | stat.S_IXUSR)
    env = {
        "PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "SENTRY_STACKS_CACHE": str(tmp_path / "cache"),
        "SENTRY_STACKS_BUILD_PULUMI": "1", "VENV_PY": sys.executable, "FAKE_GO_DIR": str(fake),
        "FAKE_GO_MINOR": str(minor),
    }
    return repo, env


def test_two_runs_at_once_build_once_and_both_link(tmp_path: Path) -> None:
    repo, env = _setup(tmp_path, 26)
    script = str(repo / "scripts" / "install-pulumi")
    runs = [subprocess.Popen([script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in runs]  # type: ignore[union-attr]
    assert [code for code, _, _ in results] == [0, 0], results
    assert (tmp_path / "go" / "builds").read_text().splitlines() == ["build"], "the second run must wait, not rebuild"
    assert any("another install-pulumi is running" in err for _, _, err in results), results
    tool = repo / "tools" / "bin" / "pulumi"
    assert subprocess.run([str(tool), "version"], capture_output=True, text=True).stdout.strip() == "v3.274.1"


def test_a_go_too_old_is_named_with_where_to_get_one(tmp_path: Path) -> None:
    repo, env = _setup(tmp_path, 19)  # Debian bookworm's golang-go
    done = subprocess.run([str(repo / "scripts" / "install-pulumi")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "go1.19.0 linux/amd64 is too old to build the Pulumi CLI: install Go >= 1.26 from https://go.dev/dl" \
        in done.stderr, done.stderr
    assert "Debian's golang-go package is too old" in done.stderr
    assert not os.path.exists(tmp_path / "go" / "builds")
