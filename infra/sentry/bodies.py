"""Sentry's request bodies and answers of a typed model, by each field's declared path.

A field declares the dotted path of the body it is sent under (``config.checkin_margin``, ``dataSources.0.timeWindow``)
and, when it differs, where Sentry's answer holds it (alternatives separated by ``|``): :func:`body_of` builds a
body from a model, :func:`live_of` reads the declared fields back from an answer, each in its compared form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from infra.sentry.shape import SentryModel, fields_of, plain_value


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".")]


def _get(data: Any, path: str) -> tuple[bool, Any]:
    for option in path.split("|"):
        node, found = data, True
        for step in _steps(option):
            if isinstance(step, int) and isinstance(node, Sequence) and not isinstance(node, str) and step < len(node):
                node = node[step]
            elif isinstance(step, str) and isinstance(node, Mapping) and step in node:
                node = node[step]
            else:
                found = False
                break
        if found:
            return True, node
    return False, None


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    steps = _steps(path)
    node: Any = body
    for step, after in pairwise(steps):
        empty: Any = [] if isinstance(after, int) else {}
        if isinstance(step, int):
            while len(node) <= step:
                node.append({} if not isinstance(after, int) else [])
            node = node[step]
        else:
            node = node.setdefault(step, empty)
    last = steps[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def body_of(model: SentryModel, keys: Iterable[str] | None = None, *, skip_none: bool = False) -> dict[str, Any]:
    """The request body of `model`'s fields that Sentry takes (only `keys`, by Pulumi name, when given)."""
    wanted = None if keys is None else set(keys)
    body: dict[str, Any] = {}
    for name, key, _info, meta in fields_of(type(model)):
        if meta.body is None or (wanted is not None and key not in wanted):
            continue
        value = plain_value(getattr(model, name))
        if value is None and skip_none:
            continue
        _put(body, meta.body, value)
    return body


def live_of(cls: type[SentryModel], answer: Mapping[str, Any], *, fill: bool = False) -> dict[str, Any]:
    """The fields of `cls` that Sentry's `answer` holds, by Pulumi name, each in its compared form (`fill`: a field
    the answer leaves out too, as its compared form of null: Sentry's default)."""
    out: dict[str, Any] = {}
    for _name, key, _info, meta in fields_of(cls):
        path = meta.read or meta.body
        if path is None:
            continue
        found, value = _get(answer, path)
        if found or fill:
            out[key] = meta.compare(value)
    return out



__all__ = ["body_of", "live_of"]
