"""Benchmark (not a test): how `up`, preview, a change, refresh and destroy grow with the stack (issue 26, Scale).

    venv/bin/python bench/growth.py [--services 100,200,400] [--parallel 16] [--quick] [--sentry-limits]
                                    [--checkpoints-only] [--baseline REF]

For each size N (5N+1 Sentry objects: 501, 1,001 and 2,001 for N = 100, 200, 400) a fresh Sentry-only stack of
the benchmarks' program (bench/_support.PROGRAM) runs, through the real CLI on its own file backend against one
localsentry with its rate limits off, one after the other: the first `up`, a no-op `preview`, a change of N+1
objects (`environment` production -> staging: every monitor and the alert), `preview --refresh`, `refresh` and
`destroy` (mode "checkpoints", Pulumi's default: a checkpoint of the whole state is saved as every step starts
and ends). A second fresh stack of the same size then runs the first `up`, the same change and `destroy` with
PULUMI_SKIP_CHECKPOINTS=true (mode "no checkpoints": one save at the end, no crash safety), so the share of
the time that goes into Pulumi's checkpoints shows. `up`, change and destroy run at `--parallel` (default 16).

Printed per mode, size and phase: wall seconds, CPU seconds (user + system of the CLI and the processes it started,
sampled: steadier than wall time on a loaded machine), API requests localsentry answered, the bytes of the stack's
checkpoint file in the backend after the phase and bytes per resource in it, and, sampled from /proc every
0.25 s, the peak resident set (VmHWM) of the CLI and of the provider plugin. Then the growth exponents
k = log(t2/t1) / log(n2/n1) between consecutive sizes (n = Sentry objects) per phase and mode (issue 26: from
N=100 up, `up` and a change with checkpoints should stay at k <= 1.15), and the checkpoint share of `up` and
the change, 1 - t(no checkpoints) / t(checkpoints). `--quick`: sizes 20,40. `--sentry-limits`: localsentry keeps
Sentry's limits (40 requests/s per token, 25 concurrent), as in the side-by-side runs with the Terraform provider,
and the time the requests need at that rate is printed next to each phase. `--checkpoints-only`: no second stack
without checkpoints. `--baseline REF` (e.g. `main`): per size, a stack of REF's code runs the same phases with
checkpoints first (mode "checkpoints (REF)"), so before and after come from one run. Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    LocalSentry,
    Stack,
    baseline_checkout,
    delete_projects,
    describe_ref,
    emit,
    machine,
    objects_for,
    profile_command,
    unique,
)

CHECKPOINTS, NO_CHECKPOINTS = "checkpoints", "no checkpoints"
PHASES = {  # phase -> CLI arguments (the change sets `environment` first)
    "up": ("up", "--yes", "--skip-preview"),
    "preview": ("preview", "--expect-no-changes"),
    "change": ("up", "--yes", "--skip-preview"),
    "preview --refresh": ("preview", "--refresh", "--expect-no-changes"),
    "refresh": ("refresh", "--yes", "--skip-preview", "--expect-no-changes"),
    "destroy": ("destroy", "--yes", "--skip-preview"),
}
PARALLEL_PHASES = ("up", "change", "destroy")
MODE_PHASES = {CHECKPOINTS: tuple(PHASES), NO_CHECKPOINTS: ("up", "change", "destroy")}
SENTRY_RATE = 40.0  # requests per second per token: Sentry's limit, localsentry's default
GROWTH_LIMIT = 1.15  # issue 26: `up` and a change, with checkpoints, from N=100 up
CLI, PLUGIN = "pulumi CLI + engine (Go)", "provider plugin (sentrystacks)"


@contextmanager
def skip_checkpoints(on: bool) -> Iterator[None]:
    """PULUMI_SKIP_CHECKPOINTS=true for the CLI commands run inside (Stack.env() copies os.environ)."""
    previous = os.environ.get("PULUMI_SKIP_CHECKPOINTS")
    if on:
        os.environ["PULUMI_SKIP_CHECKPOINTS"] = "true"
    else:
        os.environ.pop("PULUMI_SKIP_CHECKPOINTS", None)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PULUMI_SKIP_CHECKPOINTS", None)
        else:
            os.environ["PULUMI_SKIP_CHECKPOINTS"] = previous


def checkpoint(stack: Stack) -> tuple[int, int]:
    """Bytes of the stack's checkpoint file in its file backend and the resources in it (all of them: the stack,
    the SentryApp component, the provider and the Sentry objects)."""
    files = sorted((stack.workdir / ".state" / ".pulumi" / "stacks").rglob(f"{stack.name}.json"))
    if not files:
        return 0, 0
    data = json.loads(files[0].read_text())
    resources = ((data.get("checkpoint") or {}).get("latest") or {}).get("resources") or []
    return files[0].stat().st_size, len(resources)


def api_requests(ls: LocalSentry) -> int:
    return sum(int(c) for route, c in ls.stats()["by_route"].items() if " /api/0/" in route)


def measure(ls: LocalSentry, stack: Stack, phase: str, mode: str, parallel: int) -> dict[str, Any]:
    args = PHASES[phase] + (("--parallel", str(parallel)) if phase in PARALLEL_PHASES else ())
    if phase == "change":
        stack.run("config", "set", "environment", "staging", check=True)
    ls.reset_stats()
    with skip_checkpoints(mode == NO_CHECKPOINTS):
        prof = profile_command(stack, *args, interval=0.25)
    if prof.returncode != 0:
        tail = "\n".join(prof.output.strip().splitlines()[-12:]).replace(ls.token, "[secret]")
        raise RuntimeError(f"N={stack.services} {mode}: {phase} exited {prof.returncode}:\n{tail}")
    size, resources = checkpoint(stack)
    requests_sent = api_requests(ls)
    return {
        "mode": mode, "phase": phase, "services": stack.services, "objects": objects_for(stack.services),
        "seconds": round(prof.wall, 2), "api_requests": requests_sent, "state_bytes": size,
        "cpu_seconds": round(sum(k["cpu"] for k in prof.kinds.values()), 2),
        "x_request_time": round(prof.wall / (requests_sent / SENTRY_RATE), 2) if requests_sent else None,
        "state_resources": resources, "bytes_per_resource": round(size / resources) if resources else None,
        "cli_rss_mb": round(prof.kinds.get(CLI, {}).get("rss_mb", 0.0), 1),
        "plugin_rss_mb": round(prof.kinds.get(PLUGIN, {}).get("rss_mb", 0.0), 1),
    }  # fmt: skip


def run_size(ls: LocalSentry, base: Path, n: int, mode: str, parallel: int,
             code: Path | None = None) -> list[dict[str, Any]]:
    app = unique("gr").replace("-", "")
    stack = Stack.create(base, ls, app=app, services=n, pulumi_home=base / "pulumi-home", code=code)
    rows: list[dict[str, Any]] = []
    try:
        for phase in MODE_PHASES.get(mode, PHASES):
            rows.append(measure(ls, stack, phase, mode, parallel))
            print(f"  N={n} {mode}: {phase} {rows[-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
    finally:
        if not rows or rows[-1]["phase"] != "destroy":
            stack.destroy("--parallel", str(parallel))
        delete_projects(ls, app)  # shared projects survive `destroy` by design
        stack.remove()
    return rows


def exponents(rows: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    """k = log(t2/t1) / log(n2/n1) between consecutive sizes, per mode and phase (n: Sentry objects)."""
    seconds = {(r["mode"], r["phase"], r["services"]): r["seconds"] for r in rows}
    out: list[dict[str, Any]] = []
    modes = dict.fromkeys(r["mode"] for r in rows)
    for mode in modes:
        for phase in MODE_PHASES.get(mode, PHASES):
            for a, b in pairwise(sizes):
                t1, t2 = seconds.get((mode, phase, a)), seconds.get((mode, phase, b))
                if not t1 or not t2:
                    continue
                k = math.log(t2 / t1) / math.log(objects_for(b) / objects_for(a))
                limited = mode == CHECKPOINTS and phase in ("up", "change")
                out.append({"mode": mode, "phase": phase, "from": a, "to": b, "k": round(k, 2),
                            "limit": GROWTH_LIMIT if limited else None})  # fmt: skip
    return out


def checkpoint_share(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size, for `up` and the change: the seconds with and without checkpoints, and the checkpoints' share."""
    seconds = {(r["mode"], r["phase"], r["services"]): r["seconds"] for r in rows}
    out: list[dict[str, Any]] = []
    for (mode, phase, n), with_ckpt in seconds.items():
        without = seconds.get((NO_CHECKPOINTS, phase, n))
        if mode == CHECKPOINTS and phase in ("up", "change") and without:
            out.append({"phase": phase, "services": n, "checkpoints": with_ckpt, "no_checkpoints": without,
                        "share": round(1 - without / with_ckpt, 2)})  # fmt: skip
    return out


