"""Benchmark: DSN rotation under load (issue 7, item 5). Not a test.

Deploys the reference app's dev stack (real CLI, real containers, real localsentry), then drives the backend
with client threads sending as fast as they can (alternating errors and traced requests). It measures, in one
run, the events per second the app sustains (a) with no rotation and (b) during a full
`rotate-dsn start` (incl. verify) -> `finish`, and counts events lost (must be 0): every event the traffic
caused must be stored by localsentry, accepted by the old or the new key.

Prints the figures and, as its last line, a JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.stack_support import AppStack, BackendTraffic, copy_project  # noqa: E402
from tests.support.localsentry import LocalSentry  # noqa: E402


def drive(stack: AppStack, run: str, clients: int, rate: float) -> list[BackendTraffic]:
    """`clients` threads aiming at `rate` requests per second in all (0: as fast as they can)."""
    pause = clients / rate if rate > 0 else 0.0
    traffic = [BackendTraffic(stack.url("backend"), f"{run}-c{i}", pause=pause) for i in range(clients)]
    for t in traffic:
        t.start()
    return traffic


def stop(traffic: list[BackendTraffic]) -> None:
    for t in traffic:
        t.stop.set()
    for t in traffic:
        t.join()


def rotate(stack: AppStack, *args: str) -> None:
    cmd = [str(ROOT / "venv" / "bin" / "python"), str(ROOT / "scripts" / "rotate-dsn"), "--stack", stack.stack,
           "--cwd", str(stack.workdir), *args]
    proc = subprocess.run(cmd, env=stack.env(), capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(f"rotate-dsn {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def stored_items(ls: LocalSentry, project: str, keys: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every event and transaction stored for the project, per key (pages of at most 10,000 per query)."""
    items: list[dict[str, Any]] = []
    by_key = {}
    for label, key in keys.items():
        found = []
        for kind in ("event", "transaction"):
            batch = ls.items(project, environment="development", type=kind, key=key, limit=10000)
            if len(batch) >= 10000:
                raise SystemExit("more than 10,000 items of one kind and key: lower --baseline-seconds")
            found += batch
        by_key[label] = len(found)
        items += found
    return items, by_key


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=2, help="client threads (default 2)")
    ap.add_argument("--rate", type=float, default=60.0,
                    help="requests per second the clients aim at in all (default 60; 0 = as fast as they can)")
    ap.add_argument("--baseline-seconds", type=float, default=20.0)
    ap.add_argument("--quiet", type=int, default=10, help="quiet window of finish, seconds")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-rotation-"))
    ls = LocalSentry.start(tmp / "ls")
    stack = AppStack.create(copy_project(tmp / "proj", ls), "dev", f"bench-{uuid.uuid4().hex[:6]}")
    try:
        stack.up()
        stack.wait_healthy()
        project = stack.outputs()["sentryProjects"]["backend"]
        run = f"bench-{uuid.uuid4().hex[:6]}"

        base = drive(stack, run + "-base", args.clients, args.rate)
        t0 = time.monotonic()
        time.sleep(args.baseline_seconds)
        stop(base)
        base_rate = sum(t.sent() for t in base) / (time.monotonic() - t0)

        during = drive(stack, run + "-rot", args.clients, args.rate)
        t1 = time.monotonic()
        rotate(stack, "--service", "backend", "--verify-timeout", "60", "start")
        time.sleep(args.quiet + 12)  # quiet window + one 10 s key-stats bucket: the old key has gone quiet
        rotate(stack, "--service", "backend", "--grace", "0s", "--quiet", f"{args.quiet}s", "finish")
        elapsed = time.monotonic() - t1
        stop(during)
        rot_rate = sum(t.sent() for t in during) / elapsed
        refused = sum(t.refused for t in during)

        keys = stack.outputs(show_secrets=True)["sentryKeys"]["backend"]
        deadline = time.monotonic() + 90
        while True:
            items, by_key = stored_items(ls, project, {"old": keys["g1"]["id"], "new": keys["g2"]["id"]})
            lost = [e for t in [*base, *during] for e in t.unaccounted(items)]
            if not lost or time.monotonic() > deadline:
                break
            time.sleep(1)
        sent = sum(t.sent() for t in [*base, *during])
        lost_base = sum(len(t.unaccounted(items)) for t in base)
        reports = [i["payload"] for i in ls.items(project, type="client_report", limit=10000)]
        discarded: dict[str, int] = {}
        for report in reports:
            for d in report.get("discarded_events") or []:
                reason = f"{d.get('reason')}/{d.get('category')}"
                discarded[reason] = discarded.get(reason, 0) + int(d.get("quantity") or 0)
        aim = f"aiming at {args.rate:.0f}/s" if args.rate else "as fast as they can"
        print(f"events/s without rotation: {base_rate:.1f} ({args.clients} clients {aim}, "
              f"{args.baseline_seconds:.0f}s)")
        print(f"events/s during a full rotation (start+verify+finish, {elapsed:.0f}s): {rot_rate:.1f} "
              f"= {rot_rate / base_rate:.2f} x the rate without rotation")
        print(f"requests refused while containers were replaced: {refused}")
        print(f"events sent {sent}, stored by the old key {by_key['old']}, by the new key {by_key['new']}, "
              f"lost {len(lost)} (must be 0; {lost_base} of them before the rotation started)")
        print(f"SDK client reports of discarded events: {discarded or 'none'}")
        if lost:
            lost_tx = [x for x in lost if "-rot-" in x]
            print(f"lost: {len(lost) - len(lost_tx)} errors, {len(lost_tx)} transactions; e.g. {sorted(lost_tx)[:3]}"
                  f" ... {sorted(lost_tx)[-3:]}")
        print(json.dumps({
            "benchmark": "rotation", "clients": args.clients, "target_rate": args.rate,
            "events_per_s_baseline": round(base_rate, 1),
            "events_per_s_during_rotation": round(rot_rate, 1), "ratio": round(rot_rate / base_rate, 3),
            "rotation_seconds": round(elapsed, 1), "refused_requests": refused, "events_sent": sent,
            "old_key_events": by_key["old"], "new_key_events": by_key["new"], "events_lost": len(lost),
            "events_lost_before_rotation": lost_base, "sdk_discarded": discarded,
        }))
    finally:
        stack.run("destroy", "--yes", check=False)
        ls.stop()


if __name__ == "__main__":
    main()
