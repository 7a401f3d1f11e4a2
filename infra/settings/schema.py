"""The editor schema and the README's configuration reference, both generated from the settings model.

``python -m infra.settings.schema`` writes ``schema/stack-config.schema.json`` and the marker-delimited block
of README.md; ``--check`` writes nothing and exits 1 when either differs from what the model generates
(the unit tests run the same comparison).

The schema describes a stack file (``Pulumi.<stack>.yaml``): top-level ``config:`` with namespaced keys
(``sentry-stacks:app``, ``sentry:baseUrl``...). Any value, and any string value inside an object, may be a
Pulumi secret (``{secure: ...}``). Editors with the YAML language server read it from the modeline at the top
of the stack files.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Mapping as MappingABC
from collections.abc import Sequence as SequenceABC
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from infra.settings.model import NS, SENTRY_NS, SentryConfig, StackConfig
from infra.settings.sampling import BudgetSettings, SamplingSettings
from infra.settings.sentry_objects import (
    ActionSettings,
    AlertSettings,
    ConditionSettings,
    GenerationSettings,
    LoaderSettings,
    MonitorConditionSettings,
    MonitorSettings,
    RateLimitSettings,
    ServiceKeysSettings,
)
from infra.settings.services import (
    BuildSettings,
    HealthcheckSettings,
    ServiceSentrySettings,
    ServiceSettingsModel,
    SourceMapsSettings,
)
from infra.vocabulary import SLUG_RE

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = Path("schema") / "stack-config.schema.json"
SCHEMA_ID = "https://sentry-stacks.invalid/schema/stack-config.schema.json"
README_BEGIN = "<!-- BEGIN generated configuration reference (python -m infra.settings.schema) -->"
README_END = "<!-- END generated configuration reference -->"
SECURE = {
    "type": "object",
    "description": "A Pulumi secret (`pulumi config set --secret`), encrypted in the stack file",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}
_SECURE_REF = {"$ref": "#/$defs/Secure"}
_IS_SECURE = {"type": "object", "required": ["secure"]}


def _or_secret(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or a Pulumi secret (if/then/else, so editors report the plain schema's own errors)."""
    return {"if": _IS_SECURE, "then": _SECURE_REF, "else": schema}


def _strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


def _secure_strings(node: Any) -> Any:
    """Every scalar string in the schema may also be a secret: ``{"type": "string", ...}`` -> anyOf."""
    if isinstance(node, dict):
        out = {k: _secure_strings(v) for k, v in node.items()}
        kind = out.get("type")
        if kind == "string" or (isinstance(kind, list) and "string" in kind):
            return _or_secret(out)
        return out
    if isinstance(node, list):
        return [_secure_strings(v) for v in node]
    return node


def _patch(schema: dict[str, Any]) -> dict[str, Any]:
    """A service's schema for serviceOverrides: nothing required, null removes a field."""
    out = copy.deepcopy(schema)
    out.pop("required", None)
    out["properties"] = {k: {"anyOf": [v, {"type": "null"}]} for k, v in out["properties"].items()}
    out["description"] = "Fields that replace the service's (build, healthcheck, labels, sentry and environment"\
        " merge one level deep; null removes a field or variable)"
    return out


def stack_file_schema() -> dict[str, Any]:
    """The JSON Schema of a stack file, from the model."""
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for namespace, model in ((NS, StackConfig), (SENTRY_NS, SentryConfig)):
        schema = model.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        for key, prop in schema["properties"].items():
            properties[f"{namespace}:{key}"] = prop
    defs["ServicePatch"] = _patch(defs["ServiceSettingsModel"])
    properties[f"{NS}:serviceOverrides"] = {
        "type": "object",
        "description": properties[f"{NS}:serviceOverrides"].get("description", ""),
        "additionalProperties": {"$ref": "#/$defs/ServicePatch"},
        "default": {},
    }
    properties = {k: v for k, v in sorted(properties.items())}
    defs = _secure_strings(_strip_titles(defs))
    properties = _secure_strings(_strip_titles(properties))
    properties = {k: (v if v.get("then") == _SECURE_REF else _or_secret(v)) for k, v in properties.items()}
    defs["Secure"] = SECURE
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Sentry Stacks stack file (Pulumi.<stack>.yaml)",
        "description": "Generated from infra/settings (python -m infra.settings.schema); do not edit.",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "description": "Stack settings: sentry-stacks:* (this project) and sentry:* (the Sentry connection)",
                "properties": properties,
                "patternProperties": {f"^(?!{NS}:|{SENTRY_NS}:)[^:]+:.+$": {}},
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "$defs": dict(sorted(defs.items())),
    }


def schema_text() -> str:
    return json.dumps(stack_file_schema(), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- the README reference

#: (heading path, model) in reading order
SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    (f"{NS}:", StackConfig),
    (f"{SENTRY_NS}:", SentryConfig),
    ("sampling", SamplingSettings),
    ("sampling.budget", BudgetSettings),
    ("services.<name>", ServiceSettingsModel),
    ("services.<name>.sentry", ServiceSentrySettings),
    ("services.<name>.sentry.sourceMaps", SourceMapsSettings),
    ("services.<name>.build", BuildSettings),
    ("services.<name>.healthcheck", HealthcheckSettings),
    ("keys.<service>", ServiceKeysSettings),
    ("keys.<service>.generations.<label>", GenerationSettings),
    ("….rateLimit", RateLimitSettings),
    ("….loader", LoaderSettings),
    ("alerts.<name>", AlertSettings),
    ("alerts.<name>.actions[]", ActionSettings),
    ("alerts.<name>.triggers[], filters[]", ConditionSettings),
    ("monitors.<name>", MonitorSettings),
    ("monitors.<name>.conditions[]", MonitorConditionSettings),
)


