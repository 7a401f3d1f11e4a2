"""`dsnReload: file` with sentry-stacks-runtime: the rendered env file is replaced (atomically, as the toolkit does)
while a real gunicorn (2 workers x 4 threads) serving Django and a Celery worker are under load. Each process swaps
its SDK client; no request fails or is cut short (a response cut during the swap would raise here), no event is
lost, and each key receives events, the last one alone after the swap. A broken file keeps the running client."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.runtime.support import (
    accepted,
    app_env,
    celery_worker,
    gunicorn,
    new_key,
    project_events,
    running,
    wait_events,
    write_env_file,
)
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.sentry
CLIENTS = 4
PAUSE = 0.12  # about 30 requests/s in all: well within what the SDK's queue (100) and localsentry deliver here


class Load:
    """Client threads: errors (their event ids from X-Sentry-Event-Id), traced hellos, and now and then a task."""

    def __init__(self, base: str, run: str) -> None:
        self.base, self.run = base, run
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.events: list[str] = []
        self.hellos: list[str] = []
        self.tasks: list[str] = []
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(CLIENTS)]

    def _one(self, session: requests.Session, n: int, i: int) -> None:
        tag = f"{self.run}-{n}-{i}"
        kind = ("boom", "hello", "boom", "enqueue")[i % 4]
        response = session.get(f"{self.base}/{kind}/?tag={tag}", headers={"X-Request-Id": tag, "X-User-Id": tag},
                               timeout=20)  # fmt: skip
        body = response.content  # the whole body: a response cut short raises here
        expected = {"boom": 500, "hello": 200, "enqueue": 202}[kind]
        if response.status_code != expected:
            raise AssertionError(f"{kind} answered {response.status_code}: {body[:200]!r}")
        with self.lock:
            if kind == "boom":
                self.events.append(response.headers["X-Sentry-Event-Id"])
            elif kind == "hello":
                self.hellos.append(tag)
            else:
                self.tasks.append(tag)

    def _loop(self, n: int) -> None:
        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                self._one(session, n, i)
            except Exception as exc:
                with self.lock:
                    self.failures.append(f"{n}-{i}: {type(exc).__name__}: {exc}")
            time.sleep(PAUSE)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


def wait_until_stored(ls: LocalSentry, project: str, wanted: set[str], timeout: float) -> list[dict[str, Any]]:
    """The project's events once every wanted event id or title is among them (or at the timeout): a count alone
    can be reached early by an event nobody expected, and hide a missing one."""
    deadline = time.monotonic() + timeout
    while True:
        found = project_events(ls, project)
        if wanted <= {e["id"] for e in found} | {e["title"] for e in found} or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def discarded(ls: LocalSentry, project: str) -> list[Any]:
    """What the SDKs reported dropping (client reports), to tell an overloaded queue from a swap that lost events."""
    reports = [i["payload"] for i in ls.items(project, limit=10000) if i["type"] == "client_report"]
    return [d for r in reports for d in r.get("discarded_events") or []]


def test_env_file_swap_under_load_loses_no_event(localsentry: LocalSentry, tmp_path: Path) -> None:
    ls = localsentry
    project = ls.create_project(platform="python")["slug"]
    keys = [ls.keys(project)[-1], new_key(ls, project, "g2"), new_key(ls, project, "g3")]
    dsns = [str(k["dsn"]["public"]) for k in keys]
    run = uuid.uuid4().hex[:8]
    env_file = tmp_path / "deploy" / "backend.env"
    values = {"SENTRY_ENVIRONMENT": "staging", "SENTRY_RELEASE": f"live@{run}", "SENTRY_TRACES_SAMPLE_RATE": "1.0"}
    write_env_file(env_file, {**values, "SENTRY_DSN": dsns[0]})
    broker = tmp_path / "broker"
    broker.mkdir()
    # the inline environment has no DSN, as the toolkit renders a dsnReload: file service
    env = app_env(SENTRY_STACKS_ENV_FILE=str(env_file), SENTRY_STACKS_RELOAD_INTERVAL="0.2",
                  SENTRY_ENVIRONMENT="ignored", DJANGO_SETTINGS_MODULE="djangoapp.settings",
                  CELERY_BROKER_URL="filesystem://", BROKER_DIR=str(broker))  # fmt: skip
    web = gunicorn("djangoapp.wsgi:application", env, tmp_path / "web.log", workers=2, threads=4)
    worker = celery_worker(env, tmp_path / "worker.log")
    with running(web, worker):
        web.wait_http("/hello/")
        worker.wait_output("ready")
        with Load(web.url, run) as load:
            for dsn in dsns[1:]:
                time.sleep(2.5)
                write_env_file(env_file, {**values, "SENTRY_DSN": dsn})  # what `rotate-dsn start` does
            time.sleep(2.5)
        # read back while the processes run: the retired clients deliver after their grace period by themselves
        expected = len(load.events) + len(load.tasks)
        wanted = {e.replace("-", "") for e in load.events} | {f"TaskFailure: task failed {t}" for t in load.tasks}
        stored = wait_until_stored(ls, project, wanted, timeout=120)
        logs = f"web log tail:\n{web.output()[-3000:]}\nworker log tail:\n{worker.output()[-3000:]}"
    assert load.failures == [], f"{len(load.failures)} requests failed, e.g. {load.failures[:5]}"
    assert len(load.events) > 20 and len(load.hellos) > 10 and len(load.tasks) > 5, "the load ran"
    assert web.output().count("Sentry reloaded:") >= 2 * 2, "each gunicorn worker swapped twice"
    assert worker.output().count("Sentry reloaded:") >= 2, "the Celery worker swapped too"

    ids = {e["id"] for e in stored}
    lost = [e for e in load.events if e.replace("-", "") not in ids]
    assert lost == [], f"{len(lost)} of {len(load.events)} request errors lost; SDK reports: {discarded(ls, project)}"
    task_titles = [e["title"] for e in stored if e["title"].startswith("TaskFailure")]
    missing = {f"TaskFailure: task failed {t}" for t in load.tasks} - set(task_titles)
    assert missing == set(), f"every task's error arrived; missing {missing}; stored {len(stored)}\n{logs}"
    twice = {t for t in task_titles if task_titles.count(t) > 1}
    assert twice == set(), f"each task's error arrived once: {twice}"
    per_key = [accepted(ls, project, str(k["id"])) for k in keys]
    assert all(n > 0 for n in per_key), f"every key received events: {per_key}"
    extra = sorted(e["title"] for e in stored if e["id"] not in wanted and e["title"] not in wanted)
    assert sum(per_key) == expected == len(stored), f"keys {per_key}, expected {expected}; unexpected: {extra[:10]}"
    traced = {e["title"] for e in project_events(ls, project, "event.type:transaction")}
    assert any("/hello/" in t for t in traced)
    items = ls.items(project, type="transaction", limit=10000)
    seen = {str((i["payload"].get("tags") or {}).get("request_id")) for i in items}
    assert {h for h in load.hellos if h not in seen} == set(), "every traced request's transaction arrived"


def test_a_broken_env_file_keeps_the_running_client(localsentry: LocalSentry, tmp_path: Path) -> None:
    ls = localsentry
    project = ls.create_project(platform="python")["slug"]
    env_file = tmp_path / "backend.env"
    write_env_file(env_file, {"SENTRY_DSN": ls.dsn(project), "SENTRY_ENVIRONMENT": "staging"})
    env = app_env(SENTRY_STACKS_ENV_FILE=str(env_file), SENTRY_STACKS_RELOAD_INTERVAL="0.1",
                  DJANGO_SETTINGS_MODULE="djangoapp.settings")  # fmt: skip
    web = gunicorn("djangoapp.wsgi:application", env, tmp_path / "web.log")
    with running(web):
        web.wait_http("/hello/")
        env_file.write_text("SENTRY_DSN=unquoted\n")
        web.wait_output("Sentry env file not reloaded, keeping the running client")
        write_env_file(env_file, {"SENTRY_DSN": ls.dsn(project), "SENTRY_SAMPLE_RATE": "2"})
        web.wait_output("SENTRY_SAMPLE_RATE must be a number between 0 and 1")
        response = requests.get(web.url + "/boom/?tag=kept", timeout=10)
        assert response.status_code == 500
        stored = wait_events(ls, project, 1)
    assert [e["id"] for e in stored] == [response.headers["X-Sentry-Event-Id"].replace("-", "")]
    assert "unquoted" not in web.output(), "a bad file's values are never logged"
