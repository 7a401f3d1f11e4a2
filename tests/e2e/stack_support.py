"""The repository's own Pulumi project (dev/prod stacks of the reference app) in a throw-away copy.

The copy holds Pulumi.yaml, the stack files and __main__.py (the `infra` package, with its templates, comes from
the venv, installed editable); the venv is linked. Nothing of the working tree's own stacks comes along: the stack
files lose their secrets-provider lines (the salt of a developer's `make demo` belongs to another passphrase),
and `state/`, `.localsentry/` and `deploy/` are never copied. Sentry is a real localsentry process, found by the program
through `.localsentry/info.json` as the embedded default. Ports are moved to free ones so tests never clash
with a running `make demo`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from infra.workspace import without_stack_local_keys
from tests.e2e.docker_support import DEFAULT_PREFIX, demo_images, image_prefix
from tests.e2e.pulumi_support import ROOT, PulumiProject, require_langhost, require_pulumi
from tests.support.localsentry import DESKTOP_UA, LocalSentry
from tests.support.ports import free_port

__all__ = ["DESKTOP_UA", "AppStack", "BackendTraffic", "copy_project", "free_port", "item_tags", "refused",
           "wait_http"]
COPIED = ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "__main__.py")


def copy_project(dest: Path, ls: LocalSentry, source: Path = ROOT) -> Path:
    """A copy of the Pulumi project in `source` (this repository's, an example's, or another release's worktree)
    that uses this repository's venv (the toolkit installed) and `ls` as its embedded Sentry."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        text = (source / name).read_text(encoding="utf-8")
        (dest / name).write_text(without_stack_local_keys(text) if name != "Pulumi.yaml" else text, encoding="utf-8")
    if (source / "templates").is_dir():  # a release before the templates moved into infra/templates/
        shutil.copytree(source / "templates", dest / "templates")
    (dest / "venv").symlink_to(ROOT / "venv")
    info_dir = dest / ".localsentry"
    info_dir.mkdir(mode=0o700)
    info = dict(ls.info)
    info["token_file"] = str(ls.token_file)
    (info_dir / "info.json").write_text(json.dumps(info))
    return dest


class AppStack(PulumiProject):
    """One stack (dev or prod) of the reference app, on free ports, with a fixed release."""

    ports: dict[str, int]

    @classmethod
    def create(cls, workdir: Path, stack: str, release: str, compose_prefix: str = "") -> AppStack:
        require_pulumi()
        require_langhost()
        proj = cls(workdir, stack=stack)
        proj.init()
        proj.ports = {name: free_port() for name in ("backend", "frontend", "redis")}
        for name, port in proj.ports.items():
            proj.run("config", "set", "--path", f"sentry-stacks:serviceOverrides.{name}.port", str(port))
        proj.config_set("sentry-stacks:release", release)
        # containers of this copy never collide with `make demo` or another test's stack
        proj.config_set("sentry-stacks:composeProject", f"e2e{stack}{uuid.uuid4().hex[:8]}")
        if image_prefix() != DEFAULT_PREFIX:  # this worktree's own demo images (SENTRY_STACKS_IMAGE_PREFIX)
            images = demo_images()
            for svc, image in (("backend", images.backend), ("worker", images.backend), ("beat", images.backend),
                               ("frontend", images.frontend), ("redis", images.redis)):  # fmt: skip
                proj.run("config", "set", "--path", f"sentry-stacks:serviceOverrides.{svc}.image", image)
        return proj

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def containers(self, project: str | None = None) -> list[dict[str, Any]]:
        project = project or self.outputs().get("composeProject")
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        if not ids:
            return []
        return list(json.loads(subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True,
                                              check=True).stdout))

    def wait_healthy(self, timeout: float = 120) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.containers()
            health = {c["Name"]: c["State"].get("Health", {}).get("Status") for c in found}
            if found and all(v == "healthy" for v in health.values()):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"containers not healthy in {timeout}s: {health}")
            time.sleep(1)


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and everything it wraps (requests -> urllib3 -> socket errors, by args, cause and reason)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [a for a in (*e.args, e.__cause__, e.__context__, getattr(e, "reason", None))
                 if isinstance(a, BaseException)]
    return seen


def refused(exc: BaseException) -> bool:
    """Nothing listened: the connection was refused (a container being replaced, a stopped service)."""
    return any(isinstance(e, ConnectionRefusedError) for e in _causes(exc))


def _timed_out(exc: BaseException) -> bool:
    return any(isinstance(e, TimeoutError | requests.Timeout) for e in _causes(exc))


class BackendTraffic(threading.Thread):
    """Requests to the backend, alternating debug errors (event id from X-Sentry-Event-Id) and traced hellos.

    With the default pause, about 20 requests per second; `pause=0` sends as fast as one client can.
    """

    def __init__(self, base: str, run: str, pause: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.base, self.run_id, self.pause = base, run, pause
        self.errors: list[str] = []
        self.transactions: list[str] = []
        self.refused = 0  # no connection: nothing listened (a container being replaced)
        self.timeouts = 0  # connected (or connecting) but no answer within 10 s: an overloaded machine
        # a kept-alive connection the server had closed (its idle keep-alive ran out while this thread was
        # starved): retried once on a new connection, as browsers and HTTP clients do for a GET
        self.dropped: list[str] = []
        self.failures: list[str] = []  # any other failed request
        self.stop = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            i += 1
            request_id = f"{self.run_id}-{i}"
            path = "/api/core/sentry-debug/" if i % 2 else "/api/core/hello/"
            try:
                try:
                    response = session.get(self.base + path, headers={"X-Request-Id": request_id}, timeout=10)
                except requests.ConnectionError as exc:
                    if refused(exc) or _timed_out(exc):
                        raise
                    self.dropped.append(f"{type(exc).__name__}: {exc}")
                    session.close()
                    response = session.get(self.base + path, headers={"X-Request-Id": request_id}, timeout=10)
            except requests.Timeout:
                self.timeouts += 1  # the request may have reached the app: its event may or may not exist
                time.sleep(max(self.pause, 0.05))
                continue
            except requests.RequestException as exc:
                if not refused(exc):  # failed on a fresh connection too: the app broke it (tests assert none)
                    self.failures.append(f"{request_id}: {type(exc).__name__}: {exc}")
                else:
                    self.refused += 1  # container being replaced: no request reached the app, no event
                time.sleep(max(self.pause, 0.05))
                continue
            if response.status_code == 500 and response.headers.get("X-Sentry-Event-Id"):
                self.errors.append(response.headers["X-Sentry-Event-Id"])
            elif response.status_code == 200:
                self.transactions.append(request_id)
            time.sleep(self.pause)

    def sent(self) -> int:
        return len(self.errors) + len(self.transactions)

    def unaccounted(self, items: list[dict[str, Any]]) -> list[str]:
        """Events this traffic caused that are not among `items` (localsentry's stored items of the project)."""
        errors = {str(i["payload"].get("event_id", "")).replace("-", "") for i in items if i["type"] == "event"}
        transactions = {str(item_tags(i["payload"]).get("request_id")) for i in items if i["type"] == "transaction"}
        return [e for e in self.errors if e not in errors] + [t for t in self.transactions if t not in transactions]


def item_tags(payload: dict[str, Any]) -> dict[str, Any]:
    tags = payload.get("tags") or {}
    return tags if isinstance(tags, dict) else {t[0]: t[1] for t in tags}


def wait_http(url: str, timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(url, timeout=5)
            if response.status_code < 500:
                return response
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer in {timeout}s")
        time.sleep(0.5)
