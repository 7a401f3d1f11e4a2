"""The HTTP front end: a threaded stdlib server with keep-alive, feeding requests to `App.handle`."""

from __future__ import annotations

import json
import logging
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from localsentry.app import App, Config

log = logging.getLogger("localsentry")
MAX_BODY = 50 * 1024 * 1024


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    app: App

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self.active = 0
        self.active_lock = threading.Lock()
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid the delayed-ACK stall
    server: Server

    def version_string(self) -> str:
        return "localsentry"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        with self.server.active_lock:
            self.server.active += 1
        try:
            self._dispatch()
        finally:
            with self.server.active_lock:
                self.server.active -= 1

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            self._send(413, {"detail": "request body too large"}, {}, "application/json")
            self.close_connection = True
            return
        outcome = self.server.app.handle(self.command, self.path, self.headers, body, self.client_address[0])
        if outcome.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        resp = outcome.response
        self._send(resp.status, None, resp.headers, resp.content_type, resp.payload())

    def _send(
        self, status: int, body: Any, headers: dict[str, str], content_type: str, raw: bytes | None = None
    ) -> None:
        payload = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        if payload or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle


def serve(config: Config, announce: bool = True) -> int:
    """Run until SIGTERM/SIGINT. Prints the info JSON as the first stdout line."""
    app = App(config)
    server = Server((config.host, config.port), app)
    port = server.server_address[1]
    shown_host = config.host if config.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if not config.url:
        app.url = f"http://{shown_host}:{port}"
    app.bootstrap()
    app.start_workers()
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)  # before announcing: a client may stop us right after the first line
    signal.signal(signal.SIGINT, stop)
    info = app.info()
    text = json.dumps(info)
    if config.info_file:
        path = Path(config.info_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(path)
    if announce:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        deadline = time.monotonic() + 5
        while server.active and time.monotonic() < deadline:
            time.sleep(0.02)
        server.server_close()
        app.close()
        if config.info_file:
            Path(config.info_file).unlink(missing_ok=True)
    return 0
