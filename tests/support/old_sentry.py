"""A Sentry older than 26.7, for tests: a localsentry behind a proxy that answers 404 where the workflow and
detector APIs would be (as such a release does: it has no such routes), and passes everything else through."""

from __future__ import annotations

import http.server
import re
import threading
from typing import Any

import requests

NO_SUCH_ROUTE = re.compile(r"^/api/0/organizations/[^/]+/(workflows|detectors)/|^/api/0/organizations/[^/]+/"
                           r"projects/[^/]+/detectors/")


class OldSentry:
    """Proxy to `target` (a localsentry URL) on a free local port: ``url``; stop with :meth:`stop`."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if NO_SUCH_ROUTE.match(self.path.split("?", 1)[0]):
                    self._send(404, b'{"detail": "The requested resource does not exist"}', {})
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                forwarded = requests.request(self.command, proxy.target + self.path, headers=headers, data=body,
                                             allow_redirects=False, timeout=30)
                kept = {k: v for k, v in forwarded.headers.items()
                        if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")}
                self._send(forwarded.status_code, forwarded.content, kept)

            def _send(self, status: int, content: bytes, headers: dict[str, Any]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


__all__ = ["OldSentry"]
