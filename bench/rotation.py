"""Benchmark: DSN rotation under load on the compose driver and on the swarm driver, side by side. Not a test.

For each driver it deploys the reference app's dev stack (real CLI, real containers, real localsentry), then
drives the backend with paced client threads (alternating errors and traced requests). It measures, in one
run, the events per second the app sustains (a) with no rotation and (b) during a full `rotate-dsn start`
(incl. verify) -> `finish`, the requests refused (connection errors: nothing listened) and the events lost
(must be 0): every event the traffic caused must be stored by localsentry, accepted by the old or the new key.
The backend and worker use `dsnReload: file` (the reference app's default), so a rotation should refuse 0.

The swarm driver runs on a single-node swarm that this script creates when the engine is in none (and leaves
afterwards), with `swarmEndpointMode: dnsrr` and `swarmPublishMode: host` (no IPVS on this kernel; see
tests/e2e/swarm_support.py). `--drivers compose` or `--drivers swarm` runs one of them.

Prints the figures and, as its last line, a JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.stack_support import AppStack, BackendTraffic, copy_project  # noqa: E402
from tests.e2e.swarm_support import make_swarm_stack, remove_stack, sentry_for_swarm, single_node_swarm  # noqa: E402
from tests.support.localsentry import LocalSentry  # noqa: E402

DRIVERS = ("compose", "swarm")


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


def wait_up(url: str, timeout: float = 120) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.5)


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


@contextlib.contextmanager
def deployed(driver: str, tmp: Path) -> Iterator[tuple[AppStack, LocalSentry]]:
    """The dev stack on `driver`, up and answering; destroyed (and its swarm left, if created) afterwards."""
    with contextlib.ExitStack() as cleanup:
        if driver == "swarm":
            swarm = cleanup.enter_context(single_node_swarm())
            ls = sentry_for_swarm(tmp / "ls", swarm)
        else:
            ls = LocalSentry.start(tmp / "ls")
        cleanup.callback(ls.stop)
        stack = AppStack.create(copy_project(tmp / "proj", ls), "dev", f"bench-{uuid.uuid4().hex[:6]}")
        if driver == "swarm":
            make_swarm_stack(stack)
            name = stack.run("config", "get", "sentry-stacks:composeProject").stdout.strip()
            cleanup.callback(remove_stack, name)
        cleanup.callback(stack.run, "destroy", "--yes", check=False)
        stack.up()
        if driver == "compose":
            stack.wait_healthy()
        wait_up(f"{stack.url('backend')}/api/health/")
        yield stack, ls


def measure(driver: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-rotation-{driver}-"))
    with deployed(driver, tmp) as (stack, ls):
        project = stack.outputs()["sentryProjects"]["backend"]
        run = f"bench-{driver}-{uuid.uuid4().hex[:6]}"

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
        timeouts = sum(t.timeouts for t in during)
        refused_base = sum(t.refused for t in base)

        keys = stack.outputs(show_secrets=True)["sentryKeys"]["backend"]
        deadline = time.monotonic() + 90
        while True:
            items, by_key = stored_items(ls, project, {"old": keys["g1"]["id"], "new": keys["g2"]["id"]})
            lost = [e for t in [*base, *during] for e in t.unaccounted(items)]
            if not lost or time.monotonic() > deadline:
                break
            time.sleep(1)
        lost_base = sum(len(t.unaccounted(items)) for t in base)
        discarded: dict[str, int] = {}
        for report in (i["payload"] for i in ls.items(project, type="client_report", limit=10000)):
            for d in report.get("discarded_events") or []:
                reason = f"{d.get('reason')}/{d.get('category')}"
                discarded[reason] = discarded.get(reason, 0) + int(d.get("quantity") or 0)
        return {
            "driver": driver, "events_per_s_baseline": round(base_rate, 1),
            "events_per_s_during_rotation": round(rot_rate, 1), "ratio": round(rot_rate / base_rate, 3),
            "rotation_seconds": round(elapsed, 1), "refused_requests": refused, "timed_out_requests": timeouts,
            "refused_requests_before_rotation": refused_base, "events_sent": sum(t.sent() for t in [*base, *during]),
            "old_key_events": by_key["old"], "new_key_events": by_key["new"], "events_lost": len(lost),
            "events_lost_before_rotation": lost_base, "sdk_discarded": discarded,
            "lost_examples": sorted(lost)[:6],
        }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=2, help="client threads (default 2)")
    ap.add_argument("--rate", type=float, default=60.0,
                    help="requests per second the clients aim at in all (default 60; 0 = as fast as they can)")
    ap.add_argument("--baseline-seconds", type=float, default=20.0)
    ap.add_argument("--quiet", type=int, default=10, help="quiet window of finish, seconds")
    ap.add_argument("--drivers", default=",".join(DRIVERS), help="comma-separated: compose,swarm (default both)")
    args = ap.parse_args()
    drivers = [d.strip() for d in args.drivers.split(",") if d.strip()]
    if not drivers or set(drivers) - set(DRIVERS):
        raise SystemExit(f"--drivers must name {' and/or '.join(DRIVERS)}, got {args.drivers!r}")

    results = {driver: measure(driver, args) for driver in drivers}
    aim = f"aiming at {args.rate:.0f}/s" if args.rate else "as fast as they can"
    print(f"{args.clients} clients {aim}; baseline {args.baseline_seconds:.0f}s; quiet window {args.quiet}s")
    rows = [
        ("events/s without rotation", "events_per_s_baseline"),
        ("events/s during a full rotation", "events_per_s_during_rotation"),
        ("ratio during / without", "ratio"),
        ("rotation seconds (start+verify+finish)", "rotation_seconds"),
        ("requests refused during the rotation", "refused_requests"),
        ("requests timed out (10 s) during it", "timed_out_requests"),
        ("events sent", "events_sent"),
        ("stored by the old key", "old_key_events"),
        ("stored by the new key", "new_key_events"),
        ("events lost (must be 0)", "events_lost"),
    ]
    print(f"{'':42}" + "".join(f"{d:>12}" for d in drivers))
    for label, key in rows:
        print(f"{label:42}" + "".join(f"{results[d][key]!s:>12}" for d in drivers))
    for d in drivers:
        print(f"{d}: SDK client reports of discarded events: {results[d]['sdk_discarded'] or 'none'}")
        if results[d]["events_lost"]:
            print(f"{d}: lost e.g. {results[d]['lost_examples']}")
    print(json.dumps({
        "benchmark": "rotation", "clients": args.clients, "target_rate": args.rate,
        **{f"{d}_{k}": v for d in drivers for k, v in results[d].items()
           if k in ("refused_requests", "events_lost", "events_per_s_during_rotation", "ratio")},
        "drivers": results,
    }))


if __name__ == "__main__":
    main()
