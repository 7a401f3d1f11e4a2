"""Benchmark (not a test): fault-tolerance matrix of `pulumi up` / `pulumi destroy` against a flaky Sentry.

    venv/bin/python bench/faults.py [--services 6] [--kills 3] [--seed 7] [--quick]

localsentry (40 requests/s, 25 concurrent) injects, on every /api/0/ request with the cell's probability:
5xx (500/502/503), 429 (with Sentry's rate-limit headers), slow responses (2 s, holding a concurrency slot)
or dropped connections (half before the request is applied, half after it was committed: the ambiguous
case). Rates 0%, 5% and 20%. Each cell is a fresh stack of N services (5N+1 objects, shared project mode):

1. `pulumi up` under the faults; if it fails, one rerun (same faults);
2. faults off: `pulumi preview --expect-no-changes` -> "converged" when it passes (and the rerun, if any, did);
3. localsentry compared with the stack's state: duplicates (two Sentry objects for one declared object),
   orphans (objects under the stack's names the state does not know), stray "Default" keys, missing objects;
4. `pulumi destroy` under the same faults (one rerun if it fails), then what is left in Sentry.

Then `kill -9` of the CLI during an `up`: at random points (seeded) between the run's first API request and its
last (the k-th request of a fault-free `up`, k drawn from 1..N-1: never while the CLI is still starting, never
after it finished), and once each while a client-key create and a project create is in flight, whatever request
shape the create uses (the first key of a new project takes over Sentry's "Default" key with a PUT; a one-shot
3 s delay on it makes the moment certain). Each kill cell records whether the kill landed where it claims.
After the kill: the plugins the CLI leaves behind are observed (they keep working) and ended once localsentry has
been quiet for 1 s; faults off; the stale lock of the file backend is removed with `pulumi cancel --yes`; one
`pulumi up` rerun; then the same checks. When the rerun does not converge, the recovery with
`adoptExisting: true` for one `up` is measured too. Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    LocalSentry,
    Run,
    Stack,
    emit,
    inventory,
    leftovers,
    objects_for,
    purge,
    session_pids,
    unique,
)

SLOW_SECONDS = 2.0
API = "^/api/0/"


def rules(kind: str, rate: float) -> list[dict[str, Any]]:
    if rate == 0:
        return []
    if kind == "5xx":
        return [{"path": API, "status": [500, 502, 503], "probability": rate}]
    if kind == "429":
        return [{"path": API, "status": [429], "probability": rate}]
    if kind == "slow":
        return [{"path": API, "delay": True, "delay_seconds": SLOW_SECONDS, "probability": rate}]
    if kind == "drop":
        return [{"path": API, "drop": rate / 2, "drop_after_commit": rate / 2}]
    raise ValueError(kind)


NOISE = ("update failed", "Resource monitor has terminated", "preview failed", "destroy failed")


def first_error(run: Run, token: str) -> str:
    """The cause of a failed run: the first infra.sentry error, else the first diagnostic `error:` line that is
    not a consequence (an engine shutting down after another failure), else the last lines."""
    text = run.stdout + "\n" + run.stderr
    match = re.search(r"infra\.sentry\.errors\.(\w+): (.+)$", text, re.MULTILINE)
    if match:
        line = f"{match.group(1)}: {match.group(2).strip()}"
    else:
        errors = [m.group(1).strip() for m in re.finditer(r"^\s*error: (.+)$", text, re.MULTILINE)]
        errors = [e for e in errors if not any(n in e for n in NOISE) and not e.startswith("Traceback")]
        line = errors[0] if errors else run.tail(lines=3)
    return line.replace(token, "[secret]")[:400]


def plan(run: Run) -> str:
    """The change summary of a preview ("+ 1 to create, 2 errored")."""
    section = run.stdout.rsplit("Resources:", 1)[-1]
    items = re.findall(r"^\s+([-+~]?\s*\d+ (?:to \w+|errored))", section, re.MULTILINE)
    return ", ".join(" ".join(i.split()) for i in items) or run.tail(lines=2)


def api_requests(ls: LocalSentry) -> int:
    stats = ls.stats()
    return sum(int(c) for r, c in stats["by_route"].items() if " /api/0/" in r)


def injected(ls: LocalSentry) -> dict[str, int]:
    return {k: int(v) for k, v in ls.stats()["faults"].items()}


def check(st: Stack, result: dict[str, Any]) -> None:
    """Converged? Duplicates, orphans, stray default keys, missing objects."""
    preview = st.preview("--expect-no-changes")
    result["converged"] = bool(result.get("up_ok")) and preview.ok
    if not preview.ok and "preview_error" not in result:
        result["preview_error"] = plan(preview)
    inv = inventory(st).summary()
    result.update(duplicates=inv["duplicates"], orphans=inv["orphans"], stray_default_keys=inv["stray_default_keys"],
                  missing=inv["missing"], inventory=inv)  # fmt: skip


def fault_cell(ls: LocalSentry, base: Path, kind: str, rate: float, seed: int, n: int) -> dict[str, Any]:
    app = unique("ft").replace("-", "")
    st = Stack.create(base, ls, app=app, services=n, pulumi_home=base / "pulumi-home")
    spec = {"seed": seed, "rules": rules(kind, rate)}
    result: dict[str, Any] = {"cell": f"{kind} {rate:.0%}", "kind": kind, "rate": rate, "seed": seed,
                              "objects": objects_for(n)}  # fmt: skip
    try:
        ls.set_faults(spec)
        ls.reset_stats()
        first = st.up("--parallel", "16")
        result.update(first_up_ok=first.ok, up_seconds=round(first.seconds, 1), reruns=0)
        up_ok = first.ok
        if not first.ok:
            result["first_error"] = first_error(first, ls.token)
            rerun = st.up("--parallel", "16")
            result.update(reruns=1, rerun_ok=rerun.ok)
            up_ok = rerun.ok
            if not rerun.ok:
                result["rerun_error"] = first_error(rerun, ls.token)
        result["up_ok"] = up_ok
        result["faults_up"] = injected(ls)
        result["requests_up"] = api_requests(ls)
        ls.set_faults({"rules": []})
        check(st, result)
        ls.set_faults({"seed": seed + 1, "rules": rules(kind, rate)})
        ls.reset_stats()
        down = st.destroy("--parallel", "16")
        result.update(destroy_ok=down.ok, destroy_reruns=0, faults_destroy=injected(ls))
        if not down.ok:
            result["destroy_error"] = first_error(down, ls.token)
            again = st.destroy("--parallel", "16")
            result.update(destroy_reruns=1, destroy_rerun_ok=again.ok)
        ls.set_faults({"rules": []})
        left = leftovers(st)
        result["left_after_destroy"] = len(left)
        if left:
            result["left_details"] = left[:6]
    finally:
        ls.set_faults({"rules": []})
        purge(st)  # shared projects stay after destroy by design, and anything a failure left behind
        st.remove()
    return result


def wait_quiet(ls: LocalSentry, since: int, minimum: float, quiet: float = 1.0, limit: float = 20.0) -> int:
    """Wait at least `minimum` s, then until localsentry has answered no API request for `quiet` s (a request
    is counted when answered, so `minimum` covers one held by a delay). Returns the requests after `since`."""
    start = last_change = time.monotonic()
    last = api_requests(ls)
    while time.monotonic() - start < limit:
        time.sleep(0.1)
        now = api_requests(ls)
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - start >= minimum and time.monotonic() - last_change >= quiet:
            break
    return last - since


# kill -9 while this create is in flight (held 3 s by a one-shot delay fault, so the moment is certain): a key is
# created with a POST to keys/, or, the first of a new project, by a PUT that takes over Sentry's "Default" key
TARGETS: dict[str, tuple[str, list[str]]] = {
    "key-create": ("^/api/0/projects/[^/]+/[^/]+/keys/([^/]+/)?$", ["POST", "PUT"]),
    "project-create": ("^/api/0/teams/[^/]+/[^/]+/projects/$", ["POST"]),
}


def kill_cell(ls: LocalSentry, base: Path, n: int, mode: str, when: int) -> dict[str, Any]:
    """`kill -9` of the CLI during `up` (mode "random": once `when` API requests (>= 1) were answered; a TARGETS
    key: while that create is in flight), then cancel, one rerun, and the checks."""
    app = unique("kl").replace("-", "")
    st = Stack.create(base, ls, app=app, services=n, pulumi_home=base / "pulumi-home")
    result: dict[str, Any] = {"cell": f"kill -9 ({mode})", "kind": "kill", "mode": mode, "objects": objects_for(n)}
    try:
        if mode in TARGETS:
            path, methods = TARGETS[mode]
            ls.set_faults({"rules": [{"path": path, "methods": methods, "delay": 1.0, "delay_seconds": 3,
                                      "count": 1}]})  # fmt: skip
        ls.reset_stats()
        proc = st.popen("up", "--yes", "--skip-preview", "--parallel", "16")
        start = time.perf_counter()
        held = False
        if mode in TARGETS:
            while not (held := ls.stats()["faults"].get("delay", 0) >= 1) and proc.poll() is None:
                time.sleep(0.01)
            time.sleep(0.3)  # the held request is in flight for 3 s: the kill lands inside it
        else:
            while api_requests(ls) < when and proc.poll() is None:
                time.sleep(0.01)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        before = api_requests(ls)
        # where it claims: after the run's first API request and before the end; or inside the held create
        landed = killed and (held if mode in TARGETS else before >= 1)
        result.update(killed=killed, landed=landed, kill_after_seconds=round(time.perf_counter() - start, 2),
                      requests_before_kill=before, kill_at_request=when if mode == "random" else None)  # fmt: skip
        plugins = session_pids(proc.pid)
        result["plugins_left_running"] = len(plugins)
        # the surviving plugins finish their in-flight calls (a held POST answers 3 s after it arrived)
        result["requests_after_kill"] = wait_quiet(ls, before, minimum=3.5 if mode in TARGETS else 0.5)
        still = session_pids(proc.pid)
        for pid in still:  # the CLI's own plugins, started by this benchmark
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        result["plugins_ended_by_benchmark"] = len(still)
        ls.set_faults({"rules": []})
        try:
            result["pending_operations"] = len(st.pending_operations()) if killed else 0
        except RuntimeError as exc:  # the state file as the killed CLI left it could not be read
            files = {str(f.relative_to(st.workdir)): f.stat().st_size
                     for f in (st.workdir / ".state" / ".pulumi" / "stacks").rglob("*") if f.is_file()}
            result.update(pending_operations=None, state_after_kill=f"{str(exc).splitlines()[-1]}; files: {files}")
        cancel = st.run("cancel", "--yes")
        result["cancel"] = "lock removed" if cancel.ok else first_error(cancel, ls.token)
        rerun = st.up("--parallel", "16")
        result.update(reruns=1, up_ok=rerun.ok, rerun_ok=rerun.ok)
        if not rerun.ok:
            result["rerun_error"] = first_error(rerun, ls.token)
            result["rerun_output"] = rerun.tail(ls.token, lines=60)
        if "failed to load checkpoint" in rerun.stdout + rerun.stderr:
            repair_state(st, result)
        check(st, result)
        if not result["converged"]:
            recover(st, result)
        down = st.destroy("--parallel", "16")
        result["destroy_ok"] = down.ok
        left = leftovers(st)
        result["left_after_destroy"] = len(left)
        if left:
            result["left_details"] = left[:6]
    finally:
        ls.set_faults({"rules": []})
        purge(st)
        st.run("cancel", "--yes")
        st.remove()
    return result


def repair_state(st: Stack, result: dict[str, Any]) -> None:
    """The killed CLI left a zero-byte `<stack>.json.attrs` (the blob's metadata sidecar, not written atomically),
    and Pulumi answers 'failed to load checkpoint: EOF' to every command: remove the empty sidecar, up again."""
    empty = [f for f in (st.workdir / ".state" / ".pulumi" / "stacks").rglob("*.attrs") if f.stat().st_size == 0]
    for f in empty:
        f.unlink()
    st.run("cancel", "--yes")
    again = st.up("--parallel", "16")
    result["state_repair"] = {"removed_empty_files": [f.name for f in empty], "up_ok": again.ok,
                              **({} if again.ok else {"error": first_error(again, st.ls.token)})}  # fmt: skip


def recover(st: Stack, result: dict[str, Any]) -> None:
    """The documented way out: `adoptExisting: true` for one `up`, then back to false."""
    st.run("config", "set", "adoptExisting", "true", check=True)
    adopt = st.up("--parallel", "16")
    st.run("config", "set", "adoptExisting", "false", check=True)
    back = st.up("--parallel", "16")
    preview = st.preview("--expect-no-changes")
    inv = inventory(st).summary()
    result["recovery_with_adopt_existing"] = {
        "up_ok": adopt.ok, "up_back_ok": back.ok, "converged": adopt.ok and back.ok and preview.ok,
        "duplicates": inv["duplicates"], "orphans": inv["orphans"], "stray_default_keys": inv["stray_default_keys"],
        "missing": inv["missing"], **({} if adopt.ok else {"error": first_error(adopt, st.ls.token)}),
    }  # fmt: skip


def yes(value: Any) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=6, help="services per stack (5N+1 objects)")
    parser.add_argument("--kills", type=int, default=3, help="kill -9 at random points (plus one during a create)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 services, 1 random kill")
    args = parser.parse_args()
    n = 3 if args.quick else args.services
    kills = 1 if args.quick else args.kills
    rng = random.Random(args.seed)
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    cells = [("none", 0.0)] + [(kind, rate) for kind in ("5xx", "429", "slow", "drop") for rate in (0.05, 0.20)]
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        base = Path(tmp)
        with LocalSentry.start(base, rate_limit=40, concurrent_limit=25) as ls:
            for i, (kind, rate) in enumerate(cells):
                cell = fault_cell(ls, base, kind, rate, args.seed * 100 + i, n)
                results.append(cell)
                print(f"  {cell['cell']:<10} up ok={yes(cell.get('up_ok'))} converged={yes(cell.get('converged'))} "
                      f"({cell.get('up_seconds')} s)", file=sys.stderr, flush=True)
            total = int(results[0].get("requests_up") or 30)  # API requests of a fault-free `up` of such a stack
            points = [rng.randint(1, max(1, total - 1)) for _ in range(kills)]
            for when in points:
                results.append(kill_cell(ls, base, n, "random", when))
            for target in TARGETS:
                results.append(kill_cell(ls, base, n, target, 0))
    print(f"Fault matrix: {objects_for(n)} Sentry objects per stack ({n} services), localsentry 40 req/s and 25 "
          f"concurrent, seed {args.seed}")  # fmt: skip
    print(f"{'cell':<24} {'injected':>8} {'1st up':>6} {'rerun':>5} {'converged':>9} {'dups':>4} {'orphans':>7} "
          f"{'stray':>5} {'missing':>7} {'destroy':>7} {'left':>4}")  # fmt: skip
    for r in results:
        faults = sum((r.get("faults_up") or {}).values()) + sum((r.get("faults_destroy") or {}).values())
        first = yes(r.get("first_up_ok")) if r["kind"] != "kill" else "killed" if r.get("killed") else "done"
        rerun = yes(r.get("rerun_ok")) if r.get("reruns") else "-"
        random_kill = r["kind"] == "kill" and r["mode"] == "random"
        label = f"kill -9 at request {r['kill_at_request']}" if random_kill else r["cell"]
        print(f"{label:<24} {faults if r['kind'] != 'kill' else '-':>8} {first:>6} {rerun:>5} "
              f"{yes(r.get('converged')):>9} {r.get('duplicates', '-'):>4} {r.get('orphans', '-'):>7} "
              f"{r.get('stray_default_keys', '-'):>5} {r.get('missing', '-'):>7} {yes(r.get('destroy_ok')):>7} "
              f"{r.get('left_after_destroy', '-'):>4}")
    print()
    for r in results:
        notes = []
        for key, text in (("first_error", "first up failed"), ("rerun_error", "rerun failed"),
                          ("preview_error", "preview --expect-no-changes then"), ("destroy_error", "destroy failed")):
            if r.get(key):
                notes.append(f"{text}: {r[key]}")
        if r["kind"] == "kill":
            notes.append(
                f"killed after {r['kill_after_seconds']} s with {r['requests_before_kill']} API requests done "
                f"(landed where it claims: {yes(r.get('landed'))}); "
                f"{r['plugins_left_running']} plugin processes kept running and sent {r['requests_after_kill']} more "
                f"requests; {r['pending_operations']} pending operations in state; pulumi cancel: {r['cancel']}"
            )  # fmt: skip
            if r.get("state_after_kill"):
                notes.append(f"stack export right after the kill failed: {r['state_after_kill']}")
            if r.get("state_repair"):
                rep = r["state_repair"]
                notes.append(f"state repair: removed {rep['removed_empty_files']}, then up ok={yes(rep['up_ok'])}"
                             + (f"; error: {rep['error']}" if rep.get("error") else ""))  # fmt: skip
            if r.get("recovery_with_adopt_existing"):
                rec = r["recovery_with_adopt_existing"]
                notes.append(f"recovery with adoptExisting=true for one up: converged={yes(rec['converged'])}, "
                             f"duplicates {rec['duplicates']}, orphans {rec['orphans']}, stray default keys "
                             f"{rec['stray_default_keys']}, missing {rec['missing']}"
                             + (f"; error: {rec['error']}" if rec.get("error") else ""))  # fmt: skip
        if r.get("inventory", {}).get("details"):
            notes.append("objects: " + "; ".join(r["inventory"]["details"][:6]))
        if r.get("left_details"):
            notes.append("left after destroy: " + "; ".join(r["left_details"]))
        if notes:
            print(f"{r['cell']}:")
            for note in notes:
                print(f"    {note}")
    bad = [r["cell"] for r in results if not r.get("converged") or r.get("duplicates") or r.get("orphans")]
    missed = [r["cell"] for r in results if r["kind"] == "kill" and not r.get("landed")]
    print(f"kills that did not land where they claim: {len(missed)}" + (f" ({', '.join(missed)})" if missed else ""))
    print(f"\ncells that did not converge in one rerun or left duplicates/orphans: {len(bad)} of {len(results)}"
          + (f" ({', '.join(bad)})" if bad else ""))  # fmt: skip
    emit({
        "benchmark": "faults", "services": n, "objects": objects_for(n), "seed": args.seed, "results": results,
        "not_converged": bad, "kills_not_landed": missed, "seconds": round(time.perf_counter() - started, 1),
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
