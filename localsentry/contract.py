"""Checking localsentry against Sentry's published OpenAPI schema (used by the contract tests and
`python -m localsentry.contract_coverage`; needs the dev dependency `jsonschema`).

The schema files live in `../shared/sentry-api/` beside the repository (or `$SENTRY_API_SCHEMA_DIR`):
`openapi-derefed.json` (current) and `openapi-derefed-59279fd4-with-alert-rules.json` (the last one with the
legacy alert endpoints). OpenAPI 3.0 `nullable` is turned into JSON Schema before validation.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from localsentry.routes import build_router

CURRENT = "openapi-derefed.json"
LEGACY = "openapi-derefed-59279fd4-with-alert-rules.json"
METHODS = ("get", "post", "put", "delete", "patch")
LEGACY_PATH = re.compile(r"/rules/|/alert-rules/")


class ContractError(AssertionError):
    pass


def schema_dir() -> Path | None:
    env = os.environ.get("SENTRY_API_SCHEMA_DIR")
    candidates = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[1]
    candidates += [root.parent / "shared" / "sentry-api", root / "shared" / "sentry-api"]
    for candidate in candidates:
        if (candidate / CURRENT).is_file():
            return candidate
    return None


@cache
def load(name: str = CURRENT) -> dict[str, Any]:
    folder = schema_dir()
    if folder is None:
        raise FileNotFoundError("Sentry's OpenAPI schema not found (set SENTRY_API_SCHEMA_DIR)")
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data


def schema_for(path: str) -> str:
    return LEGACY if LEGACY_PATH.search(path) else CURRENT


def operations(name: str = CURRENT) -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation in a schema file."""
    return [(m.upper(), p) for p, item in load(name)["paths"].items() for m in item if m in METHODS]


def operation(method: str, template: str) -> dict[str, Any]:
    doc = load(schema_for(template))
    item = doc["paths"].get(template)
    if item is None or method.lower() not in item:
        raise ContractError(f"{method} {template} is not in {schema_for(template)}")
    op: dict[str, Any] = item[method.lower()]
    return op


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema draft 4: `nullable` becomes an explicit null alternative."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k not in ("nullable", "example", "examples", "format")}
    if node.get("nullable"):
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return {"anyOf": [out, {"type": "null"}]}
    return out


def response_schema(method: str, template: str, status: int) -> dict[str, Any] | None:
    """The JSON schema documented for a status, None when the status has no body; raises if undocumented."""
    op = operation(method, template)
    response = op["responses"].get(str(status))
    if response is None:
        documented = ", ".join(sorted(op["responses"]))
        raise ContractError(f"{method} {template}: status {status} not documented (documented: {documented})")
    content = response.get("content") or {}
    body = content.get("application/json") or next(iter(content.values()), None)
    if not body or "schema" not in body:
        return None
    converted: dict[str, Any] = to_json_schema(body["schema"])
    return converted


def validate(method: str, template: str, status: int, body: Any, as_status: int | None = None) -> None:
    """Check that `status` is documented and `body` matches its schema (or that of `as_status`)."""
    if as_status is None:
        schema = response_schema(method, template, status)
    else:
        schema = response_schema(method, template, as_status)
    if schema is None:
        return
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}" for e in errors[:10]]
        raise ContractError(f"{method} {template} {status}: body does not match the schema:\n" + "\n".join(lines))


def scopes(method: str, template: str) -> set[str]:
    op = operation(method, template)
    return {s for entry in op.get("security", []) for s in entry.get("auth_token", [])}


def implemented() -> list[tuple[str, str]]:
    """Schema operations (current and legacy files) that localsentry serves at the same path template."""
    routes = {(r.method, r.template) for r in build_router().routes if r.kind == "api"}
    ops = set(operations(CURRENT)) | {op for op in operations(LEGACY) if LEGACY_PATH.search(op[1])}
    return sorted(ops & routes, key=lambda op: (op[1], op[0]))


def all_operations() -> list[tuple[str, str]]:
    ops = set(operations(CURRENT)) | {op for op in operations(LEGACY) if LEGACY_PATH.search(op[1])}
    return sorted(ops, key=lambda op: (op[1], op[0]))
