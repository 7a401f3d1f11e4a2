"""The ``Output`` attributes the SDK gives a Sentry resource: only the outputs its class declares.

Pulumi's Python SDK makes an ``Output`` of every key of a resource's props when it registers the resource
(``rpc.transfer_properties``): four futures and an asyncio task each, all tracked until the program ends, and the
SDK's ``wait_for_rpcs`` re-arms a callback on every pending one each time one of them completes. For a Sentry object
those are mostly its *inputs* (a project's platform, an alert's triggers and actions...), values the program gave
and never reads back, each kept pending until the engine answers the resource's registration (docs/benchmarks.md,
issue 26: with the alias of infra/components/sentry_resources.py, 4,895 -> 2,681 asyncio tasks in a no-op preview
of 201 objects).

:func:`declared_only` makes the SDK transfer, for a class that says so (``declared_outputs_only``), only the props
named in its ``read_outputs``: the outputs a program reads (``slug``, ``dsn``...). Every prop still reaches the
engine as an input, unchanged (the SDK serialises the props it was given, not the transferred ones), and the outputs
of the other names are still in the state; the SDK's resolver skips names it has no ``Output`` for. Any other
resource is left as the SDK makes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

MARK = "_sentry_stacks_declared_only"


def transferred(res: Any, props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The props the SDK should make ``Output`` attributes of for `res`: all of them, unless its class asks for its
    declared outputs only."""
    cls = type(res)
    if not getattr(cls, "declared_outputs_only", False):
        return props
    declared = frozenset(getattr(cls, "read_outputs", ()))
    return {key: props[key] for key in props if key in declared}


def declared_only() -> bool:
    """Install the filter around the SDK's ``transfer_properties`` (once). False when this SDK has none (the
    resources then keep an ``Output`` per prop, as before)."""
    from pulumi.runtime import rpc

    original: Callable[..., Any] | None = getattr(rpc, "transfer_properties", None)
    if original is None:
        return False
    if getattr(original, MARK, False):
        return True

    def transfer_properties(res: Any, props: Any, custom: bool) -> Any:
        return original(res, transferred(res, props), custom)

    setattr(transfer_properties, MARK, True)
    transfer_properties.__wrapped__ = original  # type: ignore[attr-defined]
    rpc.transfer_properties = transfer_properties
    return True


__all__ = ["declared_only", "transferred"]
