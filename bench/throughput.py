"""Benchmark (not a test): throughput under Sentry's rate limits, create then destroy >= 200 objects.

    venv/bin/python bench/throughput.py [--services 40] [--parallel 8,64] [--baseline REF|none] [--quick]

localsentry enforces Sentry's limits (40 requests per second per token in a fixed 1 s window, 25 concurrent
requests; 429 beyond them). For each `--parallel` level a fresh stack of N services in "per-environment" project
mode (5N+1 objects; N=40 gives 201, and `destroy` really deletes all of them: projects, keys, monitors, the
alert, and resets the filters) runs `pulumi up` and then `pulumi destroy` at that parallelism through the real
CLI, once with the baseline's code (`--baseline`, default: where this branch left main, from a `git worktree`)
and once with this checkout's, in the same process against the same localsentry.

Also measured: the client's pacer alone (400 GETs from 16 threads, no Pulumi), and a run against a 60-second
window (`--window-rate` requests per 60 s, 429 bodies as current Sentry's JSON object).

Printed per phase: wall time, API requests answered, achieved requests per second over the busy window (first
to last request, sampled every 0.2 s) divided by the limit, 429 answers seen, failed resource operations
(must be 0) and objects left in localsentry after destroy (must be 0). Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    BASELINE_DEFAULT,
    ROOT,
    LocalSentry,
    Run,
    Stack,
    baseline_checkout,
    describe_ref,
    emit,
    head_ref,
    objects_for,
    sentry_objects,
    unique,
)

RATE, CONCURRENT = 40, 25


class Sampler:
    """Samples localsentry's API request count every `interval` s; yields the busy window."""

    def __init__(self, ls: LocalSentry, interval: float = 0.2) -> None:
        self.ls, self.interval = ls, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _count(self) -> int:
        stats = self.ls.stats()
        return sum(int(c) for route, c in stats["by_route"].items() if route.split(" ")[1].startswith("/api/0/"))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self._count()))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter(), self._count()))

    def window(self) -> float:
        """Seconds from the sample before the first request to the first sample showing the last one."""
        first = next((i for i, (_t, n) in enumerate(self.samples) if n > 0), None)
        if first is None:
            return 0.0
        final = self.samples[-1][1]
        last = next(i for i, (_t, n) in enumerate(self.samples) if n == final)
        start = self.samples[max(first - 1, 0)][0]
        return max(self.samples[last][0] - start, self.interval)


def failed_operations(run: Run) -> int:
    """Resource operations the CLI reports as failed (`N errored` in its summary, else `**... failed**`)."""
    match = re.search(r"^\s+(\d+) errored", run.stdout, re.MULTILINE)
    if match:
        return int(match.group(1))
    failed = len(re.findall(r"^\s*[-+~ ]*\s*pulumi-python:dynamic/\S+ \S+ \*\*\w+ failed\*\*", run.stdout, re.M))
    return failed or (0 if run.ok else 1)


def changed(run: Run, verb: str) -> int:
    match = re.search(rf"^\s+[-+~]\s+(\d+) {verb}", run.stdout, re.MULTILINE)
    return int(match.group(1)) if match else 0


def phase(ls: LocalSentry, stack: Stack, op: str, parallel: int) -> dict[str, Any]:
    time.sleep(1.1)  # start in a fresh rate-limit window
    ls.reset_stats()
    with Sampler(ls) as sampler:
        run = stack.up("--parallel", str(parallel)) if op == "up" else stack.destroy("--parallel", str(parallel))
    stats = ls.stats()
    api = {r: int(c) for r, c in stats["by_route_status"].items() if r.split(" ")[1].startswith("/api/0/")}
    throttled = sum(c for r, c in api.items() if r.endswith(" 429"))
    answered = sum(api.values()) - throttled
    window = sampler.window()
    rate = answered / window if window else 0.0
    result = {
        "op": op, "parallel": parallel, "ok": run.ok, "seconds": round(run.seconds, 1),
        "busy_seconds": round(window, 1), "requests": answered, "throttled_429": throttled,
        "requests_per_second": round(rate, 1), "ratio_to_limit": round(rate / RATE, 2),
        "wall_requests_per_second": round(answered / run.seconds, 1),
        # the CLI also counts the stack and the SentryApp component: Sentry objects are 2 fewer
        "objects": max((changed(run, "created") if op == "up" else changed(run, "deleted")) - 2, 0),
        "failed_operations": failed_operations(run),
    }  # fmt: skip
    if not run.ok:
        result["error"] = run.tail(ls.token, lines=12)
    return result


