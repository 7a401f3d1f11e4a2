"""Imports in infra/ point down: program -> components -> provider -> sentry/render/drivers -> settings, fields,
vocabulary, connection. The settings and the leaf modules never import the layers above them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
#: module -> the infra modules it may import (prefixes)
ALLOWED = {
    "vocabulary": (),
    "fields": ("infra.vocabulary",),
    "privacy": ("infra.privacy",),
    "crons": (),
    "connection": ("infra.sentry.errors",),
    "settings": ("infra.settings", "infra.vocabulary", "infra.fields", "infra.connection", "infra.sampling",
                 "infra.rotation", "infra.sentry.errors", "infra.privacy",
                 "infra.crons", "infra.contract"),
    # the Sentry resources take their field types from the leaves, never from the settings model (the plugin
    # process imports no settings), and never from the plugin or the program
    "sentry": ("infra.sentry", "infra.fields", "infra.vocabulary", "infra.connection", "infra.crons", "infra.cli_watch",
               "infra.unknown", "infra.provider_errors", "infra.privacy"),
    "provider": ("infra.provider", "infra.sentry", "infra.fields", "infra.connection", "infra.provider_errors",
                 "infra.unknown"),
    # the drivers: beside rendering, below the components; never the Sentry side
    "deploy": ("infra.deploy", "infra.settings", "infra.render", "infra.provider_errors", "infra.unknown",
               "infra.cli_watch"),
}


def infra_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "infra":  # from infra import provider_errors
            found |= {f"infra.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("infra"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("infra")}
    return found


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_lower_layers_import_nothing_above_them(module: str) -> None:
    paths = sorted((INFRA / module).glob("*.py")) if (INFRA / module).is_dir() else [INFRA / f"{module}.py"]
    assert paths
    for path in paths:
        bad = {m for m in infra_imports(path) if not m.startswith(ALLOWED[module])}
        assert not bad, f"{path.relative_to(INFRA.parent)} imports {sorted(bad)}"


def test_sampling_and_rotation_are_leaves() -> None:
    for name in ("sampling", "rotation"):
        assert infra_imports(INFRA / f"{name}.py") == set()


def test_sentry_models_take_value_sets_from_the_vocabulary() -> None:
    """Value sets and constrained field types come from the vocabulary and infra/fields.py, shared with the settings."""
    for name in ("alert_model", "metric_monitor_model", "project_model"):
        text = (INFRA / "sentry" / f"{name}.py").read_text(encoding="utf-8")
        assert any(f in text for f in ("from infra.vocabulary import", "from infra.fields import",
                                       "from infra import fields")), name
        for constant in ("ACTION_TYPES = (", "PLATFORMS: tuple[str, ...] = (", "DATASETS = (", "LOGIC_TYPES = ("):
            assert constant not in text, f"{name} defines {constant} again"


def _module_graph() -> dict[str, set[str]]:
    """infra module -> the infra modules it imports (anywhere in the file, also inside functions)."""
    modules: dict[str, Path] = {}
    for path in INFRA.rglob("*.py"):
        parts = path.relative_to(INFRA.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in modules:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name in modules}
        graph[name] = found - {name}
    return graph


def test_no_import_circle_in_infra() -> None:
    graph = _module_graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import circle: " + " -> ".join([*path[path.index(name):], name]))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
