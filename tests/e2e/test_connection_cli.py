"""`pulumi preview` can tell a Sentry connection that `up` could not use (issue 22), through the real CLI.

Each bad case fails the preview with one line that starts with the setting to fix, and no Python traceback,
before anything is created: a wrong token, a token without the scopes, an organization or a team that does not
exist (against a real localsentry), a base URL that answers an HTML page, closes the connection, answers nothing or
answers JSON that is not Sentry's (tiny local HTTP servers), and a Sentry too old for the workflow API that alerts
need (it says to set legacyAlerts). The check is the sentrystacks provider's (its check_config): a healthy preview
of a stack with alerts sends two requests, the organization and one workflow listing.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.pulumi_support import PulumiProject
from tests.e2e.stack_support import AppStack, copy_project, free_port
from tests.support.localsentry import LocalSentry
from tests.support.old_sentry import OldSentry

pytestmark = pytest.mark.e2e


class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "html"

    def do_GET(self) -> None:
        if self.mode == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.mode == "html":
            body, kind = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>", "text/html"
        else:  # JSON, but not Sentry's
            body, kind = json.dumps({"status": "ok", "service": "something-else"}).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def fake_server() -> Iterator[Callable[[str], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(mode: str) -> str:
        handler = type(f"Handler{mode}", (_Handler,), {"mode": mode})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _failed_preview(stack: PulumiProject) -> str:
    preview = stack.run("preview", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0, output
    assert "Traceback" not in output and 'File "' not in output, output
    return output


def _error_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("error:")]


@pytest.fixture
def ls(tmp_path: Path) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path / "ls")
    try:
        yield server
    finally:
        server.stop()


def _stack(tmp_path: Path, ls: LocalSentry, stack: str = "dev") -> AppStack:
    created = AppStack.create(copy_project(tmp_path / "proj", ls), stack, "preflight")
    created.extra_env["SENTRY_STACKS_IMAGE_CHECK"] = "off"  # no container is deployed here
    return created


def test_healthy_preview_sends_two_requests(tmp_path: Path, ls: LocalSentry) -> None:
    stack = _stack(tmp_path, ls)
    ls.reset_stats()
    stack.run("preview")
    sent = {r: n for r, n in ls.stats()["by_route"].items() if not r.startswith("POST /_localsentry/")}
    assert sent == {"GET /api/0/organizations/{organization_id_or_slug}/": 1,
                    "GET /api/0/organizations/{organization_id_or_slug}/workflows/": 1}


def test_a_sentry_without_the_workflow_api_asks_for_legacy_alerts(tmp_path: Path, ls: LocalSentry) -> None:
    """Issue 22 left it open: a self-hosted Sentry before 26.7 has no workflow or detector API; the preview says, in
    one line, to set legacyAlerts (and with it, the same stack previews, once its alert's actions are ones a legacy
    metric alert has too: an email to a team; the default alert also watches the error-spike monitor, whose legacy
    metric alert cannot notify issue owners or a webhook plugin)."""
    old = OldSentry(ls.url)
    try:
        stack = _stack(tmp_path, ls)
        stack.config_set("sentry:baseUrl", old.url)
        stack.config_set("sentry:organization", ls.org)
        stack.config_set("sentry-stacks:team", ls.team)
        stack.config_set("sentry:token", ls.token, secret=True)
        output = _failed_preview(stack)
        assert f"sentry-stacks:legacyAlerts = false: Sentry at {old.url}/api/0/ has no workflow API" in output
        assert "set sentry-stacks:legacyAlerts: true" in output and len(_error_lines(output)) <= 2, output
        stack.config_set("sentry-stacks:legacyAlerts", "true")
        team = str(ls.api("GET", f"/api/0/teams/{ls.org}/{ls.team}/").json()["id"])
        stack_file = stack.workdir / f"Pulumi.{stack.stack}.yaml"
        config = yaml.safe_load(stack_file.read_text())
        config["config"]["sentry-stacks:alerts"] = {"new-issues": {
            "services": ["backend", "frontend"], "monitors": ["error-spike"],
            "actions": [{"type": "email", "targetType": "team", "targetIdentifier": team}]}}
        stack_file.write_text(yaml.safe_dump(config))
        stack.run("preview")
    finally:
        old.stop()


def test_bad_credentials_org_and_team_fail_preview_naming_the_setting(tmp_path: Path, ls: LocalSentry) -> None:
    stack = _stack(tmp_path, ls)
    stack.config_set("sentry:baseUrl", ls.url)
    stack.config_set("sentry:organization", ls.org)
    stack.config_set("sentry-stacks:team", ls.team)
    cases = {
        "wrong token": ("sentry:token", "sntryu_" + "0" * 64, "sentry:token: Sentry at"),
        "under-scoped token": ("sentry:token", ls.create_token(["org:read", "project:read"]),
                               "sentry:token: the token lacks the scope project:admin or project:write"),
    }
    for name, (key, value, expected) in cases.items():
        stack.config_set(key, value, secret=True)
        output = _failed_preview(stack)
        assert expected in output, (name, output)
        assert "pulumi config set --secret sentry:token" in output, name
        assert value not in output, f"{name}: the token must never be printed"
    stack.config_set("sentry:token", ls.token, secret=True)
    stack.config_set("sentry:organization", "no-such-org")
    output = _failed_preview(stack)
    assert f"sentry:organization = no-such-org: Sentry at {ls.url}/api/0/ has no organization 'no-such-org' " \
           "(HTTP 404); check sentry:organization" in output, output
    stack.config_set("sentry:organization", ls.org)
    stack.config_set("sentry-stacks:team", "no-such-team")
    output = _failed_preview(stack)
    assert f"sentry-stacks:team = no-such-team: organization '{ls.org}' has no such team" in output, output
    assert len(_error_lines(output)) <= 2, output  # the line, and at most the CLI's own summary line
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/projects/").json() == []
    up = stack.run("up", "--yes", "--skip-preview", check=False)
    assert up.returncode != 0 and "no such team" in up.stdout + up.stderr and "Traceback" not in up.stdout + up.stderr
    assert ls.api("GET", f"/api/0/organizations/{ls.org}/projects/").json() == [], "nothing may be created"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("html", "answers with an HTML page, not Sentry's JSON; check sentry:baseUrl"),
        ("json", "with JSON that is not a Sentry organization"),
        ("close", "no answer from"),
        ("refused", "no answer from"),
    ],
)
def test_base_url_that_is_not_a_sentry_fails_preview(
    tmp_path: Path, ls: LocalSentry, fake_server: Callable[[str], str], mode: str, expected: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}" if mode == "refused" else fake_server(mode)
    stack = _stack(tmp_path, ls)
    stack.config_set("sentry:baseUrl", url)
    stack.config_set("sentry:organization", "acme")
    stack.config_set("sentry-stacks:team", "backend")
    stack.config_set("sentry:token", "sntryu_" + "1" * 64, secret=True)
    output = _failed_preview(stack)
    assert f"sentry:baseUrl = {url}: " in output and expected in output, output


def test_up_errors_are_one_line_without_a_traceback(tmp_path: Path, ls: LocalSentry) -> None:
    """A failure inside a provider during `up` (here Sentry answering 503 to every project create) reads as the
    provider's message, not as the dynamic-provider host's Python traceback."""
    stack = _stack(tmp_path, ls)
    ls.set_faults({"rules": [{"path": "^/api/0/teams/", "methods": ["POST"], "status": {"503": 1.0}}]})
    up = stack.run("up", "--yes", "--skip-preview", check=False)
    output = up.stdout + up.stderr
    assert up.returncode != 0
    assert "Traceback" not in output and 'File "' not in output, output
    assert "create project 'sentry-stacks-demo-backend' in organization" in output and "HTTP 503" in output, output