def run_level(ls: LocalSentry, base: Path, n: int, parallel: int, variant: str, code: Path | None,
              project_mode: str = "per-environment") -> list[dict[str, Any]]:  # fmt: skip
    app = unique("tp").replace("-", "")
    stack = Stack.create(base, ls, app=app, services=n, project_mode=project_mode,
                         pulumi_home=base / "pulumi-home", code=code)  # fmt: skip
    up = phase(ls, stack, "up", parallel)
    down = phase(ls, stack, "destroy", parallel)
    if not down["ok"]:
        stack.destroy()  # clean up; the failure is reported above
    objs = sentry_objects(ls, app, stack.name)
    down["left_in_sentry"] = sum(len(v) for v in objs.values())
    stack.remove()
    for r in (up, down):
        r["variant"] = variant
    return [up, down]


def window_test(base: Path, n: int, parallel: int, window: int, rate: int, variants: list[tuple[str, Path | None]],
                ) -> list[dict[str, Any]]:  # fmt: skip
    """The same workload against a `rate` per `window` seconds limit answering current Sentry's JSON-object 429s."""
    results: list[dict[str, Any]] = []
    with LocalSentry.start(base, rate_limit=rate, concurrent_limit=CONCURRENT) as ls:
        ls.set_limits(rate_limit=rate, window=window, body="object")
        for variant, code in variants:
            for r in run_level(ls, base, n, parallel, variant, code):
                r["window"], r["rate_limit"] = window, rate
                r["ratio_to_limit"] = round(r["requests_per_second"] / (rate / window), 2)
                results.append(r)
    return results


PACER_PROBE = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from infra.sentry.client import Connection, SentryClient
url, org, token, count, threads = sys.argv[1], sys.argv[2], sys.stdin.read().strip(), int(sys.argv[3]), int(sys.argv[4])
client = SentryClient(Connection(api_root=url.rstrip("/") + "/api/0/", organization=org, token=token))
client.get(f"organizations/{org}/", what="org")  # learn the limits first
time.sleep(1.05 - time.time() % 1)  # start at a window boundary
start = time.perf_counter()
with ThreadPoolExecutor(threads) as pool:
    list(pool.map(lambda _: client.get(f"organizations/{org}/", what="org"), range(count)))