def _models_in(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """The models a field's type holds: ("", M) for M itself (or in a union), ("map", M) for dict values,
    ("list", M) for list or tuple items."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [("", annotation)]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _models_in(args[0])
    if origin in (dict, MappingABC):
        return [("map", m) for _, m in _models_in(args[-1])] if args else []
    if origin in (list, tuple, SequenceABC):
        return [("list", m) for a in args if a is not Ellipsis for _, m in _models_in(a)]
    if origin in (Union, UnionType):
        return [found for a in args for found in _models_in(a)]
    return []


def sections() -> list[tuple[str, type[BaseModel]]]:
    """Every object of the model with its heading: the SECTIONS in their order, then each nested model they hold
    that has no table yet (``cronMonitors.<name>``, ``releaseTracking``, ``dataCollection``, ``privacy``, ...)."""
    out = list(SECTIONS)
    seen = {model for _, model in out}
    todo = list(out)
    while todo:
        heading, model = todo.pop(0)
        prefix = "" if heading.endswith(":") else f"{heading}."
        for name, info in model.model_fields.items():
            for kind, sub in _models_in(info.annotation):
                if sub in seen:
                    continue
                path = prefix + (info.alias or name)
                child = path + {"": "", "map": ".<name>", "list": "[]"}[kind]
                if sub.__name__ in ("Allow", "Deny"):  # the object forms of every key-value behaviour
                    child = f"{heading.split('.')[0]}: {{{sub.__name__.lower()}: [...]}}"
                seen.add(sub)
                out.append((child, sub))
                todo.append((child, sub))
    return out


def _allowed(prop: dict[str, Any]) -> str:
    """A short text of what a property allows, from its JSON Schema."""
    if "else" in prop:
        return _allowed(prop["else"])
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null" and "$ref" not in o]
    refs = [o["$ref"].rsplit("/", 1)[-1] for o in prop.get("anyOf", [prop]) if "$ref" in o]
    parts: list[str] = []
    for o in options:
        if "enum" in o:
            values = o["enum"]
            parts.append(" \\| ".join(f"`{v}`" for v in values) if len(values) <= 12 else "Sentry's ids")
            continue
        kind = o.get("type")
        if kind in ("integer", "number"):
            low, high = o.get("minimum"), o.get("maximum")
            rng = f" {low} to {high}" if low is not None and high is not None else (
                f" ≥ {low}" if low is not None else "")
            parts.append(f"{'whole number' if kind == 'integer' else 'number'}{rng}")
        elif kind == "string" and o.get("pattern") == SLUG_RE.pattern:
            parts.append("slug" + (f" (≤ {o['maxLength']})" if "maxLength" in o else ""))
        elif kind == "string":
            parts.append("text" + (f" (≤ {o['maxLength']})" if "maxLength" in o else ""))
        elif kind == "boolean":
            parts.append("boolean")
        elif kind == "array":
            parts.append("list")
        elif kind == "object":
            parts.append("map")
        elif isinstance(kind, list):
            parts.append(" or ".join(kind))
    parts += ["object" for _ in refs]
    return " or ".join(dict.fromkeys(parts)) or "any"


def _default(model: type[BaseModel], name: str) -> str:
    info = model.model_fields[name]
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        return "—" if isinstance(value, BaseModel) or not value else f"`{json.dumps(value)}`"
    if info.default is None:
        return "—"
    value = info.default
    if isinstance(value, BaseModel):  # a model's default (e.g. a deny list): as a stack file would write it
        value = value.model_dump(mode="json", exclude_defaults=False)
    return f"`{json.dumps(value, default=str)}`"


def _escape(text: str) -> str:
    """Markdown table text: pipes escaped, ``<x>`` outside code shown literally."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("|", "\\|").replace("<", "&lt;")
    return "`".join(parts)


def reference_markdown() -> str:
    """The configuration reference: one table per object of the model."""
    lines: list[str] = []
    for heading, model in sections():
        schema = model.model_json_schema(by_alias=True, mode="validation")
        props = schema["properties"]
        doc = " ".join((model.__doc__ or "").split()).replace("``", "`")
        lines += [f"**`{heading}`** — {_escape(doc)}", "",
                  "| key | allowed | default | description |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            alias = info.alias or name
            text = _escape(info.description or "")
            lines.append(f"| `{alias}` | {_allowed(props[alias])} | {_default(model, name)} | {text} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def readme_with_reference(readme: str) -> str:
    """README text with the generated block replaced (markers must be present)."""
    start, end = readme.index(README_BEGIN), readme.index(README_END)
    return readme[: start + len(README_BEGIN)] + "\n" + reference_markdown() + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is out of date")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    targets = {
        args.root / SCHEMA_PATH: schema_text(),
        args.root / "README.md": readme_with_reference((args.root / "README.md").read_text(encoding="utf-8")),
    }
    stale = [p for p, text in targets.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path} is out of date: run python -m infra.settings.schema", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(targets[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
