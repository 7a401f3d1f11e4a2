"""The alert proof (infra/alert_proof.py) against a real localsentry with its SMTP server, without Pulumi: alerts
declared in the settings, their workflows made through the API as `up` makes them; the proof sends real sentry-sdk
events, finds each firing in the fire history and each delivery at its receiver, says why one cannot fire, and
leaves no proof issue behind, run after run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.alert_proof import Prover
from infra.sentry.client import Connection, SentryClient
from infra.settings import load_settings
from infra.settings.loader import project_defaults, with_defaults
from infra.settings.model import NS
from tests.support.localsentry import LocalSentry
from tests.support.receiver import Receiver, free_port

pytestmark = pytest.mark.sentry
ROOT = Path(__file__).resolve().parents[2]


def test_the_proof_fires_delivers_explains_and_cleans_up(tmp_path: Path) -> None:
    with Receiver() as hooks, LocalSentry.start(tmp_path, extra_args=["--smtp-port", "0"]) as ls:
        project = ls.create_project()
        slug = project["slug"]
        refused = f"http://127.0.0.1:{free_port()}/nobody"
        alerts: dict[str, Any] = {
            "seen": {"services": ["backend"], "actions": [{"type": "email"}, {"type": "webhook",
                                                                              "urls": [hooks.url("/hook")]}]},
            "again": {"services": ["backend"], "triggers": ["regression_event"], "actions": [{"type": "email"}]},
            "elsewhere": {"services": ["backend"], "environment": "staging", "actions": [{"type": "email"}]},
        }
        config = with_defaults({f"{NS}:alerts": alerts, f"{NS}:monitors": {}, f"{NS}:cronMonitors": {},
                                f"{NS}:release": "r1"}, project_defaults(ROOT / "Pulumi.yaml", NS))  # fmt: skip
        settings = load_settings(config, stack="dev", root=ROOT, require_sentry=False)
        [stream] = ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/",
                          params={"query": "type:issue_stream", "project": project["id"]}).json()
        plugin = f"/api/0/projects/{ls.org}/{slug}/plugins/webhooks/"
        ls.api("PUT", plugin, json={"urls": f"{hooks.url('/hook')}\n{refused}"})
        ls.api("POST", plugin)
        for name, spec in settings.alerts.items():
            actions = [{"type": a.type, "data": dict(a.data), "config": {"targetType": a.target_type,
                        "targetIdentifier": a.target_identifier}} for a in spec.actions]  # fmt: skip
            ls.api("POST", f"/api/0/organizations/{ls.org}/workflows/", json={
                "name": f"[{settings.app}/dev] {name}", "detectorIds": [stream["id"]],
                "environment": spec.environment or settings.environment, "config": {"frequency": 30},
                "triggers": {"logicType": "any-short", "conditions": [
                    {"type": t.type, "comparison": True, "conditionResult": True} for t in spec.trigger_conditions()]},
                "actionFilters": [{"logicType": "all", "conditions": [], "actions": actions}]})  # fmt: skip
        client = SentryClient(Connection(ls.url + "/api/0/", ls.org, ls.token))
        lines: list[str] = []

        def prove() -> list[Any]:
            prover = Prover(settings, {"backend": ls.dsn(slug)}, client, "run1", lines.append, timeout=20)
            prover.projects, prover.local = {"backend": slug}, True
            return prover.prove_all()

        outcomes = {o.name: o for o in prove()}
        assert outcomes["seen"].fired and outcomes["again"].fired, lines
        assert outcomes["elsewhere"].reason == ("it watches environment 'staging', which the stack does not send "
                                                f"(its services send {settings.environment!r})")  # fmt: skip
        seen = outcomes["seen"].deliveries
        assert any(d.startswith("email: sent to admin@localsentry.invalid") for d in seen), seen
        assert any(d.startswith(f"webhook: sent to {hooks.url('/hook')}") for d in seen), seen
        assert any(d.startswith(f"webhook: failed to {refused}") and "connection refused" in d for d in seen), seen
        assert not outcomes["seen"].ok and outcomes["again"].ok  # a refusing target is a failed proof
        body = hooks.wait(1, path="/hook")[0]["json"]
        assert body["event"]["tags"] and ["sentry-stacks.proof", "run1"] in body["event"]["tags"]
        issues = ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/issues/", params={"query": ""}).json()
        assert issues == []  # the proof issues are deleted
        again = {o.name: o for o in prove()}
        assert again["seen"].fired and again["again"].fired, lines  # a new issue again: first_seen holds again
        assert ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/issues/", params={"query": ""}).json() == []
