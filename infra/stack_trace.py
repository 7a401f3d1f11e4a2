"""The registration stack traces the program records in the state: the program's own frames only.

Pulumi's Python SDK (3.160+) sends every resource's Python stack with its registration, and the engine keeps it in
the state: from the program's ``__main__.py`` up to the line that declared the resource, and then on through the
language host, the SDK's runner and asyncio. Those last frames are the same for every resource, say nothing about
the program and are about 40% of each Sentry object's entry in the checkpoint (1.2 of 3 KB), which the file backend
serialises twice per step (docs/benchmarks.md, "Growth"). `trim()` keeps the frames up to and including
``__main__.py``: the source position and the program's part of the trace stay as Pulumi shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ENTRY = "/__main__.py"


def program_frames(trace: Any) -> Any:
    """`trace` (a source_pb2.StackTrace, topmost frame first) cut after the program's __main__.py frame; unchanged
    when no frame is the program's entry (a test, or another runner)."""
    frames = list(trace.frames)
    for index, frame in enumerate(frames):
        if frame.HasField("pc") and frame.pc.uri.endswith(_ENTRY):
            if index + 1 == len(frames):
                return trace
            return type(trace)(frames=frames[: index + 1])
    return trace


def trim() -> bool:
    """Install the trimming around the SDK's trace capture (once). False when this SDK has no such capture."""
    from pulumi.runtime import resource

    original: Callable[[], Any] | None = getattr(resource, "_get_stack_trace", None)
    if original is None or getattr(original, "_sentry_stacks_trimmed", False):
        return original is not None

    def trimmed() -> Any:
        return program_frames(original())

    trimmed._sentry_stacks_trimmed = True  # type: ignore[attr-defined]
    trimmed.__wrapped__ = original  # type: ignore[attr-defined]
    resource._get_stack_trace = trimmed
    return True
