"""Preview-time unknown values as dynamic providers receive them.

During `pulumi preview` an input that depends on a resource not created yet is unknown. Python dynamic
providers get it as a `pulumi.output.Unknown` object (SDK 3.272) or, in older SDKs, as the sentinel string
`pulumi.runtime.rpc.UNKNOWN`; either may sit anywhere inside lists and maps. check() and diff() must accept
them without reporting a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
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


__all__ = ["is_unknown"]
