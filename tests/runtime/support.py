"""Helpers of the runtime packages' tests: app processes on free ports, and reading what they sent back through
Sentry's APIs (localsentry)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from infra.files import write_atomic
from infra.render import dotenv_quote
from tests.support.localsentry import ROOT, LocalSentry
from tests.support.ports import free_port as free_port

APPS = Path(__file__).resolve().parent / "apps"
VENV_BIN = Path(sys.executable).parent


def app_env(**values: str) -> dict[str, str]:
    """The test process's environment without any SENTRY_* (the developer's own), plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env["PYTHONPATH"] = os.pathsep.join([str(APPS), str(ROOT)])
    env.update(values)
    return env


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """A rendered env file as the toolkit writes it (quoted values, atomic replace)."""
    write_atomic(str(path), "# rendered\n" + "".join(f"{k}={dotenv_quote(v)}\n" for k, v in sorted(values.items())))


class App:
    """A process serving HTTP (gunicorn) or not (a Celery worker); its output goes to a log file."""

    def __init__(
        self, cmd: list[str], env: dict[str, str], log: Path, port: int | None = None, cwd: Path = APPS
    ) -> None:
        self.log = log
        self.port = port
        handle = open(log, "ab")
        self.proc = subprocess.Popen(cmd, env=env, cwd=str(cwd), stdout=handle, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # fmt: skip
        handle.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_http(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited ({self.proc.returncode}): {self.output()[-3000:]}")
            try:
                if requests.get(self.url + path, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.url}{path} did not answer in {timeout}s: {self.output()[-3000:]}")

    def wait_output(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in the output: {self.output()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM to the process group (gunicorn and its workers flush on a graceful exit), then wait."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@contextmanager
def running(*apps: App) -> Iterator[None]:
    try:
        yield
    finally:
        for app in apps:
            app.stop()


def gunicorn(wsgi: str, env: dict[str, str], log: Path, workers: int = 1, threads: int = 4) -> App:
    port = free_port()
    cmd = [str(VENV_BIN / "gunicorn"), wsgi, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--threads", str(threads), "--graceful-timeout", "20", "--access-logfile", "-"]  # fmt: skip
    return App(cmd, env, log, port)


def celery_worker(env: dict[str, str], log: Path) -> App:
    cmd = [str(VENV_BIN / "celery"), "-A", "djangoapp.celery_app", "worker", "--pool", "threads", "--concurrency", "2",
           "--without-gossip", "--without-mingle", "--loglevel", "INFO"]  # fmt: skip
    return App(cmd, env, log)


def project_events(ls: LocalSentry, project: str, query: str = "", **params: Any) -> list[dict[str, Any]]:
    """Sentry's project events list (full events), every page."""
    path: str | None = f"/api/0/projects/{ls.org}/{project}/events/"
    args: dict[str, Any] | None = {"full": "1", "query": query, "per_page": "100", **params}
    out: list[dict[str, Any]] = []
    while path:
        resp = ls.api("GET", path, params=args)
        assert resp.status_code == 200, resp.text
        out += resp.json()
        nxt = resp.links.get("next") or {}
        path = nxt.get("url") if nxt.get("results") == "true" else None
        args = None
    return out


def wait_events(
    ls: LocalSentry, project: str, count: int, query: str = "", timeout: float = 30
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = project_events(ls, project, query)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def event_detail(ls: LocalSentry, project: str, event_id: str) -> dict[str, Any]:
    resp = ls.api("GET", f"/api/0/projects/{ls.org}/{project}/events/{event_id.replace('-', '')}/")
    assert resp.status_code == 200, f"event {event_id}: {resp.status_code} {resp.text[:300]}"
    return dict(resp.json())


def tag(event: dict[str, Any], key: str) -> str | None:
    for item in event.get("tags") or []:
        if item.get("key") == key:
            return str(item.get("value"))
    return None


def accepted(ls: LocalSentry, project: str, key_id: str, category: str = "error") -> int:
    """Events accepted under one client key (Sentry's key stats endpoint)."""
    stats = ls.api("GET", f"/api/0/projects/{ls.org}/{project}/keys/{key_id}/stats/",
                   params={"resolution": "1h", "category": category}).json()  # fmt: skip
    return sum(int(b["accepted"]) for b in stats)


def new_key(ls: LocalSentry, project: str, name: str) -> dict[str, Any]:
    resp = ls.api("POST", f"/api/0/projects/{ls.org}/{project}/keys/", json={"name": name})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())
