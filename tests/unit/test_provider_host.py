"""The repository's dynamic-provider host serves more than four calls at once (Pulumi's own host: four).

The host process is started as the CLI starts it, and sent real gRPC Check calls carrying a serialized
provider (as every `pulumi.dynamic` resource does); each call holds its worker for a while and returns when it
started and ended, and the overlap of those intervals is how many the host served side by side.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.dynamic import CheckResult, ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "scripts" / "langhost" / "pulumi-resource-pulumi-python"
HOLD_SECONDS = 1.0


class SlowCheck(ResourceProvider):
    """Its check holds the worker for HOLD_SECONDS and returns the interval it ran in."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        started = time.time()
        time.sleep(HOLD_SECONDS)
        return CheckResult({"n": news.get("n"), "started": started, "ended": time.time()}, [])


def _struct(props: dict[str, Any]) -> Any:
    return asyncio.run(rpc.serialize_properties(props, {}))


def _start_host(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.isdigit():
        proc.kill()
        raise AssertionError(f"no port on stdout: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, int(line)


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    depth = best = 0
    for _, step in edges:
        depth += step
        best = max(best, depth)
    return best


def _served_side_by_side(calls: int, workers: str | None, argv: list[str] | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(ROOT), str(Path(__file__).parent)))}
    env.pop("SENTRY_STACKS_PROVIDER_WORKERS", None)
    if workers is not None:
        env["SENTRY_STACKS_PROVIDER_WORKERS"] = workers
    proc, port = _start_host(argv or [sys.executable, str(HOST)], env)
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        provider = serialize_provider(SlowCheck())
        results: list[tuple[float, float]] = []
        lock = threading.Lock()

        def call(n: int) -> None:
            news = _struct({"__provider": provider, "n": n})
            reply = stub.Check(provider_pb2.CheckRequest(urn=f"urn:pulumi:t::p::x::r{n}", olds=_struct({}),
                                                          news=news), timeout=60)  # fmt: skip
            out = rpc.deserialize_properties(reply.inputs)
            with lock:
                results.append((float(out["started"]), float(out["ended"])))

        with futures.ThreadPoolExecutor(calls) as pool:
            list(pool.map(call, range(calls)))
        channel.close()
        assert len(results) == calls
        return _max_overlap(results)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_the_host_serves_more_than_four_calls_at_once() -> None:
    assert _served_side_by_side(12, None) == 12  # default 24 workers: all twelve at once


def test_pulumis_own_host_serves_four() -> None:
    """What the repository's host is measured against: the SDK's `python -u -m pulumi.dynamic`."""
    assert _served_side_by_side(8, None, [sys.executable, "-u", "-m", "pulumi.dynamic"]) == 4


def test_the_worker_count_comes_from_the_environment() -> None:
    assert _served_side_by_side(10, "6") == 6


@pytest.mark.parametrize("value", ["3", "zero", "1000"])
def test_a_bad_worker_count_is_refused_with_its_name(value: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SENTRY_STACKS_PROVIDER_WORKERS": value}
    proc = subprocess.run([sys.executable, str(HOST)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode != 0
    assert "SENTRY_STACKS_PROVIDER_WORKERS must be an integer from 4 to 256" in proc.stderr
    assert value in proc.stderr
