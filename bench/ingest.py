"""Benchmark (not a test): localsentry envelope ingest vs a bare handler that only reads the body.

    venv/bin/python bench/ingest.py [--envelopes 3000] [--threads 8] [--db file|memory]

Both servers run as separate processes on the same stdlib HTTP stack; the same client threads (keep-alive
http.client connections) post the same SDK-sized error envelopes to each, in the same run. Prints envelopes per
second accepted by localsentry, the bare handler's rate and the ratio between them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.localsentry import LocalSentry  # noqa: E402


class Bare(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as localsentry's handler

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"id":"0"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def serve_bare() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Bare)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def make_envelope(i: int) -> bytes:
    event_id = uuid.uuid4().hex
    context = {"context_line": "    x = compute(value)", "pre_context": ["def f():"], "post_context": ["  return"]}
    frames = [
        {"filename": f"app/module_{n}.py", "function": f"handler_{n}", "lineno": 10 + n, "in_app": True, **context}
        for n in range(12)
    ]
    event = {
        "event_id": event_id, "level": "error", "platform": "python", "environment": "bench", "release": "bench@1",
        "timestamp": time.time(), "server_name": "bench", "sdk": {"name": "sentry.python", "version": "2.75.0"},
        "exception": {"values": [{"type": "ValueError", "value": f"bad value {i}", "stacktrace": {"frames": frames}}]},
        "tags": {"bench": "yes"}, "user": {"id": str(i)}, "contexts": {"runtime": {"name": "CPython"}},
    }  # fmt: skip
    payload = json.dumps(event).encode()
    header = json.dumps({"event_id": event_id, "sent_at": "2026-01-01T00:00:00Z"}).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    return header + b"\n" + item + b"\n" + payload + b"\n"


def blast(url: str, path: str, headers: dict[str, str], bodies: list[bytes], threads: int) -> tuple[float, int]:
    """Post every body once over `threads` keep-alive connections; returns (seconds, 200 answers)."""
    parts = urlsplit(url)
    ok = [0] * threads

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        for body in bodies[n::threads]:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            ok[n] += resp.status == 200
        conn.close()

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start, sum(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envelopes", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--db", choices=["file", "memory"], default="file")
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        serve_bare()
        return 0
    bodies = [make_envelope(i) for i in range(args.envelopes)]
    warmup = [make_envelope(i) for i in range(100)]
    with tempfile.TemporaryDirectory() as tmp:
        db = ":memory:" if args.db == "memory" else None
        with LocalSentry.start(Path(tmp), db=db, rate_limit=0, concurrent_limit=0) as ls:
            project = ls.create_project(name="bench")
            key = ls.keys(project["slug"])[0]["public"]
            path = f"/api/{project['id']}/envelope/"
            auth = f"Sentry sentry_key={key}, sentry_version=7, sentry_client=bench/1"
            headers = {"Content-Type": "application/x-sentry-envelope", "X-Sentry-Auth": auth}
            blast(ls.url, path, headers, warmup, args.threads)
            seconds, accepted = blast(ls.url, path, headers, bodies, args.threads)
            stored = len(ls.items(project["slug"], type="event", limit=args.envelopes + 200))
        bare = subprocess.Popen([sys.executable, __file__, "--bare-server"], stdout=subprocess.PIPE, text=True)
        try:
            assert bare.stdout is not None
            bare_url = f"http://127.0.0.1:{bare.stdout.readline().strip()}"
            blast(bare_url, path, headers, warmup, args.threads)
            bare_seconds, bare_ok = blast(bare_url, path, headers, bodies, args.threads)
        finally:
            bare.terminate()
            bare.wait()
    rate, bare_rate = accepted / seconds, bare_ok / bare_seconds
    size = sum(len(b) for b in bodies) // len(bodies)
    print(f"envelopes: {args.envelopes} x ~{size} bytes, {args.threads} client threads, db={args.db}, "
          f"cpus={os.cpu_count()}")  # fmt: skip
    print(f"localsentry: {rate:8.0f} envelopes/s accepted ({accepted} answered 200, {stored - 100} stored)")
    print(f"bare handler: {bare_rate:7.0f} envelopes/s (reads the body, answers 200)")
    print(f"ratio localsentry/bare: {rate / bare_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
