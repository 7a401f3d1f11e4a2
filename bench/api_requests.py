"""Benchmark (not a test): Sentry API requests per Pulumi operation, against their minimum.

    venv/bin/python bench/api_requests.py [--services 1,5,20] [--baseline REF|none] [--quick]

Each size runs twice in the same process against the same localsentry: "before" with the code of `--baseline`
(default: where this branch left main, checked out as a `git worktree` under build/) and "after" with this
checkout's. The baseline's stack is then previewed and `up` with this checkout's code, which must show no
changes and send no request (new inputs never diff an existing state).

For a stack of N services (per service a project, a client key, two inbound filters and a metric monitor,
plus one alert watching every project and monitor: 5N+1 Sentry objects) the real Pulumi CLI runs, against a
localsentry enforcing Sentry's limits (40 requests/s, 25 concurrent): `up` from empty, a no-op `up`,
`preview`, `refresh`, an `up` that changes N+1 objects (the stack's environment, used by every monitor and
the alert) and `destroy`. localsentry counts the requests (by method, path template and status).

Minimum per operation: one write per object created, changed or deleted; no request for a no-op `up` or a
`preview` (without refresh); one read per object for `refresh`. `destroy` of a stack in the default
"shared" project mode deletes its keys, monitors and alert (2N+1) and deliberately keeps the shared
projects and their inbound filters for the other stacks.

Every request is attributed to the code path that sends it (the model below, derived from
infra/sentry/*.py); the script prints the model's count next to the measured one, so a request that no code
path explains shows up as "unexplained". Last stdout line: one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    BASELINE_DEFAULT,
    ROOT,
    LocalSentry,
    Stack,
    baseline_checkout,
    delete_projects,
    describe_ref,
    emit,
    head_ref,
    objects_for,
    resolve_ref,
    unique,
)

SHORT = {"{organization_id_or_slug}": "{org}", "{project_id_or_slug}": "{project}", "{team_id_or_slug}": "{team}"}

# Route shorthands (path templates under /api/0/, as localsentry's stats name them).
PROJECT = "projects/{org}/{project}/"
PROJECTS_OF_TEAM = "teams/{org}/{team}/projects/"
KEYS = "projects/{org}/{project}/keys/"
KEY = "projects/{org}/{project}/keys/{key_id}/"
FILTERS = "projects/{org}/{project}/filters/"
FILTER = "projects/{org}/{project}/filters/{filter_id}/"
DETECTORS = "organizations/{org}/detectors/"
DETECTOR = "organizations/{org}/detectors/{detector_id}/"
DETECTORS_OF_PROJECT = "organizations/{org}/projects/{project}/detectors/"
WORKFLOWS = "organizations/{org}/workflows/"
WORKFLOW = "organizations/{org}/workflows/{workflow_id}/"

# (method, route, status, count, kind, code path); kind: "minimum" (the one write / read an object needs),
# "policy" (a write the stack's declared policy asks for), "overhead" (a request beyond the minimum).
Line = tuple[str, str, int, int, str, str]


def model(op: str, n: int) -> list[Line]:
    """The requests each code path of infra/sentry sends for `op` on a fresh N-service stack."""
    if op == "up":
        return [
            ("POST", PROJECTS_OF_TEAM, 201, n, "minimum", "Project.create: POST the project (look-up only on 409)"),
            ("PUT", KEY, 200, n, "minimum",
             "ClientKey.create (reuseDefault): PUT renames Sentry's 'Default' key into the stack's key "
             "(replaces the key's POST and the Default key's DELETE)"),
            ("PUT", FILTER, 204, 2 * n, "minimum", "InboundFilter.create: PUT the filter"),
            ("POST", DETECTORS_OF_PROJECT, 201, n, "minimum", "MetricMonitor.create: POST the detector"),
            ("POST", WORKFLOWS, 201, 1, "minimum", "Alert.create: POST the workflow"),
            ("GET", KEYS, 200, n, "overhead",
             "ClientKey.create (reuseDefault): list the keys for the 'Default' key's id (and the stack's own name)"),
            ("GET", DETECTORS, 200, 1, "overhead",
             "Alert.create -> issue_stream_detectors: one listing for every watched project (ids from projectIds)"),
        ]  # fmt: skip
    if op == "change":
        return [
            ("PUT", DETECTOR, 200, n, "minimum", "MetricMonitor.update: PUT the detector"),
            ("PUT", WORKFLOW, 200, 1, "minimum", "Alert.update: PUT the workflow (issue streams from its state)"),
        ]  # fmt: skip
    return model_before(op, n)


#: the commit from which the code paths are model()'s; a baseline that contains it is explained by model() too
TODAYS_PATHS = "56e1d91"
BASELINE_HAS_TODAYS_PATHS = [False]


def model_before(op: str, n: int) -> list[Line]:
    """The baseline's (main before issue 16) requests per code path for `op` on a fresh N-service stack."""
    if op == "up":
        return [
            ("POST", PROJECTS_OF_TEAM, 201, n, "minimum", "Project.create: POST the project"),
            ("POST", KEYS, 201, n, "minimum", "ClientKey.create: POST the key"),
            ("PUT", FILTER, 204, 2 * n, "minimum", "InboundFilter.create (_set): PUT the filter"),
            ("POST", DETECTORS_OF_PROJECT, 201, n, "minimum", "MetricMonitor.create: POST the detector"),
            ("POST", WORKFLOWS, 201, 1, "minimum", "Alert.create: POST the workflow"),
            ("DELETE", KEY, 204, n, "policy",
             "Project.create -> _default_key: DELETE Sentry's 'Default' key (defaultKey: delete)"),
            ("GET", PROJECT, 404, n, "overhead",
             "Project.create: get_project(slug) before the POST (adoption check; the POST's 409 says the same)"),
            ("GET", PROJECT, 200, 2 * n, "overhead",
             "Project.create: get_project(id) after the POST, then _apply() reads it again"),
            ("GET", KEYS, 200, n, "overhead", "Project.create -> _default_key: list keys to find 'Default'"),
            ("GET", KEYS, 200, n, "overhead", "ClientKey.create: find_key(name) before the POST (list keys)"),
            ("GET", FILTERS, 200, 2 * n, "overhead",
             "InboundFilter.create (_set -> live_filter): list the project's filters before each PUT"),
            ("GET", PROJECT, 200, n, "overhead",
             "MetricMonitor.create -> find_detector: get_project(slug) for the project id"),
            ("GET", DETECTORS, 200, n, "overhead", "MetricMonitor.create -> find_detector: list detectors by name"),
            ("GET", PROJECT, 200, n, "overhead",
             "Alert.create -> issue_stream_detector: get_project(slug) per watched project"),
            ("GET", DETECTORS, 200, n, "overhead",
             "Alert.create -> issue_stream_detector: list the project's issue_stream detector"),
            ("GET", WORKFLOWS, 200, 1, "overhead", "Alert.create: find_workflow(name) before the POST"),
        ]  # fmt: skip
    if op in ("noop-up", "preview"):
        return []
    if op == "refresh":
        return [
            ("GET", PROJECT, 200, n, "minimum", "Project.read -> locate_project: GET by slug"),
            ("GET", KEY, 200, n, "minimum", "ClientKey.read: GET the key"),
            ("GET", FILTERS, 200, 2 * n, "minimum", "InboundFilter.read -> live_filter: list the project's filters"),
            ("GET", DETECTOR, 200, n, "minimum", "MetricMonitor.read: GET the detector"),
            ("GET", WORKFLOW, 200, 1, "minimum", "Alert.read: GET the workflow"),
        ]  # fmt: skip
    if op == "change":
        return [
            ("PUT", DETECTOR, 200, n, "minimum", "MetricMonitor.update: PUT the detector"),
            ("PUT", WORKFLOW, 200, 1, "minimum", "Alert.update: PUT the workflow"),
            ("GET", PROJECT, 200, n, "overhead",
             "Alert.update -> _streams -> issue_stream_detector: get_project(slug) per watched project"),
            ("GET", DETECTORS, 200, n, "overhead",
             "Alert.update -> _streams -> issue_stream_detector: list the issue_stream detector per project"),
        ]  # fmt: skip
    if op == "destroy":
        return [
            ("DELETE", KEY, 204, n, "minimum", "ClientKey.delete"),
            ("DELETE", DETECTOR, 204, n, "minimum", "MetricMonitor.delete"),
            ("DELETE", WORKFLOW, 204, 1, "minimum", "Alert.delete"),
        ]  # fmt: skip
    raise ValueError(op)


