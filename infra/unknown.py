"""Preview-time unknown values as dynamic providers receive them.

During `pulumi preview` an input that depends on a resource not created yet is unknown. Python dynamic
providers get it as a `pulumi.output.Unknown` object (SDK 3.272) or, in older SDKs, as the sentinel string
`pulumi.runtime.rpc.UNKNOWN`; either may sit anywhere inside lists and maps. check() and diff() must accept
them without reporting a problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN


def is_unknown(value: Any) -> bool:
    """True if `value` is, or contains, a preview-time unknown."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


def split_unknown(
    olds: Mapping[str, Any], news: Mapping[str, Any], compared: Iterable[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """For a diff during preview: `news` with every value that is (or contains) an unknown replaced by the old
    value of its key, and the keys among `compared` (default: all) whose new value is unknown.

    A diff then compares the known fields as usual (its normalisers never see an unknown, so they never index or
    iterate one) and counts each unknown field as changed. A key the diff does not compare (a create-time input
    such as a project's numeric id) is not a change when it is unknown: it resolves to the same value at `up`.
    """
    keys = None if compared is None else set(compared)
    known: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in news.items():
        if is_unknown(value):
            if keys is None or key in keys:
                unknown.append(key)
            if key in olds:
                known[key] = olds[key]
            continue
        known[key] = value
    return known, sorted(unknown)


__all__ = ["is_unknown", "split_unknown"]
