#!/usr/bin/env python3
"""The reference frontend's server (standard library only): static files plus runtime config.

Routes: `/` (index.html), `/config.js` (sets window.__SENTRY_STACKS_CONFIG__), `/runtime-config.json`
(the same object), `/health`, and the files under ./static. The config is built from the process
environment on every request, so a new DSN or rate needs a restart with new variables, not a rebuild:

| variable                              | config key                  | default                |
| ------------------------------------- | --------------------------- | ---------------------- |
| SENTRY_DSN                            | dsn                         | null (SDK disabled)    |
| SENTRY_ENVIRONMENT                    | environment                 | development            |
| SENTRY_RELEASE                        | release                     | null                   |
| SENTRY_SAMPLE_RATE                    | sampleRate                  | 1.0                    |
| SENTRY_TRACES_SAMPLE_RATE             | tracesSampleRate            | 0.0                    |
| SENTRY_REPLAYS_SESSION_SAMPLE_RATE    | replaysSessionSampleRate    | 0.0                    |
| SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE   | replaysOnErrorSampleRate    | 0.0                    |
| SENTRY_SEND_DEFAULT_PII               | sendDefaultPii              | false                  |
| SENTRY_DEBUG                          | debug                       | false                  |
| BACKEND_URL                           | backendUrl, and             | http://127.0.0.1:8000  |
|                                       | tracePropagationTargets     |                        |

Rates must be numbers from 0 to 1 and booleans true/false; the server refuses to start otherwise,
naming the variable. It listens on $BIND:$PORT (default 0.0.0.0:8080).
`python3 server.py --healthcheck` exits 0 when /health answers 200 (the image's HEALTHCHECK);
`python3 server.py --print-config` prints the runtime config with the DSN's key masked.
"""

from __future__ import annotations

import json
import math
import mimetypes
import os
import signal
import socket
import sys
import urllib.request
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

STATIC = Path(os.environ.get("STATIC_DIR") or Path(__file__).resolve().parent / "static")
RATES = {
    "sampleRate": ("SENTRY_SAMPLE_RATE", 1.0),
    "tracesSampleRate": ("SENTRY_TRACES_SAMPLE_RATE", 0.0),
    "replaysSessionSampleRate": ("SENTRY_REPLAYS_SESSION_SAMPLE_RATE", 0.0),
    "replaysOnErrorSampleRate": ("SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE", 0.0),
}
BOOLEANS = {"sendDefaultPii": ("SENTRY_SEND_DEFAULT_PII", False), "debug": ("SENTRY_DEBUG", False)}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"
NO_STORE = "no-store"


class ConfigError(ValueError):
    """An environment variable holds a value the page cannot use."""


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip()
    return value or None


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {raw!r}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def runtime_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The object the page reads; raises ConfigError naming the first bad variable."""
    backend_url = (_raw(env, "BACKEND_URL") or DEFAULT_BACKEND_URL).rstrip("/")
    parts = urlsplit(backend_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"BACKEND_URL must be an http(s) URL such as {DEFAULT_BACKEND_URL}, got {backend_url!r}")
    config: dict[str, Any] = {
        "dsn": _raw(env, "SENTRY_DSN"),
        "environment": _raw(env, "SENTRY_ENVIRONMENT") or "development",
        "release": _raw(env, "SENTRY_RELEASE"),
    }
    for key, (name, default) in RATES.items():
        config[key] = _rate(env, name, default)
    for key, (name, flag) in BOOLEANS.items():
        config[key] = _bool(env, name, flag)
    config["backendUrl"] = backend_url
    config["tracePropagationTargets"] = [backend_url]
    return config


def masked(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with the DSN's public key replaced, for logs."""
    out = dict(config)
    dsn = out.get("dsn")
    if dsn:
        parts = urlsplit(dsn)
        out["dsn"] = f"{parts.scheme}://***@{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
    return out


class Handler(BaseHTTPRequestHandler):
    server_version = "sentry-stacks-frontend"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/health":
            self._send(HTTPStatus.OK, b'{"status": "ok", "service": "frontend"}', "application/json", NO_STORE, head)
        elif path in ("/config.js", "/runtime-config.json"):
            try:
                config = runtime_config(os.environ)
            except ConfigError as exc:
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, f"{exc}\n".encode(), "text/plain", NO_STORE, head)
                return
            body = json.dumps(config, indent=2, sort_keys=True)
            if path == "/config.js":
                self._send(
                    HTTPStatus.OK,
                    f"window.__SENTRY_STACKS_CONFIG__ = {body};\n".encode(),
                    "text/javascript",
                    NO_STORE,
                    head,
                )
            else:
                self._send(HTTPStatus.OK, body.encode(), "application/json", NO_STORE, head)
        else:
            self._static(path, head)

    def _static(self, path: str, head: bool) -> None:
        if path in ("/", "/index.html"):
            path = "/index.html"
        root = STATIC.resolve()
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", NO_STORE, head)
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        self._send(HTTPStatus.OK, target.read_bytes(), ctype, "no-cache", head)

    def _send(self, status: HTTPStatus, body: bytes, ctype: str, cache: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.path.startswith("/health"):
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True


def make_server(bind: str, port: int) -> Server:
    Server.address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    return Server((bind, port), Handler)


def healthcheck() -> int:
    bind = os.environ.get("BIND", "0.0.0.0")
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(bind, bind)
    url = f"http://{f'[{host}]' if ':' in host else host}:{os.environ.get('PORT', '8080')}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    if "--healthcheck" in argv:
        return healthcheck()
    try:
        config = runtime_config(os.environ)
        port = int(os.environ.get("PORT") or 8080)
    except (ConfigError, ValueError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if "--print-config" in argv:
        print(json.dumps(masked(config), indent=2, sort_keys=True))
        return 0
    if not (STATIC / "dist" / "app.js").is_file():
        print(f"missing {STATIC}/dist/app.js: run `npm ci && npm run build` in demo/frontend", file=sys.stderr)
        return 2
    bind = os.environ.get("BIND") or "0.0.0.0"
    server = make_server(bind, port)
    signal.signal(signal.SIGTERM, _terminate)  # PID 1 in a container gets no default SIGTERM action
    print(
        f"frontend on http://{bind}:{server.server_address[1]} config {json.dumps(masked(config), sort_keys=True)}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