def minimum(op: str, n: int) -> int:
    """The issue's minimum: writes for created/changed/deleted objects, reads for refresh, 0 otherwise."""
    return {"up": objects_for(n), "noop-up": 0, "preview": 0, "refresh": objects_for(n), "change": n + 1,
            "destroy": 2 * n + 1}[op]  # fmt: skip


def api_counts(stats: dict[str, Any]) -> Counter[tuple[str, str, int]]:
    """(method, short route, status) -> count, for /api/0/ requests only."""
    counts: Counter[tuple[str, str, int]] = Counter()
    for key, count in stats["by_route_status"].items():
        method, template, status = key.split(" ")
        if not template.startswith("/api/0/"):
            continue
        route = template[len("/api/0/"):]
        for long, short in SHORT.items():
            route = route.replace(long, short)
        counts[(method, route, int(status))] += int(count)
    return counts


def measure(ls: LocalSentry, stack: Stack, op: str, parallel: int, variant: str = "after") -> dict[str, Any]:
    ls.reset_stats()
    if op == "up":
        run = stack.up("--parallel", str(parallel))
    elif op == "noop-up":
        run = stack.up("--parallel", str(parallel))
    elif op == "preview":
        run = stack.preview("--expect-no-changes")
    elif op == "refresh":
        run = stack.refresh("--expect-no-changes")
    elif op == "change":
        stack.run("config", "set", "environment", "staging", check=True)
        ls.reset_stats()
        run = stack.up("--parallel", str(parallel))
    else:
        run = stack.destroy("--parallel", str(parallel))
    if not run.ok:
        raise RuntimeError(f"{op} failed:\n{run.tail(ls.token)}")
    counts = api_counts(ls.stats())
    n = stack.services
    rows = (model_before if variant == "before" and not BASELINE_HAS_TODAYS_PATHS[0] else model)(op, n)
    expected: Counter[tuple[str, str, int]] = Counter()
    for method, route, status, count, _kind, _path in rows:
        expected[(method, route, status)] += count
    throttled = sum(c for (_m, _r, s), c in counts.items() if s == 429)
    measured = {k: c for k, c in counts.items() if k[2] != 429}
    unexplained = {f"{m} {r} {s}": c - expected.get((m, r, s), 0) for (m, r, s), c in measured.items()
                   if c != expected.get((m, r, s), 0)}  # fmt: skip
    unexplained.update({f"{m} {r} {s}": -c for (m, r, s), c in expected.items() if (m, r, s) not in measured})
    total = sum(counts.values())
    writes = sum(c for (m, _r, s), c in counts.items() if m != "GET" and s != 429)
    reads = sum(c for (m, _r, s), c in counts.items() if m == "GET" and s != 429)
    low = minimum(op, n)
    return {
        "variant": variant, "op": op, "services": n, "objects": objects_for(n), "requests": total, "writes": writes,
        "reads": reads,
        "throttled_429": throttled, "minimum": low, "ratio": round(total / low, 2) if low else None,
        "over_minimum": total - low, "seconds": round(run.seconds, 2), "unexplained": unexplained,
        "causes": [
            {"kind": kind, "count": count, "request": f"{m} {r} {s}", "code": path}
            for m, r, s, count, kind, path in rows if kind != "minimum" and count
        ],
    }  # fmt: skip


