"""infra/stack_trace.py: the registration traces keep the program's frames, up to its __main__.py."""

from __future__ import annotations

from pulumi.runtime.proto import source_pb2

from infra.stack_trace import program_frames, trim


def _trace(*uris: str) -> source_pb2.StackTrace:
    frames = [source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=u, line=n + 1)) if u else source_pb2.StackFrame()
              for n, u in enumerate(uris)]  # fmt: skip
    return source_pb2.StackTrace(frames=frames)


def test_frames_after_the_programs_entry_are_dropped() -> None:
    trace = _trace("file:///app/infra/components/sentry_app.py", "file:///app/__main__.py", "",
                   "file:///app/tools/bin/pulumi-language-python-exec",
                   "file:///usr/lib/python3.11/asyncio/base_events.py")  # fmt: skip
    kept = program_frames(trace)
    assert [f.pc.uri for f in kept.frames] == ["file:///app/infra/components/sentry_app.py", "file:///app/__main__.py"]
    assert kept.frames[1].pc.line == 2, "positions are kept as they were"


def test_a_trace_without_the_programs_entry_is_kept_whole() -> None:
    trace = _trace("file:///tests/test_x.py", "file:///usr/lib/python3.11/asyncio/base_events.py")
    assert program_frames(trace) == trace
    ends_at_entry = _trace("file:///app/x.py", "file:///app/__main__.py")
    assert program_frames(ends_at_entry) == ends_at_entry


def test_trim_wraps_the_sdks_capture_once() -> None:
    from pulumi.runtime import resource

    original = resource._get_stack_trace
    resource._get_stack_trace = getattr(original, "__wrapped__", original)  # another test's program may have trimmed
    try:
        assert trim()
        wrapped = resource._get_stack_trace
        assert wrapped.__wrapped__ is getattr(original, "__wrapped__", original)
        assert getattr(wrapped, "_sentry_stacks_trimmed", False)
        assert trim() and resource._get_stack_trace is wrapped, "a second call does not wrap twice"
        assert isinstance(wrapped(), source_pb2.StackTrace)
    finally:
        resource._get_stack_trace = original
