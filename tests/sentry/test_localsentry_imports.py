"""localsentry's import structure: no import inside a function, no cycle, layers pointing one way, no pulumi/infra.

Read from the source with `ast` (nothing is imported), so a new circle or a deferred import fails here first.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "localsentry"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports executed at import time (module level, incl. try/if blocks), TYPE_CHECKING blocks excluded."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            continue
        elif isinstance(node, ast.If | ast.Try):
            for block in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, block, []):
                    stack.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
    return found


def _targets(name: str, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The localsentry modules an import statement loads."""
    out: set[str] = set()
    if isinstance(node, ast.Import):
        out = {alias.name for alias in node.names}
    else:
        assert node.level == 0, f"{name}: relative import"
        base = node.module or ""
        out = {base}
        out |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known}
    resolved = set()
    for target in out:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target:
            resolved.add(target)
    return resolved


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, tree in modules.items():
        edges: set[str] = set()
        for node in _top_level_imports(tree):
            edges |= _targets(name, node, known)
        # importing a.b.c runs a/__init__ and a/b/__init__ first
        for target in list(edges):
            parts = target.split(".")
            edges |= {".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in known}
        edges.discard(name)
        graph[name] = edges
    return graph


def test_no_import_inside_a_function_or_class() -> None:
    offenders = []
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        offenders.append(f"{name}:{inner.lineno} in {node.name}()")
    assert offenders == []


def test_localsentry_never_imports_pulumi_or_infra() -> None:
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & {"pulumi", "pulumi_docker", "infra"}, (name, node.lineno)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    assert "localsentry.api.projects" in graph["localsentry.routes"]  # the graph is really read
    assert _cycle(graph) is None


def test_a_cycle_would_be_found() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _route_modules(modules: dict[str, ast.Module]) -> set[str]:
    return {
        name
        for name, tree in modules.items()
        if any(isinstance(n, ast.FunctionDef) and n.name == "register" for n in tree.body)
    }


TOP = {"localsentry.routes", "localsentry.app", "localsentry.server", "localsentry.__main__", "localsentry.contract",
       "localsentry.contract_coverage"}  # fmt: skip
STORAGE = {"localsentry.db", "localsentry.http", "localsentry.vocabulary", "localsentry.pagination"}


def _package(name: str) -> str:
    """The layer a module belongs to: api, ingest, web, models, migrations, storage, top or other."""
    for prefix in ("localsentry.api", "localsentry.ingest", "localsentry.models", "localsentry.migrations"):
        if name == prefix or name.startswith(prefix + "."):
            return prefix.rpartition(".")[2]
    if name == "localsentry.web":
        return "web"
    return "storage" if name in STORAGE else "top" if name in TOP else "other"


def layer_violations(graph: dict[str, set[str]], routes: set[str]) -> list[str]:
    """Imports against routes (api/, ingest/, web) -> models -> storage (db, migrations, http, vocabulary)."""
    found = []
    for name, targets in sorted(graph.items()):
        mine = _package(name)
        for target in sorted(targets):
            theirs = _package(target)
            if {mine, theirs} == {"api", "ingest"}:
                found.append(f"{name} -> {target}: api and ingest never import each other (use localsentry.models)")
            elif mine == "models" and theirs in ("api", "ingest", "web", "top"):
                found.append(f"{name} -> {target}: a model imports a route module")
            elif mine in ("storage", "migrations") and theirs in ("api", "ingest", "web", "top", "models"):
                found.append(f"{name} -> {target}: storage imports a layer above it")
            elif name in routes and target in routes:
                found.append(f"{name} -> {target}: a route module imports another route module")
    return found


def test_layers_point_one_way() -> None:
    """routes (api/, ingest/, web) -> models -> storage: `api` and `ingest` never import each other, a model
    never imports a route module, the router or the app, storage imports no model; route modules share code
    through models only. The leaf modules import nothing of localsentry."""
    modules = _modules()
    graph = _graph()
    routes = _route_modules(modules)
    assert {"localsentry.api.projects", "localsentry.api.events", "localsentry.web",
            "localsentry.ingest.endpoints"} <= routes  # fmt: skip
    assert {"localsentry.models.projects", "localsentry.models.issues", "localsentry.models.monitors"} <= set(modules)
    assert layer_violations(graph, routes) == []
    assert not graph["localsentry.vocabulary"]
    assert graph["localsentry.db"] <= {"localsentry", "localsentry.migrations"}
    assert graph["localsentry.migrations"] <= {"localsentry"}


def test_a_layer_violation_would_be_found() -> None:
    graph = {
        "localsentry.api.issues": {"localsentry.ingest.storage"},
        "localsentry.ingest.storage": {"localsentry.api.issues", "localsentry.models.issues"},
        "localsentry.models.issues": {"localsentry.web"},
        "localsentry.db": {"localsentry.models.projects"},
        "localsentry.api.projects": {"localsentry.api.alerts"},
        "localsentry.api.alerts": set(),
    }
    found = layer_violations(graph, {"localsentry.api.projects", "localsentry.api.alerts"})
    assert len(found) == 5, found