OPS = ("up", "noop-up", "preview", "refresh", "change", "destroy")
LABEL = {"up": "up (from empty)", "noop-up": "up (no-op)", "preview": "preview", "refresh": "refresh",
         "change": "up (N+1 changed)", "destroy": "destroy"}  # fmt: skip


def upgrade_check(ls: LocalSentry, base: Path, n: int, code: Path, parallel: int) -> dict[str, Any]:
    """A stack the baseline created and changed, then previewed and `up` with this checkout's code: no changes, no
    request. Its own stack: an upgrade is one way (a state the provider plugin wrote needs this checkout's code, so
    the baseline could not destroy it), and this checkout destroys it."""
    app = unique("ug").replace("-", "")
    stack = Stack.create(base, ls, app=app, services=n, pulumi_home=base / "pulumi-home", code=code)
    try:
        for op in ("up", "change"):
            measure(ls, stack, op, parallel, "before")
        stack.code = None
        ls.reset_stats()
        preview = stack.preview("--json")
        changed = changed_steps(preview.stdout) if preview.ok else ["(preview failed)"]
        up = stack.up()
        after = stack.preview("--expect-no-changes")  # and then nothing at all, the provider included
        requests = sum(api_counts(ls.stats()).values())
    finally:
        stack.code = None
        stack.destroy()
        delete_projects(ls, app)
        stack.remove()
    ok = preview.ok and not changed and up.ok and after.ok
    return {"services": stack.services, "preview_no_changes": preview.ok and not changed, "up_no_changes": up.ok
            and after.ok, "requests": requests, "changed": changed,
            "detail": "" if ok else (preview.tail(ls.token, 12) + up.tail(ls.token, 12) + after.tail(ls.token, 12))}


