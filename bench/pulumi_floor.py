"""Benchmark (not a test): which part of issue 26's figures is Pulumi's, in one run.

    venv/bin/python bench/pulumi_floor.py [--services 40] [--repeat 5] [--growth 100,200] [--parallel 16]

Four stacks on their own file backends, run one after the other through the real CLI with checkpoints on (Pulumi's
default):

* **empty**: the floor's program with no service (it imports Pulumi and infra/sdk_debug.py only);
* **ours empty**: the toolkit's program (bench/_support.PROGRAM) with no service: what bench/scale.py calls the empty
  program (it imports the toolkit, reads its settings and declares the provider);
* **floor**: the same program shape as the toolkit's Sentry-only workload (per service a "project", then a "key",
  two "filters" and a "monitor" that take the project's name, and one "alert" over every project: 5N+1 resources,
  with the same dependencies; the SDK's debug messages dropped as in the toolkit's program) served by a trivial
  provider plugin written on ``pulumi.provider.experimental`` and the toolkit's own gRPC server
  (:mod:`infra.provider.server`): check echoes, diff compares, create/update/delete do nothing. What it costs is
  what Pulumi's Python SDK, engine and file backend cost for that workload;
* **ours**: the toolkit's program (bench/_support.PROGRAM) with the ``sentrystacks`` plugin against localsentry at
  Sentry's limits (40 requests/s per token, 25 concurrent).

Each is brought up once (the first ``up`` is timed), then ``--repeat`` rounds, round-robin over the stacks, of a no-op
``preview --expect-no-changes`` and a change of N+1 objects (``environment`` flipped: every monitor and the alert).
Printed: medians per stack and phase, ours minus the floor (the toolkit's part), the floor over the empty program
and over the toolkit's empty program (issue 26's 2x preview target), and the change's floor against 2x the time its
N+1 requests need at 40/s (the change target). ``--growth``: floor stacks of those sizes in services (first ``up``
and one change each), with the growth exponent k = log(t2/t1) / log(n2/n1) between consecutive sizes: Pulumi's own
growth for this workload with checkpoints (issue 26 asks k <= 1.15 from N=100), and the state's bytes per resource.
Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import math
import os
import stat
import sys
import tempfile
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import VENV, LocalSentry, Stack, emit, machine, median, objects_for, unique

RATE = 40.0  # Sentry's requests per second per token (localsentry's default limit)

FLOOR_PLUGIN = '''
"""pulumi-resource-floor: a provider that does nothing, on the SDK's provider interface and the toolkit's server."""
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue

from infra.provider.server import serve

OUTPUT = "objectId"


class Floor(p.Provider):
    async def check(self, request):
        return p.CheckResponse(inputs=request.new_inputs)

    async def diff(self, request):
        olds, news = request.old_state, request.new_inputs
        changed = sorted(k for k in set(olds) | set(news) if k != OUTPUT and olds.get(k) != news.get(k))
        return p.DiffResponse(changes=bool(changed), diffs=changed)

    async def create(self, request):
        name = request.urn.rsplit("::", 1)[-1]
        return p.CreateResponse(resource_id=name, properties={**request.properties, OUTPUT: PropertyValue(name)})

    async def update(self, request):
        return p.UpdateResponse(properties={**request.news, OUTPUT: request.olds.get(OUTPUT, PropertyValue(""))})

    async def delete(self, request):
        return None


serve(Floor(), "0.0.1")
'''

FLOOR_PROGRAM = '''
import pulumi

from infra.sdk_debug import quiet

quiet()  # as lean as the toolkit's program: no SDK debug messages (infra/sdk_debug.py)
config = pulumi.Config()
services = config.get_int("services") or 0
environment = config.get("environment") or "production"


class Thing(pulumi.CustomResource):
    def __init__(self, name, props, opts=None):
        super().__init__("floor:index:Thing", name, {**props, "objectId": None}, opts)


projects = []
for i in range(services):
    project = Thing(f"svc{i}", {"slug": f"svc{i}", "platform": "python", "team": "backend"})
    projects.append(project)
    Thing(f"svc{i}-key", {"project": project.slug, "name": "g1", "isActive": True})
    for f in ("browser-extensions", "web-crawlers"):
        Thing(f"svc{i}-filter-{f}", {"project": project.slug, "filterId": f, "active": True})
    Thing(f"svc{i}-monitor", {"project": project.slug, "environment": environment, "aggregate": "count()",
                               "timeWindow": 3600, "conditions": [{"type": "gt", "comparison": 100}]})
if projects:
    Thing("alert", {"projects": [p.slug for p in projects], "environment": environment, "frequency": 30})
'''

STACKS = ("empty", "ours empty", "floor", "ours")


def floor_stack(base: Path, ls: LocalSentry, services: int) -> Stack:
    """A stack of FLOOR_PROGRAM with `services` services, its plugin found through Pulumi.yaml."""
    st = Stack.create(base, ls, app=unique("floor").replace("-", ""), services=0)
    plugin_dir = st.workdir / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "floor_plugin.py").write_text(FLOOR_PLUGIN)
    launcher = plugin_dir / "pulumi-resource-floor"
    launcher.write_text(f'#!/bin/sh\nexec "{VENV / "bin" / "python"}" "{plugin_dir / "floor_plugin.py"}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    yaml = (st.workdir / "Pulumi.yaml").read_text()
    (st.workdir / "Pulumi.yaml").write_text(yaml + f"    - name: floor\n      path: {plugin_dir}\n")
    (st.workdir / "__main__.py").write_text(FLOOR_PROGRAM)
    st.run("config", "set", "services", str(services), check=True)
    st.services = services
    return st


def set_environment(st: Stack, value: str) -> None:
    st.run("config", "set", "environment", value, check=True)


def state_bytes_per_resource(st: Stack) -> float:
    resources = (st.export().get("deployment") or {}).get("resources") or []
    path = st.workdir / ".state" / ".pulumi" / "stacks"
    size = sum(f.stat().st_size for f in path.rglob("*.json"))
    return size / max(1, len(resources))


def timed(st: Stack, *args: str, what: str) -> float:
    run = st.run(*args)
    if not run.ok:
        raise RuntimeError(f"{what} exited {run.returncode}:\n{run.tail(st.ls.token)}")
    return run.seconds


def growth(base: Path, ls: LocalSentry, sizes: list[int], parallel: int) -> list[dict[str, Any]]:
    rows = []
    for services in sizes:
        st = floor_stack(base, ls, services)
        up = timed(st, "up", "--yes", "--skip-preview", f"--parallel={parallel}", what="floor up")
        per_resource = state_bytes_per_resource(st)
        set_environment(st, "staging")
        change = timed(st, "up", "--yes", "--skip-preview", f"--parallel={parallel}", what="floor change")
        timed(st, "destroy", "--yes", "--skip-preview", f"--parallel={parallel}", what="floor destroy")
        st.remove()
        rows.append({"services": services, "objects": objects_for(services), "up": round(up, 2),
                     "change": round(change, 2), "state_bytes_per_resource": round(per_resource)})
        print(f"floor at {objects_for(services)} objects: up {up:.1f} s, change {change:.1f} s, "
              f"{per_resource / 1024:.2f} KB of state per resource", flush=True)
    return rows


def exponents(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for a, b in pairwise(rows):
        scale = math.log(b["objects"] / a["objects"])
        out.append({"from": a["objects"], "to": b["objects"],
                    **{phase: round(math.log(b[phase] / a[phase]) / scale, 2) for phase in ("up", "change")}})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=40, help="N: 5N+1 objects (default 40: 201)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--growth", default="100,200", help="floor sizes in services for k ('' for none)")
    parser.add_argument("--parallel", type=int, default=16)
    args = parser.parse_args()
    if args.services < 1 or args.repeat < 1:
        parser.error("--services and --repeat must be at least 1")
    sizes = [int(s) for s in args.growth.split(",") if s.strip()]
    n, objects = args.services, objects_for(args.services)
    parallel = f"--parallel={args.parallel}"
    before = machine()
    samples: dict[str, dict[str, list[float]]] = {s: {"preview": [], "change": []} for s in STACKS}
    first_up: dict[str, float] = {}
    per_resource: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pulumi-floor-") as tmp:
        base = Path(tmp)
        with LocalSentry.start(base) as ls:
            stacks = {"empty": floor_stack(base, ls, 0),
                      "ours empty": Stack.create(base, ls, app=unique("oe").replace("-", ""), services=0),
                      "floor": floor_stack(base, ls, n),
                      "ours": Stack.create(base, ls, app=unique("ours").replace("-", ""), services=n)}
            for name, st in stacks.items():
                first_up[name] = timed(st, "up", "--yes", "--skip-preview", parallel, what=f"{name} up")
                per_resource[name] = state_bytes_per_resource(st)
            environments = ["staging", "production"]
            for round_ in range(args.repeat):
                for name, st in stacks.items():
                    samples[name]["preview"].append(
                        timed(st, "preview", "--expect-no-changes", what=f"{name} preview"))
                    set_environment(st, environments[round_ % 2])
                    samples[name]["change"].append(
                        timed(st, "up", "--yes", "--skip-preview", parallel, what=f"{name} change"))
            for st in stacks.values():
                timed(st, "destroy", "--yes", "--skip-preview", parallel, what="destroy")
            grown = growth(base, ls, sizes, args.parallel) if sizes else []
    med = {name: {phase: median(v) for phase, v in phases.items()} for name, phases in samples.items()}
    request_time = (n + 1) / RATE
    print(f"\n{objects} objects (N={n}), {args.repeat} rounds, medians in seconds; checkpoints on")
    print(f"{'phase':<10}{'empty':>7}{'ours empty':>11}{'floor':>7}{'ours':>7}{'ours-floor':>11}"
          f"{'floor/empty':>12}{'ours/empty':>11}{'floor/ours empty':>17}{'ours/ours empty':>16}")
    for phase in ("first up", "preview", "change"):
        row = {s: first_up[s] if phase == "first up" else med[s][phase] for s in STACKS}
        print(f"{phase:<10}{row['empty']:>7.2f}{row['ours empty']:>11.2f}{row['floor']:>7.2f}{row['ours']:>7.2f}"
              f"{row['ours'] - row['floor']:>11.2f}{row['floor'] / row['empty']:>12.2f}"
              f"{row['ours'] / row['empty']:>11.2f}{row['floor'] / row['ours empty']:>17.2f}"
              f"{row['ours'] / row['ours empty']:>16.2f}")
    print(f"change target: 2x its {n + 1} requests at {RATE:.0f}/s = {2 * request_time:.2f} s; the floor alone takes "
          f"{med['floor']['change']:.2f} s ({med['floor']['change'] / request_time:.1f}x), ours "
          f"{med['ours']['change']:.2f} s ({med['ours']['change'] / request_time:.1f}x)")
    print("state per resource: " + ", ".join(f"{s} {per_resource[s] / 1024:.2f} KB" for s in ("floor", "ours")))
    ks = exponents(grown)
    for k in ks:
        print(f"floor growth {k['from']} -> {k['to']} objects: up k = {k['up']}, change k = {k['change']}")
    emit({"benchmark": "pulumi_floor", "services": n, "objects": objects, "repeat": args.repeat,
          "first_up": {k: round(v, 2) for k, v in first_up.items()},
          "medians": {s: {p: round(v, 2) for p, v in ph.items()} for s, ph in med.items()},
          "samples": {s: {p: [round(x, 2) for x in v] for p, v in ph.items()} for s, ph in samples.items()},
          "change_request_seconds": round(request_time, 3),
          "state_bytes_per_resource": {k: round(v) for k, v in per_resource.items()},
          "growth": grown, "exponents": ks, "machine_before": before, "machine_after": machine(),
          "pid": os.getpid()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
