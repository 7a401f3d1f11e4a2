"""`make demo` ends with the demo login (issue 22, item 9: the form left the password empty and only
demo/README.md had it)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

from infra.render import render_all
from infra.sampling import derive_rates
from tests.unit.settings_support import settings_for

ROOT = Path(__file__).resolve().parents[2]


def _demo_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("demo_script", str(ROOT / "scripts" / "demo"))
    spec = importlib.util.spec_from_loader("demo_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_demo_login_comes_from_the_backend_env_the_stack_renders(tmp_path: Path) -> None:
    settings = settings_for("dev")
    dsns = {svc.name: f"http://k@127.0.0.1:9/{i}" for i, svc in enumerate(settings.sentry_services(), 1)}
    rendered = render_all(settings, dsns, derive_rates(settings.sampling), ROOT)
    env_file = tmp_path / "backend.env"
    env_file.write_text(rendered.files["backend.env"], encoding="utf-8")
    demo = _demo_script()
    assert demo.demo_login({"files": {"backend.env": str(env_file)}}) == ("demo", "demo-password")
    assert demo.demo_login({"files": {}}) is None
