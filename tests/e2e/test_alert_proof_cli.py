"""scripts/verify-alerts against a stack made by the real Pulumi CLI on a real localsentry (with its SMTP server):
an alert per trigger type fires and delivers (a webhook receiver in the test, the SMTP mailbox), the metric monitor
opens (and resolves once its window passes), the cron monitor's failure opens its issue, an alert made unfireable on
purpose is reported with its reason and a refused delivery with its target, a second run leaves no more issues than
the first; bad input (no alerts, Sentry not answering) is one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from infra.workspace import write_config_values
from tests.e2e.pulumi_support import ROOT
from tests.e2e.stack_support import AppStack, copy_project
from tests.support.localsentry import LocalSentry
from tests.support.receiver import Receiver, free_port

pytestmark = pytest.mark.e2e


def verify(stack: AppStack, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "verify-alerts"), "--stack", stack.stack, "--cwd",
                           str(stack.workdir), "--timeout", "30", *extra], env=stack.env(), capture_output=True,
                          text=True, timeout=900)  # fmt: skip


def alerts(hook: str, refused: str) -> dict[str, Any]:
    webhook = {"type": "webhook", "urls": [hook]}
    email = {"type": "email", "targetType": "issue_owners", "data": {"fallthroughType": "ActiveMembers"}}
    return {
        "new-issues": {"services": ["backend"], "monitors": ["error-spike"], "actions": [email, webhook],
                       "frequencyMinutes": 0},
        "regressions": {"services": ["backend"], "triggers": ["regression_event"], "actions": [webhook]},
        "reappeared": {"services": ["backend"], "triggers": ["reappeared_event"], "actions": [webhook]},
        "bursts": {"services": ["backend"], "triggers": [], "actions": [webhook],
                   "filters": [{"type": "event_frequency_count", "comparison": {"value": 4, "interval": "1m"}}]},
        "staging-only": {"services": ["backend"], "environment": "staging", "actions": [email]},
        "refused": {"services": ["frontend"], "actions": [{"type": "webhook", "urls": [refused]}]},
    }


def issues(ls: LocalSentry, project: str) -> list[dict[str, Any]]:
    resp = ls.api("GET", f"/api/0/projects/{ls.org}/{project}/issues/", params={"query": "", "statsPeriod": "1d"})
    return list(resp.json())


def test_verify_alerts_proves_each_alert_and_monitor_and_says_why_one_cannot_fire(tmp_path: Path) -> None:
    ls = LocalSentry.start(tmp_path / "ls", extra_args=["--smtp-port", "0"])
    stack = None
    try:
        with Receiver() as hooks:
            stack = AppStack.create(copy_project(tmp_path / "proj", ls), "dev", "alert-proof")
            write_config_values(stack.workdir / "Pulumi.dev.yaml", {
                "sentry-stacks:alerts": alerts(hooks.url("/hook"), f"http://127.0.0.1:{free_port()}/nobody"),
                "sentry-stacks:monitors": {"error-spike": {"service": "backend", "aggregate": "count()",
                                                           "timeWindowSeconds": 300, "query": "level:error",
                                                           "conditions": [{"type": "gt", "comparison": 5}]}},
            })  # fmt: skip
            stack.up()
            projects = stack.outputs()["sentryProjects"]

            first = verify(stack)
            out = first.stdout
            assert first.returncode == 1, out + first.stderr
            for name in ("new-issues", "regressions", "reappeared", "bursts"):
                assert any(line.startswith(f"alert   {name} ") and " fired after " in line
                           for line in out.splitlines()), (name, out)  # fmt: skip
            assert any(line.startswith("monitor error-spike") and " fired" in line for line in out.splitlines()), out
            assert any(line.startswith("cron    heartbeat") and " fired" in line for line in out.splitlines()), out
            assert "staging-only             cannot fire: it watches environment 'staging', which the stack does " \
                   "not send (its services send 'development')" in out
            assert "webhook: failed to http://127.0.0.1:" in out and "connection refused" in out
            assert "email: sent to admin@localsentry.invalid" in out and "webhook: sent to " + hooks.url("/hook") in out
            summary = out.strip().splitlines()[-1]
            assert summary.startswith("6 of 8 proven; not proven: ") and {"staging-only", "refused"} == set(
                summary.split("not proven: ")[1].split(", "))
            posted = hooks.wait(5, path="/hook")
            assert {p["json"]["triggering_rules"][0] for p in posted} >= {
                "[sentry-stacks-demo/dev] new-issues", "[sentry-stacks-demo/dev] regressions",
                "[sentry-stacks-demo/dev] reappeared", "[sentry-stacks-demo/dev] bursts"}  # fmt: skip
            assert all(p["json"]["event"]["tags"] and p["json"]["event"]["environment"] == "development"
                       for p in posted if p["json"]["event"].get("event_id"))  # fmt: skip
            mail = ls.api("GET", "/_localsentry/mail").json()
            assert any("sentry-stacks proof of alert 'new-issues'" in m["text"] for m in mail)

            after_first = {p: sorted(i["id"] for i in issues(ls, slug)) for p, slug in projects.items()}
            assert not any("proof of alert" in i["title"] for slug in projects.values() for i in issues(ls, slug))
            second = verify(stack)
            assert second.returncode == 1 and "monitor error-spike" in second.stdout, second.stdout
            assert {p: sorted(i["id"] for i in issues(ls, slug)) for p, slug in projects.items()} == after_first

            ls.api("PUT", "/_localsentry/clock", json={"offset": 400})  # the monitor's window passes the burst
            detector = next(d for d in ls.api("GET", f"/api/0/organizations/{ls.org}/detectors/",
                                              params={"query": "type:metric_issue"}).json())  # fmt: skip
            deadline = time.monotonic() + 30
            path = f"/api/0/organizations/{ls.org}/detectors/{detector['id']}/"
            while ls.api("GET", path).json()["latestGroup"]["status"] != "resolved":
                assert time.monotonic() < deadline, "the metric monitor's issue did not resolve"
                time.sleep(0.5)

            stack_file = stack.workdir / "Pulumi.dev.yaml"
            declared = stack_file.read_text()
            write_config_values(stack_file, {"sentry-stacks:alerts": {}, "sentry-stacks:monitors": {},
                                             "sentry-stacks:cronMonitors": {}})  # fmt: skip
            nothing = verify(stack)
            assert nothing.returncode == 2
            assert nothing.stderr.strip().splitlines() == [
                "verify-alerts: stack dev declares no alerts, monitors or cron monitors: nothing to prove"]
            stack_file.write_text(declared)
            ls.stop()
            gone = verify(stack)
            assert gone.returncode == 2 and gone.stderr.startswith("verify-alerts: "), gone.stderr
            assert len(gone.stderr.strip().splitlines()) == 1 and "does not answer" in gone.stderr
    finally:
        if stack is not None:
            if ls.proc is None:
                ls.restart()  # the same database and port: destroy finds what up made
            stack.run("destroy", "--yes", check=False, timeout=600)
        ls.stop()
