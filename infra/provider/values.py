"""Property values on the wire <-> the plain Python values the providers work with.

The engine sends ``PropertyValue`` maps (numbers as floats, secrets flagged, unknowns as ``Computed``); the providers
in :mod:`infra.sentry` take plain dicts, as Pulumi's dynamic-provider host gave them: secrets unwrapped, numbers as the
engine sent them, a preview's unknown as the SDK's ``UNKNOWN`` sentinel (which :func:`infra.unknown.is_unknown`
knows), and the dynamic providers' ``__provider`` blob of an old state left out. Going back, ints become floats (a
``PropertyValue`` holds no int), None values are left out (as the dynamic host did) and the outputs a resource
declares secret are marked secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

#: the serialized provider every resource of a dynamic provider carried in its inputs and outputs
LEGACY_PROVIDER_KEY = "__provider"


def plain(value: PropertyValue) -> Any:
    """One property value as plain Python (secrets unwrapped, an unknown as the ``UNKNOWN`` sentinel)."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, str | bool | float) or inner is None:
        return inner
    if isinstance(inner, Mapping):
        return {str(k): plain(v) for k, v in inner.items()}
    if isinstance(inner, Iterable):
        return [plain(v) for v in inner]
    return str(inner)  # assets, archives and resource references: never sent to these resources


def plain_map(values: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """A property map as a plain dict, without the dynamic providers' ``__provider``."""
    return {k: plain(v) for k, v in values.items() if k != LEGACY_PROVIDER_KEY}


def secret_keys(values: Mapping[str, PropertyValue]) -> set[str]:
    """The keys whose value is (or holds) a secret."""
    return {k for k, v in values.items() if v.contains_secret()}


def to_value(value: Any, secret: bool = False) -> PropertyValue:
    """Plain Python as a property value (ints as floats, None kept as null inside lists and maps)."""
    if isinstance(value, PropertyValue):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return PropertyValue(value, is_secret=secret)
    if isinstance(value, int):
        return PropertyValue(float(value), is_secret=secret)
    if isinstance(value, Mapping):
        return PropertyValue({str(k): to_value(v) for k, v in value.items()}, is_secret=secret)
    if isinstance(value, list | tuple):
        return PropertyValue([to_value(v) for v in value], is_secret=secret)
    raise TypeError(f"cannot send a {type(value).__name__} as a property value")


def to_map(values: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, PropertyValue]:
    """A plain dict as a property map: None values left out, `secrets` marked secret."""
    hidden = set(secrets)
    return {k: to_value(v, k in hidden) for k, v in values.items() if v is not None and k != LEGACY_PROVIDER_KEY}


__all__ = ["LEGACY_PROVIDER_KEY", "plain", "plain_map", "secret_keys", "to_map", "to_value"]
