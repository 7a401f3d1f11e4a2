"""Benchmark (not a test): what source maps cost per release, and what symbolication costs at ingest.

    venv/bin/python bench/sourcemaps.py [--folder dist/sourcemaps/frontend] [--events 300]

Against a real localsentry with Sentry's API limits (40 requests/s, 25 concurrent), the SourceMaps resource's
provider uploads the reference frontend's production build (its hidden maps with debug ids, written by
`scripts/build-frontend`; `make images` or `scripts/build-images` makes them) with the real sentry-cli and an
`org:ci` token, as `pulumi up` does:

1. a new build (the first upload of a release): requests by endpoint, bytes, seconds;
2. a rerun of the same stack: the engine's diff, no request;
3. a second stack of the same release and build from the same project directory (the upload record): no request;
4. the same from another machine (no record): sentry-cli finds every chunk in Sentry;

then the ingest of `--events` error events one at a time (as an SDK sends them): JavaScript events whose frames are
resolved through those maps (debug id), JavaScript events of a project without maps (each frame says why), and
Python events (nothing to do), with the median and 95th percentile milliseconds per event and the ratios.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pulumi.dynamic import Config, ConfigureRequest  # noqa: E402

from infra.sentry.source_maps import SourceMapsProvider  # noqa: E402
from infra.sentry.source_maps_upload import UploadRecord, bundle_hash, upload_files  # noqa: E402
from tests.support.localsentry import LocalSentry  # noqa: E402

MESSAGE = "Sentry Stacks frontend test error"
DEBUG_ID = re.compile(r"//# debugId=([0-9a-f-]{36})")


def provider(ls: LocalSentry, token: str, record: Path) -> SourceMapsProvider:
    p = SourceMapsProvider()
    p.configure(ConfigureRequest(Config({"sentry:baseUrl": ls.url, "sentry:organization": ls.org,
                                         "sentry:token": ls.token}, "sentry-stacks")))
    p.upload_token = token  # as the plugin gives its `uploadToken` input
    p.record = UploadRecord(record)
    return p


def counted(ls: LocalSentry, action: Any) -> tuple[Any, dict[str, int], float]:
    ls.reset_stats()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    calls = {k: v for k, v in ls.stats()["by_route"].items() if " /api/0/" in k}
    return result, calls, seconds


def js_event(folder: Path, origin: str) -> dict[str, Any]:
    """The "Test Sentry" button's error as the browser SDK sends it: the page chunk's frame, with its debug id."""
    script = next(p for p in folder.rglob("*.js") if MESSAGE in p.read_text())
    text = script.read_text()
    at = text.rfind("throw", 0, text.index(MESSAGE))  # the minified `throw` of the button's handler
    line, col = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
    url = f"{origin}/{script.relative_to(folder).as_posix()}"
    debug_id = DEBUG_ID.search(text)
    assert debug_id, f"{script} has no debug id: build it with scripts/build-frontend"
    frames = [{"filename": url, "function": "HTMLButtonElement.le", "lineno": line, "colno": col, "in_app": True}]
    return {"platform": "javascript", "level": "error", "release": "bench@1", "environment": "bench",
            "exception": {"values": [{"type": "Error", "value": "Sentry Stacks frontend test error",
                                      "stacktrace": {"frames": frames}}]},
            "debug_meta": {"images": [{"type": "sourcemap", "code_file": url, "debug_id": debug_id.group(1)}]}}


def py_event() -> dict[str, Any]:
    frames = [{"filename": f"app/module_{n}.py", "abs_path": f"/app/module_{n}.py", "function": f"handler_{n}",
               "lineno": 10 + n, "in_app": True} for n in range(3)]  # fmt: skip
    return {"platform": "python", "level": "error", "release": "bench@1", "environment": "bench",
            "exception": {"values": [{"type": "ValueError", "value": "bad", "stacktrace": {"frames": frames}}]}}


def ingest(ls: LocalSentry, project: str, event: dict[str, Any], count: int) -> list[float]:
    key = ls.keys(project)[-1]
    url = f"{ls.url}/api/{key['projectId']}/store/"
    headers = {"X-Sentry-Auth": f"Sentry sentry_key={key['public']}, sentry_version=7"}
    session = requests.Session()
    times: list[float] = []
    for _ in range(count + 20):
        body = json.dumps({**event, "event_id": uuid.uuid4().hex})
        started = time.perf_counter()
        answer = session.post(url, data=body, headers=headers, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
    return times[20:]  # the first 20 warm caches and connections


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", default=str(ROOT / "dist" / "sourcemaps" / "frontend"))
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    folder = Path(args.folder)
    digest = bundle_hash(folder)
    if digest is None:
        print(f"no source maps in {folder}: build the frontend first (scripts/build-images)", file=sys.stderr)
        return 2
    size = sum((folder / f).stat().st_size for f in upload_files(folder))
    with tempfile.TemporaryDirectory() as tmp, LocalSentry.start(Path(tmp)) as ls:
        project = str(ls.create_project(name="bench-frontend", platform="javascript")["slug"])
        token = ls.create_token(["org:ci"], kind="org")
        props = {"project": project, "release": "bench@1", "path": str(folder), "bundleHash": digest,
                 "urlPrefix": "~/", "dist": None}  # fmt: skip
        here = provider(ls, token, Path(tmp) / "here.jsonl")
        created, first, first_s = counted(ls, lambda: here.create(props))
        _, rerun, rerun_s = counted(ls, lambda: here.diff(created.id, created.outs, props))
        _, second, second_s = counted(ls, lambda: provider(ls, token, Path(tmp) / "here.jsonl").create(props))
        _, other, other_s = counted(ls, lambda: provider(ls, token, Path(tmp) / "there.jsonl").create(props))
        event = js_event(folder, "http://127.0.0.1:8080")
        resolved = ingest(ls, project, event, args.events)
        stored = ls.items(project, type="event", limit=1)[0]["payload"]
        frame = stored["exception"]["values"][-1]["stacktrace"]["frames"][-1]
        assert frame.get("function") == "testSentry" and frame["data"]["resolved_with"] == "debug-id", frame
        bare = str(ls.create_project(name="bench-nomaps", platform="javascript")["slug"])
        unresolved = ingest(ls, bare, event, args.events)
        python = str(ls.create_project(name="bench-python", platform="python")["slug"])
        plain = ingest(ls, python, py_event(), args.events)
    rows = [("new build (first upload)", first, first_s), ("rerun of the stack", rerun, rerun_s),
            ("second stack, same project directory", second, second_s),
            ("second stack, another machine", other, other_s)]  # fmt: skip
    print(f"build: {len(upload_files(folder))} files, {size / 1024:.0f} KiB ({folder})")
    for label, calls, seconds in rows:
        detail = ", ".join(f"{k.split(' ', 1)[0]} {k.rsplit('/', 2)[-2]} x{v}" for k, v in sorted(calls.items()))
        print(f"{label:38} {sum(calls.values()):2d} requests in {seconds:6.2f} s  {detail}")
    med = {name: statistics.median(v) for name, v in (("resolved", resolved), ("unresolved", unresolved),
                                                      ("python", plain))}  # fmt: skip
    print(f"ingest, {args.events} events one at a time, ms per event (median / p95):")
    for name, values in (("JavaScript, resolved by debug id", resolved), ("JavaScript, no maps (js_no_source)",
                                                                        unresolved), ("Python (nothing to do)", plain)):
        print(f"  {name:36} {statistics.median(values):6.2f} / {p95(values):6.2f}")
    print(f"ratio resolved/python: {med['resolved'] / med['python']:.2f}; "
          f"unresolved/python: {med['unresolved'] / med['python']:.2f}")
    result = {
        "files": len(upload_files(folder)), "kib": round(size / 1024), "first_requests": sum(first.values()),
        "first_seconds": round(first_s, 2), "rerun_requests": sum(rerun.values()),
        "second_stack_requests": sum(second.values()), "other_machine_requests": sum(other.values()),
        "other_machine_seconds": round(other_s, 2), "ingest_ms_resolved": round(med["resolved"], 2),
        "ingest_ms_unresolved": round(med["unresolved"], 2), "ingest_ms_python": round(med["python"], 2),
    }
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
