"""Problems: one bad setting each, named by the config key the user wrote, with the value and what is allowed.

The model's validators report through pydantic; :func:`problems_from` turns pydantic's errors into
:class:`Problem` lines. A rule that finds several problems at once (a cross-field rule) raises
:func:`fail` with :class:`Issue` items, each with a path relative to the object it validates, so one error
can name exact sub-keys. In an issue's message ``{@a.b}`` stands for the full key of the sub-key ``a.b``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, NoReturn

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from infra.fields import rule_error, suggest

Loc = tuple[str | int, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: the value of a key that is not set
MISSING: Any = _Missing()


@dataclass(frozen=True)
class Problem:
    """One bad setting: the full config key (with a path into objects), the value as shown, and why."""

    key: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} = {self.value}: {self.message}"


class SettingsError(ValueError):
    """The stack config has problems; ``problems`` lists all of them (never secret values)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the stack settings:\n{lines}")


class Issue(NamedTuple):
    """A problem found by a rule: `path` relative to the validated object (or a full key when `absolute`)."""

    path: Loc
    value: Any
    message: str
    absolute: str | None = None


def fail(*issues: Issue) -> NoReturn:
    """Report `issues` from a validator (all of them, as one pydantic error)."""
    raise PydanticCustomError("settings", "{summary}", {"summary": "; ".join(i.message for i in issues),
                                                        "issues": tuple(issues)})


def check(issues: Sequence[Issue]) -> None:
    if issues:
        fail(*issues)


def join_loc(loc: Loc) -> str:
    """``("a", "b", 0, "c")`` -> ``a.b[0].c``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_path(text: str) -> Loc:
    parts: list[str | int] = []
    for piece in re.findall(r"[^.\[\]]+|\[\d+\]", text):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    return tuple(parts)


class Renderer:
    """Turns locations into config keys and values into safe text (secret keys masked, long values cut)."""

    def __init__(self, key_of: Callable[[Loc], str], secret_keys: Iterable[str]) -> None:
        self.key_of = key_of
        self.secret_roots = set(secret_keys)

    def is_secret(self, key: str) -> bool:
        return any(key == r or key.startswith((r + ".", r + "[")) for r in self.secret_roots)

    def show(self, key: str, value: Any) -> str:
        if value is MISSING:
            return "(not set)"
        if self.is_secret(key):
            return "[secret]"
        if isinstance(value, BaseModel):  # a value already turned into a model: as the stack file wrote it
            value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        except (TypeError, ValueError):
            text = str(value)
        return text if len(text) <= 80 else text[:77] + "..."

    def problem(self, loc: Loc, value: Any, message: str) -> Problem:
        key = self.key_of(loc)
        return Problem(key, self.show(key, value), message)


_TYPE_WORDS = {
    "string_type": "a string",
    "bool_type": "a boolean: true or false",
    "bool_parsing": "a boolean: true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
}


def _expand(message: str, loc: Loc, render: Renderer) -> str:
    """``{@a.b}`` in a rule's message -> the full key of ``a.b`` under `loc`."""
    return re.sub(r"\{@([^}]*)\}", lambda m: render.key_of((*loc, *parse_path(m.group(1)))), message)


def problems_from(
    error: ValidationError,
    render: Renderer,
    describe: Callable[[Loc, str], str | None],
) -> list[Problem]:
    """pydantic's errors as Problems, in the order of the keys, an object's unknown keys first.

    `describe(loc, kind)`: text for pydantic's own errors: kind ``missing`` (what the required key is),
    ``extra`` (the allowed keys of the object at `loc`), ``type`` (what the value must be).
    """
    staged: list[tuple[int, int, Problem]] = []
    groups: dict[Loc, int] = {}
    for err in error.errors(include_url=False):
        loc: Loc = tuple(err["loc"])
        kind, ctx = err["type"], err.get("ctx") or {}
        group = groups.setdefault(loc[:-1], len(groups))
        if kind == "settings":
            for issue in ctx["issues"]:
                full = (*loc, *issue.path)
                message = _expand(issue.message, loc, render)
                if issue.absolute is not None:
                    staged.append((group, 1, Problem(issue.absolute, render.show(issue.absolute, issue.value),
                                                     message)))
                else:
                    staged.append((groups.setdefault(full[:-1], len(groups)), 1,
                                   render.problem(full, issue.value, message)))
            continue
        if kind == "missing":
            what = describe(loc, "missing")
            staged.append((group, 1, render.problem(loc, MISSING, f"required: {what}" if what else "required")))
        elif kind == "extra_forbidden":
            allowed = describe(loc, "extra") or ""
            hint = suggest(loc[-1], allowed.split(", ")) if allowed else ""
            staged.append((group, 0, render.problem(loc, err["input"], f"unknown key; {hint}allowed: {allowed}")))
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            what = describe(loc, "type") or "an object (a map of keys to values)"
            staged.append((group, 1, render.problem(loc, err["input"], f"must be {what}")))
        elif kind in ("list_type", "tuple_type"):
            staged.append((group, 1, render.problem(loc, err["input"], "must be a list")))
        elif kind in _TYPE_WORDS:
            staged.append((group, 1, render.problem(loc, err["input"], f"must be {_TYPE_WORDS[kind]}")))
        elif kind == "literal_error":
            staged.append((group, 1, render.problem(loc, err["input"], f"must be one of {ctx.get('expected')}")))
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            bounds = describe(loc, "range") or ", ".join(f"{k} {v}" for k, v in ctx.items())
            staged.append((group, 1, render.problem(loc, err["input"], f"out of range; allowed: {bounds}")))
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            if kind not in ("rule", "value_error", "collect") and not message.startswith(("must ", "allowed")):
                message = f"must be valid: {message}"
            staged.append((group, 1, render.problem(loc, err["input"], message)))
    staged.sort(key=lambda item: (item[0], item[1]))
    return [p for _, _, p in staged]


__all__ = [
    "MISSING",
    "Issue",
    "Loc",
    "Problem",
    "Renderer",
    "SettingsError",
    "check",
    "fail",
    "join_loc",
    "parse_path",
    "problems_from",
    "rule_error",
    "suggest",
]
