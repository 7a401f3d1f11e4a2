#!/usr/bin/env python3
"""Container health check without curl: the web role asks /api/health/, the worker and beat roles check the
heartbeat file their Celery process touches every few seconds. bin/web, bin/worker and bin/beat record the role."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MAX_HEARTBEAT_AGE = 30.0


def web() -> bool:
    bind = os.environ.get("BIND", "0.0.0.0")
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(bind, bind)
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{os.environ.get('PORT', '8000')}/api/health/"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return bool(response.status == 200)
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return False


def worker() -> bool:
    beat = Path(os.environ.get("WORKER_HEARTBEAT_FILE") or Path(tempfile.gettempdir()) / "demo-worker-alive")
    try:
        age = time.time() - beat.stat().st_mtime
    except FileNotFoundError:
        print("unhealthy: the worker has not reported ready yet", file=sys.stderr)
        return False
    if age > MAX_HEARTBEAT_AGE:
        print(f"unhealthy: last worker heartbeat {age:.0f} s ago", file=sys.stderr)
        return False
    return True


def main() -> int:
    role_file = Path(os.environ.get("APP_ROLE_FILE") or Path(tempfile.gettempdir()) / "demo-role")
    role = sys.argv[1] if len(sys.argv) > 1 else (role_file.read_text().strip() if role_file.exists() else "web")
    return 0 if (worker() if role in ("worker", "beat") else web()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
