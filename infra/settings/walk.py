"""Walking the stack settings model, for messages: the model (and field) at a config key's path, what pydantic's
own errors should say there, and the config key of a path."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from infra.fields import type_options
from infra.settings.model import NS, StackFile
from infra.settings.problems import Loc, join_loc


def _step(tp: Any, part: str | int) -> tuple[Any, Any] | None:
    """The type (and FieldInfo, for a model field) one step into `tp`."""
    for cand in type_options(tp):
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            for name, info in cand.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation, info
        origin = get_origin(cand)
        if origin is dict and isinstance(part, str):
            return get_args(cand)[1], None
        if origin in (list, tuple) and isinstance(part, int):
            return get_args(cand)[0], None
    return None


def model_at(loc: Loc) -> tuple[type[BaseModel] | None, Any]:
    """The model class at `loc` (None when it is not an object of the model) and the FieldInfo naming it."""
    tp: Any = StackFile
    info: Any = None
    for part in loc:
        step = _step(tp, part)
        if step is None:
            return None, None
        tp, info = step
    models = [c for c in type_options(tp) if isinstance(c, type) and issubclass(c, BaseModel)]
    return (models[0] if models else None), info


def describe(loc: Loc, kind: str) -> str | None:
    """Text for pydantic's own errors: what a missing key is, the keys an object allows."""
    if kind == "missing":
        _, info = model_at(loc)
        return info.description if info is not None else None
    if kind == "range":
        _, info = model_at(loc)
        if info is None:
            return None
        low = next((getattr(m, a) for m in info.metadata for a in ("ge", "gt") if getattr(m, a, None) is not None),
                   None)
        high = next((getattr(m, a) for m in info.metadata for a in ("le", "lt") if getattr(m, a, None) is not None),
                    None)
        return None if low is None and high is None else f"{'' if low is None else low}..{'' if high is None else high}"
    if kind == "extra":
        model, _ = model_at(loc[:-1])
        if model is None:
            return None
        return ", ".join(sorted(f.alias or n for n, f in model.model_fields.items()))
    return None


def key_of(loc: Loc, project: str = NS) -> str:
    """``("sentry-stacks", "services", "backend", "port")`` -> ``sentry-stacks:services.backend.port``."""
    if not loc:
        return project
    ns = project if loc[0] == NS else str(loc[0])
    return f"{ns}:{join_loc(loc[1:])}" if len(loc) > 1 else ns



__all__ = ["describe", "key_of", "model_at"]
