"""The Pulumi SDK's debug messages: sent to the engine only when someone asks to see them.

Pulumi's Python SDK logs four debug messages for every resource the program registers ("Preparing resource",
"Registering resource", "RegisterResource RPC prepared", "resource registration successful"), each a blocking ``Log``
call from the program's event loop to the engine, which drops them unless the CLI runs with ``--debug`` (a display
flag that never reaches the program). At 201 Sentry objects that is 800 round trips per command, on the program's
critical path, for messages nobody sees: about 12 % of the CLI's CPU in a no-op preview and a tenth of a second of the
program's (docs/benchmarks.md, section 3).

:func:`quiet` drops them unless ``SENTRY_STACKS_SDK_DEBUG`` is set (``1``, ``true`` or ``yes``): set it together with
``pulumi ... --debug`` to see them. Info messages, warnings and errors are sent as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

DEBUG_ENV = "SENTRY_STACKS_SDK_DEBUG"
#: the SDK's ``log.debug`` that quiet() replaced (empty until it does)
SDK_DEBUG: list[Callable[..., None]] = []


def wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the SDK's debug messages are asked for (``SENTRY_STACKS_SDK_DEBUG``)."""
    env = os.environ if environ is None else environ
    return env.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes")


def _dropped(*_args: Any, **_kwargs: Any) -> None:
    """The SDK's ``pulumi.log.debug`` when its messages are not wanted."""


def quiet(environ: Mapping[str, str] | None = None) -> bool:
    """Stop sending the SDK's debug messages to the engine (once), unless they are wanted. True when they are
    dropped. The SDK calls ``log.debug`` through its module, so replacing the module's function covers every call."""
    from pulumi import log

    if wanted(environ):
        return False
    current: Callable[..., None] = log.debug
    if current is not _dropped:
        SDK_DEBUG.append(current)  # the SDK's own, for whoever must restore it (a test)
        log.debug = _dropped
    return True


__all__ = ["DEBUG_ENV", "quiet", "wanted"]
