"""Start and drive a real localsentry process from tests.

    ls = LocalSentry.start(tmp_path, rate_limit=0)
    resp = ls.api("GET", f"/api/0/organizations/{ls.org}/")
    project = ls.create_project()            # unique name, via the team endpoint
    dsn = ls.dsn(project["slug"])            # public DSN of its "Default" key
    ls.stop()

The admin token (all scopes) is read from the token file the server writes; it is never printed.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
_DEFAULT = object()
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# A desktop browser's user agent for pages that report to a JavaScript project: Sentry's web-crawlers inbound
# filter (on by default for JavaScript projects) drops events whose user agent says HeadlessChrome.
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def chromium_path() -> str | None:
    """Debian's chromium binary, or None (tests skip locally and fail when CI=true)."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class LocalSentryError(RuntimeError):
    pass


class LocalSentry:
    def __init__(self, workdir: Path, args: list[str], db: Path | str, env: dict[str, str] | None) -> None:
        self.workdir = workdir
        self.args = args
        self.db = db
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.url = ""
        self.org = ""
        self.team = ""
        self.token = ""
        self.token_file = Path()
        self.port = 0
        self._local = threading.local()

    # -- lifecycle -----------------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        tmp_path: Path,
        *,
        db: Path | str | None = None,
        rate_limit: int | None = None,
        concurrent_limit: int | None = None,
        faults: dict[str, Any] | None = None,
        organization: str | None = None,
        team: str | None = None,
        legacy_alerts: str | None = None,
        port: int = 0,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> LocalSentry:
        workdir = Path(tmp_path) / unique("localsentry")
        workdir.mkdir(parents=True)
        db = db if db is not None else workdir / "localsentry.sqlite3"
        args = ["--db", str(db), "--info-file", str(workdir / "info.json")]
        if str(db) == ":memory:":
            args += ["--token-file", str(workdir / "admin-token")]
        for flag, value in (
            ("--rate-limit", rate_limit),
            ("--concurrent-limit", concurrent_limit),
            ("--organization", organization),
            ("--team", team),
            ("--legacy-alerts", legacy_alerts),
        ):
            if value is not None:
                args += [flag, str(value)]
        if faults is not None:
            args += ["--faults", json.dumps(faults)]
        args += list(extra_args or [])
        server = cls(workdir, args, db, env)
        server._spawn(port)
        return server

    def _spawn(self, port: int) -> None:
        stderr = open(self.workdir / "stderr.log", "ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(self.env or {}))
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [sys.executable, "-m", "localsentry", *self.args, "--port", str(port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, cwd=self.workdir, env=env)
        stderr.close()
        line = self._first_line(timeout=20)
        self.info = json.loads(line)
        self.url = self.info["url"]
        self.org = self.info["organization"]
        self.team = self.info["team"]
        self.token_file = Path(self.info["token_file"])
        self.token = self.token_file.read_text().strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        self._local = threading.local()

    def _first_line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                self.proc.kill()
                raise LocalSentryError(f"localsentry did not start in {timeout}s: {self.stderr()[-2000:]}")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise LocalSentryError(f"localsentry exited ({self.proc.wait()}): {self.stderr()[-2000:]}")
            buf += chunk
        selector.close()
        return buf.split(b"\n", 1)[0].decode()

    def stderr(self) -> str:
        path = self.workdir / "stderr.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM and wait (graceful); kill if it does not exit. Returns the exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def restart(self) -> LocalSentry:
        """Stop gracefully and start again on the same database and port (DSNs stay valid)."""
        port = self.port
        self.stop()
        self._spawn(port)
        return self

    def __enter__(self) -> LocalSentry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP ----------------------------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def api(
        self, method: str, path: str, *, token: Any = _DEFAULT, retry_429: bool = True, **kw: Any
    ) -> requests.Response:
        """Call the server; `token=None` sends no Authorization header, `token="..."` another token.

        The server enforces Sentry's API rate limits (40/s, 25 concurrent by default), so a rate-limit 429 is
        waited out (until `X-Sentry-Rate-Limit-Reset`) and retried; `retry_429=False` returns it as is."""
        url = path if path.startswith("http") else self.url + path
        headers = dict(kw.pop("headers", None) or {})
        token = self.token if token is _DEFAULT else token
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        for _ in range(50):
            resp = self.session.request(method, url, headers=headers, **kw)
            if not (retry_429 and resp.status_code == 429 and "You are attempting" in resp.text[:40]):
                return resp
            reset = resp.headers.get("X-Sentry-Rate-Limit-Reset")
            time.sleep(min(max(float(reset) - time.time(), 0.02), 1.0) if reset else 0.1)
        return resp

    def get_json(self, path: str, **params: Any) -> Any:
        """GET an API path (query `params`, lists repeat the name) that must answer 200; its JSON."""
        resp = self.api("GET", path, params=params or None)
        if resp.status_code != 200:
            raise LocalSentryError(f"GET {path} -> {resp.status_code}: {resp.text[:500]}")
        return resp.json()

    def _ok(self, resp: requests.Response) -> Any:
        if resp.status_code >= 300:
            raise LocalSentryError(f"{resp.request.method} {resp.url} -> {resp.status_code}: {resp.text[:500]}")
        return resp.json() if resp.content else None

    def set_faults(self, spec: dict[str, Any] | list[Any] | None = None, **rule: Any) -> Any:
        """set_faults({"seed": 1, "rules": [...]}) or set_faults(path="...", status={"503": 1.0}, count=1)."""
        body = spec if spec is not None else ({"rules": [rule]} if rule else {})
        return self._ok(self.api("PUT", "/_localsentry/faults", json=body))

    def set_limits(
        self, rate_limit: int | None = None, concurrent_limit: int | None = None, *, window: int | None = None,
        body: str | None = None,
    ) -> Any:
        """Rate limit per `window` seconds (default 1), concurrency, and the 429 body shape ("string" as older
        Sentry releases answer, "object" as current Sentry's ``{"detail": ...}``); None leaves a value as is."""
        spec: dict[str, Any] = {"rate_limit": rate_limit, "concurrent_limit": concurrent_limit}
        spec.update({k: v for k, v in (("window", window), ("body", body)) if v is not None})
        return self._ok(self.api("PUT", "/_localsentry/limits", json=spec))

    def set_features(self, org: str | None, features: dict[str, bool]) -> Any:
        return self._ok(self.api("PUT", f"/_localsentry/organizations/{org or self.org}/features", json=features))

    def set_legacy_alerts(self, mode: str, org: str | None = None) -> Any:
        body = {"mode": mode}
        return self._ok(self.api("PUT", f"/_localsentry/organizations/{org or self.org}/legacy-alerts", json=body))

    def create_token(self, scopes: list[str] | str, kind: str = "user", organization: str | None = None) -> str:
        scope_list = scopes.split(",") if isinstance(scopes, str) else list(scopes)
        body = {"scopes": scope_list, "kind": kind, "organization": organization or self.org}
        return str(self._ok(self.api("POST", "/_localsentry/tokens", json=body))["token"])

    def create_token_cli(self, scopes: list[str], kind: str = "user") -> str:
        """The same through `python -m localsentry token create` (the documented CLI)."""
        out = self.workdir / f"token-{uuid.uuid4().hex[:8]}"
        cmd = [sys.executable, "-m", "localsentry", "token", "create", "--db", str(self.db),
               "--scopes", ",".join(scopes), "--kind", kind, "--out", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, timeout=60)
        return out.read_text().strip()

    def stats(self) -> dict[str, Any]:
        return dict(self._ok(self.api("GET", "/_localsentry/stats")))

    def reset_stats(self) -> None:
        self._ok(self.api("POST", "/_localsentry/stats/reset"))

    # -- conveniences --------------------------------------------------------------------------------

    def create_project(
        self, name: str | None = None, team: str | None = None, organization: str | None = None, **body: Any
    ) -> dict[str, Any]:
        body = {"name": name or unique("proj"), **body}
        path = f"/api/0/teams/{organization or self.org}/{team or self.team}/projects/"
        return dict(self._ok(self.api("POST", path, json=body)))

    def create_org(self, slug: str | None = None, team: str | None = None) -> str:
        """Another organization (with a team named like the default one unless given); returns its slug."""
        body = {"slug": slug or unique("org"), "team": team or self.team}
        return str(self._ok(self.api("POST", "/_localsentry/organizations", json=body))["slug"])

    def keys(self, project: str) -> list[dict[str, Any]]:
        return list(self._ok(self.api("GET", f"/api/0/projects/{self.org}/{project}/keys/")))

    def dsn(self, project: str) -> str:
        return str(self.keys(project)[-1]["dsn"]["public"])

    def items(self, project: str, **filters: Any) -> list[dict[str, Any]]:
        path = f"/_localsentry/projects/{self.org}/{project}/items/"
        return list(self._ok(self.api("GET", path, params=filters)))

    def wait_items(self, project: str, count: int, timeout: float = 15, **filters: Any) -> list[dict[str, Any]]:
        """Poll until at least `count` items match (SDK transports deliver on a background thread)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.items(project, **filters)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


# -- contract checks against Sentry's published schema ---------------------------------------------------

VALIDATED: set[tuple[str, str]] = set()


def fill(template: str, **values: Any) -> str:
    """Fill a schema path template: fill(T, org="o", project="p") fills {organization_id_or_slug} etc."""
    aliases = {"org": "organization_id_or_slug", "project": "project_id_or_slug", "team": "team_id_or_slug"}
    path = template
    for name, value in values.items():
        path = path.replace("{" + aliases.get(name, name) + "}", str(value))
    assert "{" not in path, f"unfilled template {path}"
    return path


def check(resp: requests.Response, template: str, status: int | None = None, *, as_status: int | None = None) -> Any:
    """Assert the status, validate the body against the schema operation (path template + method + status),
    record the operation as covered, and return the parsed body."""
    from localsentry import contract

    method = str(resp.request.method)
    assert status is None or resp.status_code == status, f"{method} {resp.url}: {resp.status_code} {resp.text[:800]}"
    body = resp.json() if resp.content else None
    contract.validate(method, template, resp.status_code, body, as_status=as_status)
    VALIDATED.add((method, template))
    return body


def needed(message: str) -> None:
    """A real component this test needs is missing: skip locally, fail with CI=true (never a silent skip in CI)."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
