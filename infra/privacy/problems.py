"""Privacy settings that do not validate, as problems naming the config key below ``sentry-stacks:``, the value
and what is allowed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from infra.privacy.model import StackPrivacy


@dataclass(frozen=True)
class PrivacyProblem:
    """One bad privacy setting: the key path below ``sentry-stacks:`` (e.g. ``dataCollection.cookies``)."""

    key: str
    value: Any
    message: str


_TOP = ("dataCollection", "sendDefaultPii", "privacy", "allowPersonalData")


def problems_from(exc: ValidationError) -> list[PrivacyProblem]:
    """A pydantic error as problems naming the config key path (``dataCollection.httpBodies[0]``), the value
    given and what is allowed."""
    out: list[PrivacyProblem] = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        if err["type"] == "personal_data":
            out.extend(PrivacyProblem(k, v, m) for k, v, m in ctx["problems"])
            continue
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"])
        if err["type"] == "bool_parsing":
            msg = "must be a boolean: true or false"
        out.append(PrivacyProblem(path, err.get("input"), msg))
    return out


def load_stack_privacy(raw: Mapping[str, Any], environment: str) -> StackPrivacy:
    """`raw`: the stack's top-level config values by short key (``dataCollection``...). Raises ValidationError."""
    data: dict[str, Any] = {"environment": environment}
    for key in _TOP:
        if raw.get(key) is not None:
            data[key] = raw[key]
    return StackPrivacy.model_validate(data)


__all__ = ["PrivacyProblem", "load_stack_privacy", "problems_from"]