def report(rows: list[dict[str, Any]], ks: list[dict[str, Any]], shares: list[dict[str, Any]], parallel: int,
           limits: bool) -> None:
    rate = f"Sentry's limits ({SENTRY_RATE:.0f} requests/s, 25 concurrent)" if limits else "without rate limits"
    print(f"\nGrowth per phase (--parallel {parallel} for up, change and destroy; localsentry {rate}); "
          f"x req time: the seconds over the time the phase's requests need at {SENTRY_RATE:.0f}/s")
    print(f"{'mode':<22} {'N':>4} {'objects':>7} {'phase':<18} {'seconds':>8} {'CPU s':>6} {'API req':>7} "
          f"{'x req time':>10} {'state B':>9} {'B/res':>6} {'CLI MB':>7} {'plugin MB':>9}")  # fmt: skip
    for r in rows:
        per = r["bytes_per_resource"] if r["bytes_per_resource"] is not None else "-"
        over = f"{r['x_request_time']:.1f}" if r["x_request_time"] is not None else "-"
        print(f"{r['mode']:<22} {r['services']:>4} {r['objects']:>7} {r['phase']:<18} {r['seconds']:>8.2f} "
              f"{r.get('cpu_seconds', 0.0):>6.2f} {r['api_requests']:>7} {over:>10} {r['state_bytes']:>9} {per:>6} "
              f"{r['cli_rss_mb']:>7.0f} {r['plugin_rss_mb']:>9.0f}")
    print("\nGrowth exponents k = log(t2/t1) / log(n2/n1) (n = Sentry objects; 1 = linear, 2 = quadratic)")
    print(f"{'mode':<22} {'phase':<18} {'N':>11} {'k':>6}  issue 26")
    for k in ks:
        verdict = ("" if k["limit"] is None else
                   f"<= {k['limit']}: {'yes' if k['k'] <= k['limit'] else 'NO'}")  # fmt: skip
        print(f"{k['mode']:<22} {k['phase']:<18} {str(k['from']) + '->' + str(k['to']):>11} {k['k']:>6.2f}  {verdict}")
    if shares:
        print("\nCheckpoint share: 1 - t(PULUMI_SKIP_CHECKPOINTS=true) / t(default)")
        for s in shares:
            print(f"  N={s['services']:<4} {s['phase']:<7} {s['checkpoints']:>8.2f} s vs {s['no_checkpoints']:>8.2f} s"
                  f"  share {s['share']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", default="100,200,400", help="stack sizes in services (5N+1 objects each)")
    parser.add_argument("--parallel", type=int, default=16, help="--parallel of up, change and destroy")
    parser.add_argument("--quick", action="store_true", help="sizes 20,40")
    parser.add_argument("--sentry-limits", action="store_true",
                        help="keep Sentry's rate limits in localsentry (default: off, so only our cost shows)")
    parser.add_argument("--checkpoints-only", action="store_true", help="skip the stacks without checkpoints")
    parser.add_argument("--baseline", default=None, help="also measure this ref's code with checkpoints (e.g. main)")
    args = parser.parse_args()
    sizes = [20, 40] if args.quick else sorted({int(s) for s in args.services.split(",")})
    if not sizes or sizes[0] < 1:
        parser.error("--services: positive numbers of services, e.g. 100,200,400")
    started = time.perf_counter()
    info = machine()
    rows: list[dict[str, Any]] = []
    code = baseline_checkout(args.baseline) if args.baseline else None
    before = f"{CHECKPOINTS} ({args.baseline})"
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
        base = Path(tmp)
        with LocalSentry.start(base) as ls:
            if not args.sentry_limits:
                ls.set_limits(rate_limit=0, concurrent_limit=0)
            modes = (CHECKPOINTS,) if args.checkpoints_only else tuple(MODE_PHASES)
            for n in sizes:
                if code is not None:
                    rows += run_size(ls, base, n, before, args.parallel, code=code)
                for mode in modes:
                    rows += run_size(ls, base, n, mode, args.parallel)
    ks, shares = exponents(rows, sizes), checkpoint_share(rows)
    print(f"Pulumi {info['pulumi']}, {info['nproc']} CPUs, load average {info['loadavg'][0]} before, "
          f"{os.getloadavg()[0]:.2f} after")  # fmt: skip
    if code is not None:
        print(f"mode {before!r}: {describe_ref(args.baseline)}; the other modes: this checkout")
    report(rows, ks, shares, args.parallel, args.sentry_limits)
    over = [k for k in ks if k["limit"] is not None and k["k"] > k["limit"]]
    emit({
        "benchmark": "growth", "sizes": sizes, "parallel": args.parallel, "sentry_limits": args.sentry_limits,
        "results": rows, "exponents": ks,
        "checkpoint_share": shares, "over_limit": len(over), "machine": info,
        "loadavg_after": round(os.getloadavg()[0], 2), "seconds": round(time.perf_counter() - started, 1),
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
