"""The client under Sentry's limits and injected faults, and the token's secrecy, against real localsentry.

Workload: 6 projects, then 120 client keys and 30 metric monitors created by 32 threads at once
(156 objects), then everything deleted again the same way.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.sentry.base import SentryProvider
from infra.sentry.client import SentryClient, connection_from_config, next_page_url
from infra.sentry.client_key import ClientKeyProvider
from infra.sentry.errors import SentryAuthError, SentryError, SentryNotFound, SentryTransportError
from infra.sentry.metric_monitor import MetricMonitorProvider
from infra.sentry.project import ProjectProvider
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry

PROJECTS, KEYS_PER_PROJECT, MONITORS_PER_PROJECT, THREADS = 6, 20, 5, 32


def config(ls: LocalSentry, token: str | None = None, url: str | None = None) -> Config:
    return Config({"sentry:baseUrl": url or ls.url, "sentry:organization": ls.org,
                   "sentry:token": token or ls.token}, "sentry-stacks")


def configured(cls: type[SentryProvider], ls: LocalSentry) -> Any:
    provider = cls()
    provider.configure(ConfigureRequest(config(ls)))
    return provider


class Workload:
    def __init__(self, ls: LocalSentry) -> None:
        self.ls = ls
        self.prefix = unique("load")
        self.projects = configured(ProjectProvider, ls)
        self.keys = configured(ClientKeyProvider, ls)
        self.monitors = configured(MetricMonitorProvider, ls)
        self.slugs = [f"{self.prefix}-{i}" for i in range(PROJECTS)]
        self.state: dict[str, tuple[Any, str, dict[str, Any]]] = {}  # logical name -> (provider, id, outs)

    def declared(self) -> list[tuple[str, Any, dict[str, Any]]]:
        items: list[tuple[str, Any, dict[str, Any]]] = []
        for slug in self.slugs:
            items += [(f"{slug}/key-{k}", self.keys, {"project": slug, "name": f"dev-g{k}"})
                      for k in range(KEYS_PER_PROJECT)]
            items += [(f"{slug}/monitor-{m}", self.monitors, {
                "project": slug, "name": f"errors-{m}", "aggregate": "count()", "timeWindow": 3600,
                "conditions": [{"type": "gt", "comparison": 10 + m, "conditionResult": 75}]})
                for m in range(MONITORS_PER_PROJECT)]
        return items

    def _run(self, jobs: list[tuple[str, Callable[[], None]]], threads: int) -> dict[str, BaseException]:
        failures: dict[str, BaseException] = {}

        def run(name: str, job: Callable[[], None]) -> None:
            try:
                job()
            except BaseException as exc:
                failures[name] = exc

        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(run, name, job) for name, job in jobs]:
                future.result()
        return failures

    def _create_job(self, name: str, provider: Any, props: dict[str, Any]) -> Callable[[], None]:
        def job() -> None:
            checked = provider.check({}, props)
            assert checked.failures == []
            result = provider.create(checked.inputs)
            self.state[name] = (provider, result.id, result.outs)

        return job

    def up(self) -> dict[str, BaseException]:
        """Create what is declared and not yet in state (like `pulumi up`, which also resumes a failed run)."""
        project_jobs = [(slug, self._create_job(slug, self.projects, {
            "slug": slug, "name": slug, "teams": [self.ls.team], "defaultKey": "delete", "defaultRules": False,
            "platform": "python"})) for slug in self.slugs if slug not in self.state]
        failures = self._run(project_jobs, len(self.slugs))
        if failures:
            return failures
        jobs = [(n, self._create_job(n, p, props)) for n, p, props in self.declared() if n not in self.state]
        return self._run(jobs, THREADS)

    def destroy(self) -> dict[str, BaseException]:
        def delete_job(name: str) -> Callable[[], None]:
            def job() -> None:
                provider, id_, outs = self.state[name]
                provider.delete(id_, outs)
                del self.state[name]
            return job

        children = [(n, delete_job(n)) for n in list(self.state) if "/" in n]
        failures = self._run(children, THREADS)
        if failures:
            return failures
        return self._run([(n, delete_job(n)) for n in list(self.state)], len(self.slugs))

    def sentry_objects(self) -> dict[str, list[str]]:
        """What Sentry holds for this workload: project slug -> sorted key and monitor names."""
        ls, out = self.ls, {}
        projects = ls.api("GET", f"/api/0/organizations/{ls.org}/projects/", params={"per_page": 100}).json()
        for project in projects:
            if not project["slug"].startswith(self.prefix):
                continue
            names = [f"key:{k['name']}" for k in _all(ls, f"/api/0/projects/{ls.org}/{project['slug']}/keys/")]
            detectors = _all(ls, f"/api/0/organizations/{ls.org}/detectors/", project=project["id"])
            names += [f"monitor:{d['name']}" for d in detectors if d["type"] == "metric_issue"]
            out[project["slug"]] = sorted(names)
        return out

    def expected_objects(self) -> dict[str, list[str]]:
        return {slug: sorted([f"key:dev-g{k}" for k in range(KEYS_PER_PROJECT)]
                             + [f"monitor:errors-{m}" for m in range(MONITORS_PER_PROJECT)]) for slug in self.slugs}


def _all(ls: LocalSentry, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, Any] | None = {"per_page": 100, **params}
    while url:
        resp = ls.api("GET", url, params=query)
        assert resp.status_code == 200, resp.text
        items += resp.json()
        url, query = next_page_url(resp.headers.get("Link")), None
    return items


def describe(failures: dict[str, BaseException]) -> str:
    return "\n".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in sorted(failures.items())[:10])


def test_rate_limits_with_32_threads_zero_failures(tmp_path: Any) -> None:
    ls = LocalSentry.start(tmp_path, rate_limit=40, concurrent_limit=25)
    try:
        load = Workload(ls)
        failures = load.up()
        assert failures == {}, describe(failures)
        assert len(load.state) == PROJECTS + PROJECTS * (KEYS_PER_PROJECT + MONITORS_PER_PROJECT) >= 150
        assert load.sentry_objects() == load.expected_objects()
        pacer = load.keys.client.pacer
        assert pacer.learned and pacer.concurrency == 24 and pacer.rate is not None and pacer.rate < 40
        print(f"\nrate-limit run: {ls.stats().get('rate_limited', ls.stats())} 429s from the server")
        failures = load.destroy()
        assert failures == {}, describe(failures)
        assert load.sentry_objects() == {}
    finally:
        ls.stop()


def test_faults_converge_without_duplicates_or_orphans(tmp_path: Any) -> None:
    ls = LocalSentry.start(tmp_path, rate_limit=40, concurrent_limit=25)
    try:
        ls.set_faults({"seed": 4, "rules": [{
            "path": "^/api/0/", "status": {"500": 0.04, "502": 0.03, "503": 0.03}, "rate_limit": 0.1,
            "drop": 0.025, "drop_after_commit": 0.025}]})
        load = Workload(ls)
        first = load.up()
        second = load.up() if first else {}  # `pulumi up` again converges
        assert second == {}, describe(second)
        injected = ls.api("GET", "/_localsentry/faults").json()["rules"][0]["injected"]
        ls.set_faults({})
        assert load.sentry_objects() == load.expected_objects()  # exactly the stack's objects: no duplicates
        ls.set_faults({"seed": 5, "rules": [{
            "path": "^/api/0/", "status": {"500": 0.04, "502": 0.03, "503": 0.03}, "rate_limit": 0.1,
            "drop": 0.025, "drop_after_commit": 0.025}]})
        first_destroy = load.destroy()
        second_destroy = load.destroy() if first_destroy else {}
        assert second_destroy == {}, describe(second_destroy)
        injected_destroy = ls.api("GET", "/_localsentry/faults").json()["rules"][0]["injected"]
        ls.set_faults({})
        assert load.sentry_objects() == {}  # nothing orphaned
        print(f"\nfault run: {injected} + {injected_destroy} faults injected (up + destroy); failed operations "
              f"in the first pass: {len(first)} up, {len(first_destroy)} destroy")
        assert injected > 50 and injected_destroy > 20
    finally:
        ls.stop()


def _assert_clean(exc: BaseException, token: str) -> None:
    text = "".join(traceback.format_exception(exc))
    assert token not in text and token not in str(exc)


def test_token_never_appears_in_errors(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    token = ls.token
    # 404 with the real token
    client = SentryClient(connection_from_config(config(ls)))
    with pytest.raises(SentryNotFound) as info:
        client.get(f"projects/{ls.org}/{token}/", what=f"project {token}")
    _assert_clean(info.value, token)
    # 401 with a token that is not valid: never echoed
    bad = "sntryu_" + "0" * 64
    with pytest.raises(SentryAuthError) as auth:
        SentryClient(connection_from_config(config(ls, token=bad))).get(f"organizations/{ls.org}/", what="org")
    _assert_clean(auth.value, bad)
    assert "HTTP 401" in str(auth.value) and "pulumi config set --secret sentry:token" in str(auth.value)
    # 403: a token without the scopes
    weak = ls.create_token(["project:read"])
    with pytest.raises(SentryAuthError) as forbidden:
        SentryClient(connection_from_config(config(ls, token=weak))).create(
            f"teams/{ls.org}/{ls.team}/projects/", {"name": "x"}, what="project 'x'", find=lambda: None)
    _assert_clean(forbidden.value, weak)
    assert "HTTP 403" in str(forbidden.value)
    # an unreachable server
    with pytest.raises(SentryTransportError) as transport:
        SentryClient(connection_from_config(config(ls, url="http://127.0.0.1:9"))).get("x/", what="thing")
    _assert_clean(transport.value, token)
    # provider errors carry no token either
    keys = configured(ClientKeyProvider, ls)
    with pytest.raises(SentryError) as provider_error:
        keys.create({"project": unique("missing"), "name": "k"})
    _assert_clean(provider_error.value, token)


def test_an_organization_token_cannot_manage_projects(localsentry_session: LocalSentry) -> None:
    """(The connection's check with advice for each problem is the provider's preflight: test_provider_plugin_grpc.py
    and tests/e2e/test_connection_cli.py.)"""
    ls = localsentry_session
    org_token = ls.create_token(["org:ci"], kind="org")
    with pytest.raises(SentryAuthError) as info:
        SentryClient(connection_from_config(config(ls, token=org_token))).create(
            f"teams/{ls.org}/{ls.team}/projects/", {"name": "x"}, what="project 'x'", find=lambda: None)
    assert "HTTP 403" in str(info.value)


def test_post_dropped_after_commit_is_found_not_repeated(localsentry: LocalSentry) -> None:
    ls = localsentry
    slug = unique("drop")
    ls.set_faults({"rules": [{"path": "/projects/$", "methods": ["POST"], "drop_after_commit": True, "count": 1},
                             {"path": "/keys/$", "methods": ["POST"], "drop_after_commit": True, "count": 1},
                             {"path": "/detectors/$", "methods": ["POST"], "drop_after_commit": True, "count": 1}]})
    project = configured(ProjectProvider, ls).create({"slug": slug, "name": slug, "teams": [ls.team],
                                                       "defaultKey": "keep"})
    key = configured(ClientKeyProvider, ls).create({"project": slug, "name": "dev-g1"})
    monitor = configured(MetricMonitorProvider, ls).create({
        "project": slug, "name": "m", "aggregate": "count()", "timeWindow": 3600,
        "conditions": [{"type": "gt", "comparison": 1, "conditionResult": 75}]})
    assert [r["injected"] for r in ls.api("GET", "/_localsentry/faults").json()["rules"]] == [1, 1, 1]
    projects = ls.api("GET", f"/api/0/organizations/{ls.org}/projects/").json()
    assert [p["slug"] for p in projects].count(slug) == 1 and project.outs["adopted"] is False
    assert sorted(k["name"] for k in ls.keys(slug)) == ["Default", "dev-g1"]
    assert key.outs["keyId"] in {k["id"] for k in ls.keys(slug)}
    detectors = _all(ls, f"/api/0/organizations/{ls.org}/detectors/", project=project.outs["projectId"])
    assert [d["name"] for d in detectors if d["type"] == "metric_issue"] == ["m"]
    assert monitor.id.endswith("/" + next(d["id"] for d in detectors if d["name"] == "m"))
