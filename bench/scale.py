"""Benchmark (not a test): wall time of a no-op `pulumi preview` as the stack grows.

    venv/bin/python bench/scale.py [--services 2,10,40] [--repeat 5] [--quick] [--baseline REF]

Stacks of N services (5N+1 Sentry objects: 11, 51 and 201 for N = 2, 10, 40) are brought up once against
localsentry, then `pulumi preview --expect-no-changes` runs on each of them and on an empty program (no
resources; the same Pulumi.yaml, config and CLI), round-robin, `--repeat` times. Printed: the median wall
time of each, divided by the empty program's median measured in the same run, the marginal cost per object,
and the API requests the previews sent (must be 0: a preview without --refresh never calls Sentry). CPU
time (user + system of the CLI and its plugins) is printed too: on a shared machine it varies less than
wall time. With `--baseline REF` (e.g. `fork-point`: main before this branch), stacks of the same sizes run the
code of REF too, in the same round-robin, so before and after come from one run. For every stack, the size of its
state per resource type (JSON bytes of a resource's entry: inputs, outputs, dependencies) is printed, and the
largest entry (the alert watching every project and monitor).
Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    BASELINE_DEFAULT,
    LocalSentry,
    ProcessProfile,
    Stack,
    baseline_checkout,
    delete_projects,
    describe_ref,
    emit,
    median,
    objects_for,
    profile_command,
    unique,
)


def profile_table(profiles: dict[int, list[ProcessProfile]], sizes: list[int]) -> list[dict[str, Any]]:
    """Per process kind: median CPU and span of the empty program and of the largest stack."""
    if not profiles or sizes[0] not in profiles or sizes[-1] not in profiles:
        return []
    kinds = sorted({k for runs in profiles.values() for p in runs for k in p.kinds})

    def stats(n: int, kind: str) -> tuple[float, str]:
        runs = [p.kinds[kind] for p in profiles[n] if kind in p.kinds]
        if not runs:
            return 0.0, "-"
        span = f"{median(r['start'] for r in runs):.1f}-{median(r['end'] for r in runs):.1f}"
        return median(r["cpu"] for r in runs), span

    rows: list[dict[str, Any]] = []
    for kind in kinds:
        empty_cpu, empty_span = stats(sizes[0], kind)
        big_cpu, big_span = stats(sizes[-1], kind)
        rows.append({"kind": kind, "empty_cpu": round(empty_cpu, 2), "empty_span": empty_span, "cpu": round(big_cpu, 2),
                     "span": big_span, "delta_cpu": round(big_cpu - empty_cpu, 2)})
    walls = {n: median(p.wall for p in profiles[n]) for n in (sizes[0], sizes[-1])}
    rows.append({"kind": "wall seconds of the profiled runs", "empty_cpu": round(walls[sizes[0]], 2),
                 "empty_span": "", "cpu": round(walls[sizes[-1]], 2), "span": "",
                 "delta_cpu": round(walls[sizes[-1]] - walls[sizes[0]], 2)})
    return rows


def state_sizes(stack: Stack) -> dict[str, Any]:
    """Bytes of the state per resource type (mean) and the largest entry, from `pulumi stack export`."""
    by_type: dict[str, list[int]] = {}
    largest = ("", 0)
    for res in stack.export()["deployment"].get("resources", []):
        size = len(json.dumps(res, separators=(",", ":")))
        kind = res["type"].rsplit(":", 1)[-1]
        by_type.setdefault(kind, []).append(size)
        if size > largest[1]:
            largest = (res["urn"].rsplit("::", 1)[-1], size)
    return {"bytes_per_type": {k: round(sum(v) / len(v)) for k, v in sorted(by_type.items())},
            "total_bytes": sum(sum(v) for v in by_type.values()), "largest": {"name": largest[0], "bytes": largest[1]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", default="2,10,40", help="stack sizes in services (5N+1 objects each)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="--repeat 3")
    parser.add_argument("--no-profile", action="store_true", help="skip the per-process CPU profile")
    parser.add_argument("--baseline", default=None, help=f"also measure this ref's code (e.g. {BASELINE_DEFAULT})")
    args = parser.parse_args()
    sizes = [0] + [int(s) for s in args.services.split(",")]
    code = baseline_checkout(args.baseline) if args.baseline else None
    variants = [*sizes, *(-n for n in sizes[1:] if code is not None)]  # a negative size: the baseline's stack
    repeat = 3 if args.quick else args.repeat
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    times: dict[int, list[float]] = {n: [] for n in variants}
    cpu: dict[int, list[float]] = {n: [] for n in variants}
    requests: dict[int, int] = dict.fromkeys(variants, 0)
    sizes_of_state: dict[int, dict[str, Any]] = {}
    failures: list[str] = []
    profile_runs = 0 if args.no_profile else (1 if args.quick else 3)
    profiles: dict[int, list[ProcessProfile]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        base = Path(tmp)
        with LocalSentry.start(base, rate_limit=40, concurrent_limit=25) as ls:
            stacks: dict[int, Stack] = {}
            ls.set_limits(rate_limit=0, concurrent_limit=0)  # set-up only: fast, not measured
            try:
                for n in variants:
                    app = unique("sc").replace("-", "")
                    stacks[n] = Stack.create(base, ls, app=app, services=abs(n), pulumi_home=base / "pulumi-home",
                                             code=code if n < 0 else None)
                    stacks[n].up("--parallel", "16", check=True)
                    sizes_of_state[n] = state_sizes(stacks[n])
                ls.set_limits(rate_limit=40, concurrent_limit=25)
                for n in variants:  # warm-up (page cache, compiled bytecode), not measured
                    stacks[n].preview("--expect-no-changes", check=True)
                for _ in range(repeat):
                    for n in variants:
                        ls.reset_stats()
                        run = stacks[n].preview("--expect-no-changes")
                        if not run.ok:
                            failures.append(f"N={n}: {run.tail(ls.token, lines=8)}")
                        times[n].append(run.seconds)
                        cpu[n].append(run.cpu_seconds)
                        stats = ls.stats()
                        requests[n] += sum(int(c) for r, c in stats["by_route"].items() if " /api/0/" in r)
                for _ in range(profile_runs):  # where the time goes: CPU per process kind, sampled from /proc
                    for n in (sizes[0], sizes[-1]):
                        prof = profile_command(stacks[n], "preview", "--expect-no-changes")
                        profiles.setdefault(n, []).append(prof)
            finally:
                ls.set_limits(rate_limit=0, concurrent_limit=0)
                for stack in stacks.values():
                    stack.destroy("--parallel", "16")
                    delete_projects(ls, stack.app)
                    stack.remove()
    empty, empty_cpu = median(times[0]), median(cpu[0])
    rows: list[dict[str, Any]] = []
    for n in variants:
        med = median(times[n])
        objects = objects_for(abs(n))
        rows.append({
            "code": "before" if n < 0 else "after", "state": sizes_of_state.get(n),
            "services": abs(n), "objects": objects, "median_seconds": round(med, 2),
            "min_seconds": round(min(times[n]), 2),
            "ratio_to_empty": round(med / empty, 2), "api_requests": requests[n],
            "median_cpu_seconds": round(median(cpu[n]), 2), "cpu_ratio_to_empty": round(median(cpu[n]) / empty_cpu, 2),
            "ms_per_object": round((med - empty) / objects * 1000, 1) if objects else None,
            "samples": [round(t, 2) for t in times[n]],
        })  # fmt: skip
    print(f"No-op preview wall time ({repeat} runs each, round-robin, median; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after)")  # fmt: skip
    if code is not None:
        print(f"before: {describe_ref(args.baseline)}; after: this checkout")
    print(f"{'code':>6} {'objects':>7} {'median s':>8} {'min s':>6} {'x empty':>7} {'ms/object':>9} "
          f"{'API requests':>12} {'CPU s':>6} {'CPU x empty':>11}")
    for r in rows:
        per = f"{r['ms_per_object']:.1f}" if r["ms_per_object"] is not None else "-"
        label = "empty" if r["objects"] == 0 else str(r["objects"])
        print(f"{r['code']:>6} {label:>7} {r['median_seconds']:>8.2f} {r['min_seconds']:>6.2f} "
              f"{r['ratio_to_empty']:>7.2f} {per:>9} {r['api_requests']:>12} {r['median_cpu_seconds']:>6.2f} "
              f"{r['cpu_ratio_to_empty']:>11.2f}")
    print("\nState bytes per resource entry (mean per type) and the largest entry")
    for r in rows:
        if r["state"] and r["objects"]:
            types = ", ".join(f"{k} {v}" for k, v in r["state"]["bytes_per_type"].items())
            print(f"{r['code']:>6} {r['objects']:>5} objects: total {r['state']['total_bytes']} B; {types}; largest "
                  f"{r['state']['largest']['name']} {r['state']['largest']['bytes']} B")
    for failure in failures:
        print("preview failed: " + failure)
    breakdown = profile_table(profiles, sizes)
    if breakdown:
        print(f"\nWhere a no-op preview spends CPU (median of {profile_runs} sampled runs; CPU seconds per process "
              "kind; span = seconds after the CLI started)")
        print(f"{'process':<48} {'empty CPU':>9} {'span':>11} {objects_for(sizes[-1]):>5} objects CPU {'span':>11} "
              f"{'delta CPU':>9}")
        for row in breakdown:
            print(f"{row['kind']:<48} {row['empty_cpu']:>9.2f} {row['empty_span']:>11} {row['cpu']:>17.2f} "
                  f"{row['span']:>11} {row['delta_cpu']:>9.2f}")
    emit({
        "benchmark": "scale", "repeat": repeat, "results": rows, "failures": len(failures),
        "loadavg_before": round(load_before, 2), "loadavg_after": round(os.getloadavg()[0], 2),
        "profile": breakdown,
        "seconds": round(time.perf_counter() - started, 1),
    })  # fmt: skip
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
