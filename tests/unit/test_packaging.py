"""The toolkit as an outside project installs it: its wheel carries the templates and the variables contract, has the
`sentry-stacks-rotate-dsn`, `sentry-stacks-verify-alerts` and `sentry-stacks-render-env` commands, and renders a
project that is not this repository (examples/notes) from an installed copy, with nothing read from the checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RENDER = r"""
import json, sys
from pathlib import Path
import yaml
import infra, infra.contract
from infra.render import render_all
from infra.sampling import derive_rates
from infra.settings import load_settings, project_defaults, with_defaults

root = Path(sys.argv[1])
config = with_defaults(yaml.safe_load((root / "Pulumi.prod.yaml").read_text())["config"],
                       project_defaults(root / "Pulumi.yaml", "notes"))
config.update({"sentry:baseUrl": "https://sentry.example.com", "sentry:organization": "acme", "notes:team": "t"})
s = load_settings(config, stack="prod", project="notes", git_release=lambda: "r1", root=root, environ={})
dsns = {"api": "https://a@o1.ingest.example.com/1", "web": "https://b@o1.ingest.example.com/2"}
out = render_all(s, dsns, derive_rates(s.sampling), root)
print(json.dumps({"infra": infra.__file__, "contract": str(infra.contract._PLACES[0]),
                  "contract_found": infra.contract._PLACES[0].is_file(), "envs": out.envs,
                  "frameworks": {x.name: x.framework for x in s.services}}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(out), str(ROOT)], capture_output=True, text=True, timeout=600,
                           check=False)  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    [found] = out.glob("sentry_stacks-*.whl")
    return found


def test_the_wheel_carries_templates_contract_and_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
        contract = json.loads(archive.read("infra/contract.json"))
    assert {"infra/templates/backend.env.j2", "infra/templates/frontend.env.j2", "infra/templates/service.env.j2",
            "infra/templates/docker-compose.yml.j2", "infra/deploy/compose.py", "infra/compose.py"} <= names
    assert contract == json.loads((ROOT / "packages" / "contract.json").read_text())
    assert "sentry-stacks-rotate-dsn = infra.rotate_dsn:cli" in entry_points
    assert "sentry-stacks-verify-alerts = infra.verify_alerts:cli" in entry_points
    assert "sentry-stacks-render-env = infra.render_env:cli" in entry_points


def test_an_installed_toolkit_renders_another_project(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                              str(wheel)], capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    project = tmp_path / "notes"
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py"):
        (project / name).parent.mkdir(exist_ok=True)
        (project / name).write_text((ROOT / "examples" / "notes" / name).read_text())
    done = subprocess.run([sys.executable, "-c", RENDER, str(project)], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["infra"].startswith(str(site)) and result["contract_found"], result["infra"]
    assert result["frameworks"] == {"api": "fastapi", "web": "vite"}
    web, api = result["envs"]["web"], result["envs"]["api"]
    assert web["VITE_SENTRY_DSN"] == "https://b@o1.ingest.example.com/2"
    assert web["VITE_SENTRY_TRACES_SAMPLE_RATE"] == "0.25"
    assert not [k for k in api if k.startswith(("VITE_", "PUBLIC_"))] and api["SENTRY_ENVIRONMENT"] == "production"
