"""A loopback HTTP server that answers with Sentry's own response bodies (recorded or published examples).

The providers talk to it through their real client (sessions, retries, pagination), so a test sees exactly
what a provider does with a body Sentry sends: ``server.add("GET", "/api/0/...", body)`` (a route with
``?query`` matches only that exact query, e.g. one page of a cursor-paginated list). Requests are kept
in ``server.requests`` as ``(method, path, json_body)``. Unrouted paths answer 404 like Sentry.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class ReplaySentry:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], tuple[int, Any, dict[str, str]]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with replay._lock:
                    replay.requests.append((self.command, path, json.loads(raw) if raw else None))
                    missing = (404, {"detail": "The requested resource does not exist"}, {})
                    status, body, headers = replay.routes.get(
                        (self.command, f"{path}?{parts.query}"), replay.routes.get((self.command, path), missing))
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay-sentry", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, method: str, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.routes[(method.upper(), path)] = (status, body, dict(headers or {}))

    def writes(self) -> list[tuple[str, str, Any]]:
        with self._lock:
            return [r for r in self.requests if r[0] != "GET"]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


__all__ = ["ReplaySentry"]
