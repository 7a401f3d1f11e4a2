"""sentry-stacks-runtime in real apps: Django under gunicorn with a Celery worker (filesystem broker, another
process), and Flask under gunicorn, each configured only by `sentry_stacks_runtime.init()` from the rendered
variables, sending with the real sentry-sdk to a real localsentry. What they sent is read back through Sentry's
project events API: environment, release, the user (also on a task's error, carried from the request that
enqueued it), the traces rate in effect (health checks never traced, parent decisions honoured), the noise filter,
and the development switch that logs instead of sending."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.runtime.support import (
    App,
    celery_worker,
    event_detail,
    gunicorn,
    project_events,
    running,
    tag,
    wait_events,
)
from tests.runtime.support import app_env as base_env
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.sentry
DEV_COLLECTION = {"user_info": True, "cookies": {"mode": "denylist"},
                  "http_headers": {"request": {"mode": "denylist"}}}  # fmt: skip
PROD_COLLECTION = {"user_info": False, "cookies": {"mode": "off"}}
SAMPLED = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1"
UNSAMPLED = "871a43a4192642f0b136d5159a501700-b7ad6b7169203331-0"


def django_env(tmp_path: Path, dsn: str, **values: str) -> dict[str, str]:
    broker = tmp_path / "broker"
    broker.mkdir(exist_ok=True)
    return base_env(SENTRY_DSN=dsn, DJANGO_SETTINGS_MODULE="djangoapp.settings", CELERY_BROKER_URL="filesystem://",
                    BROKER_DIR=str(broker), **values)  # fmt: skip


def transactions(ls: LocalSentry, project: str) -> list[str]:
    return [str(t.get("title") or t.get("culprit")) for t in project_events(ls, project, "event.type:transaction")]


def test_the_apps_receive_the_trace_headers_a_test_sends_and_no_others() -> None:
    """The parent decisions below are the `sentry-trace` headers these tests send. A sentry-sdk client active in the
    test process (one a test left) would add its own `sentry-trace` and `baggage` to every request, before the
    test's: gunicorn joins the two, the app's SDK continues the first, and the sampled parent is lost."""
    seen: list[tuple[list[str], list[str]]] = []

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.headers.get_all("sentry-trace") or [], self.headers.get_all("baggage") or []))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        requests.get(f"http://127.0.0.1:{server.server_address[1]}/", headers={"sentry-trace": SAMPLED}, timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [([SAMPLED], [])]


def test_django_and_celery_send_environment_release_user_and_rates(localsentry: LocalSentry, tmp_path: Path) -> None:
    ls = localsentry
    project = ls.create_project(platform="python")["slug"]
    run = uuid.uuid4().hex[:8]
    env = django_env(tmp_path, ls.dsn(project), SENTRY_ENVIRONMENT="staging", SENTRY_RELEASE=f"shop@{run}",
                     SENTRY_TRACES_SAMPLE_RATE="1.0", SENTRY_DATA_COLLECTION=json.dumps(DEV_COLLECTION))  # fmt: skip
    web = gunicorn("djangoapp.wsgi:application", env, tmp_path / "web.log")
    worker = celery_worker(env, tmp_path / "worker.log")
    with running(web, worker):
        web.wait_http("/api/health/")
        worker.wait_output("ready")
        headers = {"X-User-Id": f"alice-{run}", "X-User-Email": "alice@example.com", "X-Request-Id": f"req-{run}"}
        for _ in range(3):
            assert requests.get(web.url + "/api/health/", timeout=10).status_code == 200
        assert requests.get(web.url + "/hello/", headers=headers, timeout=10).json()["user"] == f"alice-{run}"
        boom = requests.get(web.url + f"/boom/?tag={run}", headers=headers, timeout=10)
        assert boom.status_code == 500
        event_id = boom.headers["X-Sentry-Event-Id"]  # the middleware names the 5xx's event
        assert requests.get(web.url + f"/enqueue/?tag={run}", headers=headers, timeout=10).status_code == 202
        assert requests.get(web.url + f"/noise/?tag={run}", timeout=10).status_code == 200  # not development: sent
        errors = wait_events(ls, project, 3, timeout=60)
    by_title = {e["title"]: e for e in errors}
    assert set(by_title) >= {f"ViewFailure: view failed {run}", f"TaskFailure: task failed {run}"}, list(by_title)

    view = event_detail(ls, project, event_id)
    assert (view["environment"], view["release"]["version"]) == ("staging", f"shop@{run}")
    assert view["user"]["id"] == f"alice-{run}" and view["user"]["email"] == "alice@example.com"  # user_info: true
    assert tag(view, "request_id") == f"req-{run}"
    task = by_title[f"TaskFailure: task failed {run}"]
    assert task["user"]["id"] == f"alice-{run}", "the task's error names the user of the request that enqueued it"
    assert task.get("environment", tag(task, "environment")) == "staging"
    assert any(e["message"].startswith(f"noise {run}") or run in e["title"] for e in errors if e is not task)

    traced = transactions(ls, project)
    assert any("/hello/" in t for t in traced) and any("/boom/" in t for t in traced), traced
    assert not any("health" in t for t in traced), "health checks are never traced"
    assert "Sentry enabled: environment=staging" in web.output() and "dsn=" in web.output()
    assert ls.dsn(project).split("@")[0].split("//")[1] not in web.output(), "the DSN's key is never logged"


def test_django_in_development_logs_instead_of_sending_unless_asked(localsentry: LocalSentry, tmp_path: Path) -> None:
    ls = localsentry
    project = ls.create_project(platform="python")["slug"]
    run = uuid.uuid4().hex[:8]
    env = django_env(tmp_path, ls.dsn(project), SENTRY_ENVIRONMENT="development", SENTRY_TRACES_SAMPLE_RATE="1.0")
    web = gunicorn("djangoapp.wsgi:application", env, tmp_path / "dev.log")
    with running(web):
        web.wait_http("/api/health/")
        assert requests.get(web.url + f"/boom/?tag={run}", timeout=10).status_code == 500
        web.wait_output("not sent (SENTRY_STACKS_LOG_EVENTS): error event")
    assert f"ViewFailure: view failed {run}" in web.output()
    assert project_events(ls, project) == [] and transactions(ls, project) == []

    # asked to send (a deployed development stack), with no traces rate: only a sampled parent's trace continues
    env.update(SENTRY_STACKS_LOG_EVENTS="false", SENTRY_TRACES_SAMPLE_RATE="0", SENTRY_DATA_COLLECTION=json.dumps(
        PROD_COLLECTION), SENTRY_DEBUG="true")  # debug: the SDK logs each send (read only on failure, below)
    web = gunicorn("djangoapp.wsgi:application", env, tmp_path / "dev-send.log")
    with running(web):
        web.wait_http("/api/health/")
        user = {"X-User-Id": f"bob-{run}", "X-User-Email": "bob@example.com"}
        assert requests.get(web.url + f"/noise/?tag={run}", timeout=10).status_code == 200  # development noise
        assert requests.get(web.url + "/hello/", headers={**user, "sentry-trace": SAMPLED}, timeout=10).ok
        assert requests.get(web.url + "/hello/", headers=user, timeout=10).ok  # rate 0, no parent: not traced
        assert requests.get(web.url + "/api/health/", headers={"sentry-trace": SAMPLED}, timeout=10).ok
        boom = requests.get(web.url + f"/boom/?tag={run}", headers={**user, "sentry-trace": UNSAMPLED}, timeout=10)
        assert boom.status_code == 500
        errors = wait_events(ls, project, 1, timeout=60)
        deadline = time.monotonic() + 60  # the sampled request's transaction is sent on its own, maybe after the error
        while not (traced := transactions(ls, project)) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # and nothing more arrives: the unsampled ones are not sent
        traced = transactions(ls, project)
    assert [e["title"] for e in errors] == [f"ViewFailure: view failed {run}"], "the noise logger is dropped in dev"
    assert errors[0]["user"]["id"] == f"bob-{run}"
    assert errors[0]["user"].get("email") is None, "user_info false: the id only"
    # on failure: what localsentry received (by route and outcome) and the app's log, to tell a lost send from a drop
    assert len(traced) == 1 and "/hello/" in traced[0], (traced, ls.stats(), web.output()[-3000:])


def test_flask_sends_environment_release_user_and_skips_health(localsentry: LocalSentry, tmp_path: Path) -> None:
    ls = localsentry
    project = ls.create_project(platform="python")["slug"]
    run = uuid.uuid4().hex[:8]
    env = base_env(SENTRY_DSN=ls.dsn(project), SENTRY_ENVIRONMENT="production", SENTRY_RELEASE=f"api@{run}",
                   SENTRY_TRACES_SAMPLE_RATE="1", SENTRY_DATA_COLLECTION=json.dumps(PROD_COLLECTION))  # fmt: skip
    web: App = gunicorn("flaskapp:app", env, tmp_path / "flask.log")
    with running(web):
        web.wait_http("/health")
        user = {"X-User-Id": f"carol-{run}", "X-User-Email": "carol@example.com"}
        assert requests.get(web.url + "/health", timeout=10).ok
        assert requests.get(web.url + "/hello", headers=user, timeout=10).ok
        assert requests.get(web.url + f"/boom?tag={run}", headers=user, timeout=10).status_code == 500
        errors = wait_events(ls, project, 1, timeout=60)
    assert [e["title"] for e in errors] == [f"FlaskFailure: flask failed {run}"]
    detail = event_detail(ls, project, errors[0]["id"])
    assert (detail["environment"], detail["release"]["version"]) == ("production", f"api@{run}")
    assert detail["user"]["id"] == f"carol-{run}" and detail["user"].get("email") is None
    traced = transactions(ls, project)
    assert any("hello" in t for t in traced) and not any("health" in t for t in traced), traced
