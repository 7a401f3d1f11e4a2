"""The ``sentrystacks`` package schema, generated from the resources' typed declarations (no second description).

Each resource's ``inputProperties`` come from its inputs model, its ``properties`` from its state model (the inputs
and what Sentry computes), the provider's from :class:`~infra.provider.config.ProviderConfig`, the ``checkConnection``
function's inputs from :class:`~infra.provider.config.Preflight`; nested models become
``types``; a field declared secret is ``secret: true`` (DSNs, key secrets, the token). ``GetSchema`` answers it
(``pulumi package get-schema``, YAML programs, code generation), and ``python -m infra.provider.schema`` writes it to
``schema/sentrystacks.schema.json`` (``--check``: exit 1 when that file is out of date; ``make lint`` runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from infra.fields import type_options
from infra.provider.config import Preflight, ProviderConfig
from infra.provider.kinds import KINDS, PACKAGE, token
from infra.provider.resource import CHECK_CONNECTION
from infra.sentry.shape import SentryModel, meta_of

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = Path("schema") / "sentrystacks.schema.json"
ANY = {"$ref": "pulumi.json#/Any"}
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type(tp: Any, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    options = type_options(tp)
    if len(options) != 1:
        return dict(ANY)
    one = options[0]
    origin = get_origin(one)
    if one in _SCALARS:
        return {"type": _SCALARS[one]}
    if origin is Literal:
        values = get_args(one)
        kind = _SCALARS.get(type(values[0]), "string") if values else "string"
        return {"type": kind}
    if origin in (list, tuple):
        return {"type": "array", "items": _type(get_args(one)[0], found)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(get_args(one)[1], found)}
    if isinstance(one, type) and issubclass(one, BaseModel):
        name = token(one.__name__)
        if name not in found:
            found[name] = {}  # recursion guard
            found[name] = {"type": "object", **_object(one, found)}
        return {"$ref": f"#/types/{name}"}
    return dict(ANY)


def _property(info: FieldInfo, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = _type(info.annotation, found)
    if info.description:
        out["description"] = info.description
    if meta_of(info).secret:
        out["secret"] = True
    return out


def _object(model: type[BaseModel], found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    props = {info.alias or name: _property(info, found) for name, info in model.model_fields.items()}
    required = sorted(info.alias or name for name, info in model.model_fields.items() if info.is_required())
    doc = " ".join((model.__doc__ or "").split())
    return {**({"description": doc} if doc else {}), "properties": props, **({"required": required} if required
                                                                              else {})}


def _resource(inputs: type[SentryModel], state: type[SentryModel], description: str,
              found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ins, outs = _object(inputs, found), _object(state, found)
    return {
        "description": description,
        "inputProperties": ins["properties"],
        "requiredInputs": ins.get("required", []),
        "properties": outs["properties"],
        "required": outs.get("required", []),
    }


def schema(version: str) -> dict[str, Any]:
    """The package schema of `version` (the plugin's version)."""
    found: dict[str, dict[str, Any]] = {}
    resources = {kind.token: _resource(kind.inputs, kind.state, kind.description, found) for kind in KINDS.values()}
    provider = _object(ProviderConfig, found)
    check = _object(Preflight, found)
    functions = {CHECK_CONNECTION: {
        "description": "Check the Sentry connection for what a program will do (the organization, the token's "
                       "scopes, the team, the workflow API): one read of the organization, before anything is changed",
        "inputs": {"properties": check["properties"]},
        "outputs": {"properties": {"problem": {
            "type": "string", "description": "The one-line problem (naming the setting to fix); absent when Sentry "
                                             "can take the program's objects"}}},
    }}
    return {
        "name": PACKAGE,
        "version": version,
        "displayName": "Sentry Stacks",
        "description": "Sentry projects, client keys, alerts, monitors, filters, releases and deploys, as managed by "
                       "Sentry Stacks",
        "keywords": ["sentry", "category/monitoring", "kind/native"],
        "config": {"variables": provider["properties"]},
        "provider": {"description": "The sentrystacks provider: where Sentry is and how to reach it",
                     "inputProperties": provider["properties"]},
        "resources": resources,
        "functions": functions,
        "types": {name: found[name] for name in sorted(found)},
        "language": {"python": {"packageName": "pulumi_sentrystacks", "respectSchemaVersion": True,
                                "pyproject": {"enabled": True}}},
    }


def text(version: str = "0.0.0-dev") -> str:
    """The schema as written to the repository (a fixed version: the file does not change with each release)."""
    return json.dumps(schema(version), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write (or --check) schema/sentrystacks.schema.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    path = ROOT / SCHEMA_PATH
    wanted = text()
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != wanted:
            print(f"{path} is out of date: run python -m infra.provider.schema", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(wanted, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["SCHEMA_PATH", "main", "schema", "text"]