def changed_steps(preview_json: str) -> list[str]:
    """The steps of a `preview --json` other than `same`, but for providers (the upgrade declares the explicit
    sentrystacks provider the previous release did not have: a create of a provider, no Sentry object)."""
    steps = json.loads(preview_json).get("steps") or []
    return [f"{s.get('op')} {s.get('urn')}" for s in steps
            if s.get("op") != "same" and "::pulumi:providers:" not in str(s.get("urn"))]  # fmt: skip


def run_variant(ls: LocalSentry, base: Path, n: int, variant: str, code: Path | None, parallel: int,
                upgrades: list[dict[str, Any]]) -> list[dict[str, Any]]:  # fmt: skip
    app = unique("rq").replace("-", "")
    stack = Stack.create(base, ls, app=app, services=n, pulumi_home=base / "pulumi-home", code=code)
    results: list[dict[str, Any]] = []
    try:
        for op in OPS:
            results.append(measure(ls, stack, op, parallel, variant))
        if variant == "before" and code is not None:
            upgrades.append(upgrade_check(ls, base, n, code, parallel))
    finally:
        stack.destroy()
        delete_projects(ls, app)
        stack.remove()
    return results


def ratio_text(r: dict[str, Any]) -> str:
    return f"{r['ratio']:.2f}" if r["ratio"] is not None else ("ok" if r["requests"] == 0 else "MISS")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", default="1,5,20", help="comma-separated stack sizes (services)")
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--baseline", default=BASELINE_DEFAULT,
                        help="git ref measured as 'before' in the same run (a worktree under build/; default: where "
                             "this branch left main); 'none' skips it")
    parser.add_argument("--quick", action="store_true", help="N = 1 and 5 only")
    args = parser.parse_args()
    sizes = [1, 5] if args.quick else [int(s) for s in args.services.split(",")]
    baseline = None if args.baseline == "none" else baseline_checkout(args.baseline)
    if baseline is not None:
        BASELINE_HAS_TODAYS_PATHS[0] = subprocess.run(
            ["git", "merge-base", "--is-ancestor", TODAYS_PATHS, resolve_ref(args.baseline)], cwd=ROOT,
            capture_output=True).returncode == 0  # fmt: skip
    variants = ([("before", baseline)] if baseline is not None else []) + [("after", None)]
    results: list[dict[str, Any]] = []
    upgrades: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as tmp:
        base = Path(tmp)
        with LocalSentry.start(base, rate_limit=40, concurrent_limit=25) as ls:
            for n in sizes:
                for variant, code in variants:
                    results += run_variant(ls, base, n, variant, code, args.parallel, upgrades)
    before_label = describe_ref(args.baseline) if baseline is not None else "-"
    print(f"Sentry API requests per operation (localsentry 40 req/s, 25 concurrent; --parallel {args.parallel}; "
          f"shared project mode); before = {before_label}, after = {head_ref()}")  # fmt: skip
    print(f"{'N':>3} {'objects':>7}  {'operation':<18} {'minimum':>7} {'before':>7} {'ratio':>6} {'after':>6} "
          f"{'ratio':>6} {'writes':>6} {'reads':>5} {'429s':>4} {'seconds':>7}")  # fmt: skip
    by_key = {(r["variant"], r["services"], r["op"]): r for r in results}
    for r in results:
        if r["variant"] != "after":
            continue
        b = by_key.get(("before", r["services"], r["op"]))
        before = (f"{b['requests']:>7} {ratio_text(b):>6}") if b else f"{'-':>7} {'-':>6}"
        print(f"{r['services']:>3} {r['objects']:>7}  {LABEL[r['op']]:<18} {r['minimum']:>7} {before} "
              f"{r['requests']:>6} {ratio_text(r):>6} {r['writes']:>6} {r['reads']:>5} {r['throttled_429']:>4} "
              f"{r['seconds']:>7.1f}")
    print("\nWhere the requests above the minimum come from now (per stack of N services; infra/sentry code paths):")
    seen: set[str] = set()
    for r in results:
        if r["variant"] != "after" or r["op"] in seen:
            continue
        seen.add(r["op"])
        per_n: dict[str, list[str]] = {}
        for other in results:
            if other["variant"] == "after" and other["op"] == r["op"]:
                for cause in other["causes"]:
                    per_n.setdefault(f"{cause['request']}  <- {cause['code']}", []).append(str(cause["count"]))
        if per_n:
            print(f"  {LABEL[r['op']]}:")
            for text, counts in per_n.items():
                print(f"    {'/'.join(counts):>9}  {text}")
    unexplained = [(r["variant"], r["op"], r["services"], r["unexplained"]) for r in results if r["unexplained"]]
    if unexplained:
        print("\nRequests no code path of the model explains (measured - model):")
        for variant, op, n, diff in unexplained:
            print(f"  {variant} N={n} {op}: {diff}")
    else:
        print("\nEvery request measured is explained by the model (no retries, no 429s, nothing unaccounted).")
    for u in upgrades:
        verdict = "no changes" if u["preview_no_changes"] and u["up_no_changes"] else "CHANGES"
        print(f"Upgrade, N={u['services']}: a stack the baseline created and changed, previewed and `up` with this "
              f"code (no create, update, delete or replace but the new explicit provider; then a preview with no "
              f"change at all): {verdict}, {u['requests']} requests")
        if u["detail"]:
            print("    " + u["detail"].replace("\n", "\n    "))
    failed_upgrades = [u for u in upgrades if not (u["preview_no_changes"] and u["up_no_changes"])]
    summary = {
        "benchmark": "api_requests", "sizes": sizes, "parallel": args.parallel, "results": results,
        "baseline": before_label, "head": head_ref(), "upgrades": upgrades,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    emit(summary)
    return 1 if failed_upgrades else 0


if __name__ == "__main__":
    sys.exit(main())