print(json.dumps({"seconds": time.perf_counter() - start, "throttled": client.pacer.throttled}))
"""


def pacer_alone(ls: LocalSentry, variant: str, code: Path | None, count: int, threads: int) -> dict[str, Any]:
    """The client's pacer without Pulumi: `count` GETs from `threads` threads; requests/s vs the limit."""
    env = dict(os.environ, PYTHONPATH=str(code or ROOT))
    time.sleep(1.1)  # a fresh rate-limit window: the probe's first request knows no budget yet
    ls.reset_stats()
    proc = subprocess.run([sys.executable, "-c", PACER_PROBE, ls.url, ls.org, str(count), str(threads)],
                          input=ls.token, capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    if proc.returncode != 0:
        return {"variant": variant, "error": proc.stderr[-800:]}
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    # started at a window boundary: the requests went out in ceil(seconds) 1-second windows
    rate = count / max(1, math.ceil(data["seconds"]))
    return {"variant": variant, "requests": count, "threads": threads, "seconds": round(data["seconds"], 2),
            "requests_per_second": round(rate, 1), "ratio_to_limit": round(rate / RATE, 2),
            "throttled_429": int(ls.stats()["rate_limited"])}  # fmt: skip


def print_rows(rows: list[dict[str, Any]], limit: float) -> None:
    print(f"{'variant':<16} {'parallel':>8} {'phase':<8} {'objects':>7} {'seconds':>7} {'busy s':>6} {'requests':>8} "
          f"{'req/s':>6} {'/limit':>6} {'429s':>5} {'failed':>6} {'left':>4}")  # fmt: skip
    for r in rows:
        left = str(r.get("left_in_sentry", "")) if r["op"] == "destroy" else ""
        ratio = r["requests_per_second"] / limit if limit else 0.0
        print(f"{r['variant']:<16} {r['parallel']:>8} {r['op']:<8} {r['objects']:>7} {r['seconds']:>7.1f} "
              f"{r['busy_seconds']:>6.1f} {r['requests']:>8} {r['requests_per_second']:>6.1f} {ratio:>6.2f} "
              f"{r['throttled_429']:>5} {r['failed_operations']:>6} {left:>4}")
        if r.get("error"):
            print("    " + r["error"].replace("\n", "\n    "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=40, help="services per stack (5N+1 objects)")
    parser.add_argument("--parallel", default="8,64")
    parser.add_argument("--baseline", default=BASELINE_DEFAULT,
                        help="git ref measured as 'before' in the same run (a worktree under build/; default: where "
                             "this branch left main); 'none' skips it")
    parser.add_argument("--window-services", type=int, default=6,
                        help="services of the 60-second-window run (0 skips it)")
    parser.add_argument("--window-rate", type=int, default=20, help="requests per 60 s in the window run")
    parser.add_argument("--pacer-requests", type=int, default=400, help="GETs of the pacer-alone run (16 threads)")
    parser.add_argument("--quick", action="store_true", help="--parallel 32 only, no baseline in the window run")
    args = parser.parse_args()
    levels = [32] if args.quick else [int(p) for p in args.parallel.split(",")]
    n = args.services
    baseline = None if args.baseline == "none" else baseline_checkout(args.baseline)
    variants = ([("before", baseline)] if baseline is not None else []) + [("after", None)]
    results: list[dict[str, Any]] = []
    windowed: list[dict[str, Any]] = []
    pacer: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        base = Path(tmp)
        with LocalSentry.start(base, rate_limit=RATE, concurrent_limit=CONCURRENT) as ls:
            for variant, code in variants:
                pacer.append(pacer_alone(ls, variant, code, args.pacer_requests, 16))
            for parallel in levels:
                for variant, code in variants:
                    results += run_level(ls, base, n, parallel, variant, code)
            if not args.quick:  # this code under Pulumi's own host's four workers: is the pool the limit?
                previous = os.environ.get("SENTRY_STACKS_PROVIDER_WORKERS")
                os.environ["SENTRY_STACKS_PROVIDER_WORKERS"] = "4"
                try:
                    results += run_level(ls, base, n, max(levels), "after, 4 workers", None)
                finally:
                    if previous is None:
                        os.environ.pop("SENTRY_STACKS_PROVIDER_WORKERS", None)
                    else:
                        os.environ["SENTRY_STACKS_PROVIDER_WORKERS"] = previous
        if args.window_services:
            window_variants = [("after", None)] if args.quick else variants
            windowed = window_test(base, args.window_services, max(levels), 60, args.window_rate, window_variants)
    before_label = describe_ref(args.baseline) if baseline is not None else "-"
    print(f"Throughput under Sentry's limits ({RATE} req/s, {CONCURRENT} concurrent), {objects_for(n)} objects "
          f"({n} services, per-environment projects); before = {before_label}, after = {head_ref()}")  # fmt: skip
    for r in pacer:
        if r.get("error"):
            print(f"pacer alone ({r['variant']}): failed: {r['error']}")
        else:
            print(f"pacer alone ({r['variant']}): {r['requests']} GETs from {r['threads']} threads in {r['seconds']} s "
                  f"= {r['requests_per_second']} requests per 1 s window used, {r['ratio_to_limit']:.2f} of the limit, "
                  f"{r['throttled_429']} 429s")
    print_rows(results, RATE)
    failed = sum(r["failed_operations"] for r in results if r["variant"] == "after")
    left = sum(r.get("left_in_sentry", 0) for r in results)
    print(f"failed operations (after): {failed} (must be 0); objects left after destroy: {left}")
    if windowed:
        rate = args.window_rate
        print(f"\n60-second window: {rate} requests per 60 s, 429 bodies as current Sentry's JSON object, "
              f"{objects_for(args.window_services)} objects, --parallel {max(levels)}")
        print_rows(windowed, rate / 60)
        failed_window = sum(r["failed_operations"] for r in windowed if r["variant"] == "after")
        print(f"failed operations in the 60 s window run (after): {failed_window} (must be 0)")
        failed += failed_window
    emit({
        "benchmark": "throughput", "rate_limit": RATE, "concurrent_limit": CONCURRENT, "services": n,
        "objects": objects_for(n), "results": results, "window_results": windowed, "pacer_alone": pacer,
        "failed_operations": failed,
        "left_in_sentry": left, "baseline": before_label, "head": head_ref(),
        "seconds": round(time.perf_counter() - started, 1),
    })  # fmt: skip
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
