"""Prove that a stack's alerts and monitors fire: send what each needs through the service's real DSN, wait for
Sentry's own record of the firing, report who was notified, and clean up (`sentry-stacks-verify-alerts`).

Per alert (plan: `infra/alert_proof_plan.py`): the marked events (tag `sentry-stacks.proof: <run>`, their own
fingerprint per alert, so they never join an app issue); for a regression the proof issue is resolved and seen
again, for a reappearance archived until its next event and seen again. Proof = the workflow's fire history
(`GET …/workflows/{id}/group-history/`) lists the proof issue. Delivery: on localsentry each action's delivery at
its receiver (`/_localsentry/deliveries`: sent, or failed and why); elsewhere Sentry's test-fire of the workflow's
actions (`POST …/test-fire-actions/`), which sends each action once with a sample event and answers its errors.
Afterwards the proof issues are deleted (their events then leave the app's issue stream; Sentry still counted
them at ingest), so a second run starts from a new issue again.

Per metric monitor: a burst of marked events past its lowest threshold; proof = the monitor's `latestGroup` is an
open issue (an issue that is already open proves it too: a second run within the window finds it open). The
monitor's issue resolves itself once its window has no burst in it. Per cron monitor: failed check-ins (as many
as `failureIssueThreshold`) open its issue, then successful ones (`recoveryThreshold`) close it again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import infra.contract as contract
from infra.alert_proof_plan import Probe, plan_alert, plan_cron, plan_monitor
from infra.rotation_ops import StackHandle
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryError
from infra.settings import SettingsError, load_settings
from infra.settings.loader import project_defaults, with_defaults
from infra.settings.result import StackSettings
from infra.workspace import ROOT

Log = Callable[[str], None]
POLL = 0.5
FLUSH_EVERY = 50


class ProofError(RuntimeError):
    """The proof cannot run at all (one line: no alerts, no outputs, Sentry not answering)."""


def sdk_name(platform: str) -> str:
    """The ``sdk.name`` events of a service of this Sentry platform carry: ``sentry.python``, ``sentry.javascript``
    (``javascript-*``, ``node-*``...), else the platform's own SDK's (``go``: ``sentry.go``, ``ruby``:
    ``sentry.ruby``)."""
    head = platform.split("-")[0]
    sdk = contract.platform_sdk(platform)
    return f"sentry.{sdk}" if sdk is not None else f"sentry.{head}" if head else "sentry.python"


@dataclass
class Outcome:
    kind: str
    name: str
    fired: bool = False
    seconds: float | None = None
    deliveries: list[str] = field(default_factory=list)
    failed_deliveries: int = 0
    reason: str | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.fired and not self.failed_deliveries

    def line(self) -> str:
        head = f"{self.kind:<7} {self.name:<24}"
        if self.reason and not self.fired:
            return f"{head} cannot fire: {self.reason}"
        if not self.fired:
            return f"{head} NOT fired{': ' + self.note if self.note else ''}"
        took = f" after {self.seconds:.1f}s" if self.seconds is not None else ""
        parts = [f"{head} fired{took}{' (' + self.note + ')' if self.note else ''}"]
        parts += [f"        {d}" for d in self.deliveries]
        return "\n".join(parts)


@dataclass
class Prover:
    settings: StackSettings
    dsns: dict[str, str]
    client: SentryClient
    run: str
    log: Log
    timeout: float = 60.0
    max_burst: int = 200
    keep: bool = False
    local: bool = False
    projects: dict[str, str] = field(default_factory=dict)  # service -> project slug
    proof_groups: list[str] = field(default_factory=list)

    @property
    def org(self) -> str:
        return str(self.client.org)

    def local_url(self, what: str) -> str:
        """A localsentry control URL (`/_localsentry/<what>`) beside the API root."""
        return self.client.connection.api_root.rsplit("/api/0/", 1)[0] + f"/_localsentry/{what}"

    def context(self) -> dict[str, Any]:
        services = {s.name: {"platform": (s.platform or "").split("-")[0], "sdk": sdk_name(s.platform or "")}
                    for s in self.settings.sentry_services()}  # fmt: skip
        return {"environment": self.settings.environment, "release": self.settings.release, "services": services}

    # -- Sentry reads ----------------------------------------------------------------------------------------

    def _sentry_name(self, name: str) -> str:
        return f"[{self.settings.app}/{self.settings.stack}] {name}"

    def workflow(self, name: str) -> dict[str, Any] | None:
        wanted = self._sentry_name(name)[:256]
        for wf in self.client.paginate(f"organizations/{self.org}/workflows/", what="workflows",
                                       params={"query": wanted}):  # fmt: skip
            if wf.get("name") == wanted:
                return dict(wf)
        return None

    def detector(self, name: str, kind: str) -> dict[str, Any] | None:
        wanted = self._sentry_name(name)
        for det in self.client.paginate(f"organizations/{self.org}/detectors/", what="monitors",
                                        params={"query": f"type:{kind}"}):  # fmt: skip
            if str(det.get("name", "")).startswith(wanted[:128]) and det.get("type") == kind:
                return dict(det)
        return None

    def fired_for(self, workflow_id: str, group_id: str, since: float) -> bool:
        history = self.client.get(f"organizations/{self.org}/workflows/{workflow_id}/group-history/",
                                  what="the alert's fire history", params={"statsPeriod": "1h"})  # fmt: skip
        for item in history or []:
            if str((item.get("group") or {}).get("id")) == group_id:
                return True
        return False

    def group_of(self, service: str, event_id: str, deadline: float) -> str | None:
        path = f"projects/{self.org}/{self.projects[service]}/events/{event_id}/"
        while time.monotonic() < deadline:
            event = self.client.get_or_none(path, what="the proof event")
            if isinstance(event, dict) and event.get("groupID"):
                return str(event["groupID"])
            time.sleep(POLL)
        return None

    # -- sending ---------------------------------------------------------------------------------------------

    def send(self, probe: Probe, count: int | None = None) -> list[str]:
        import sentry_sdk

        dsn = self.dsns[probe.service or ""]
        client = sentry_sdk.Client(dsn=dsn, environment=probe.environment, release=probe.release or
                                   self.settings.release, default_integrations=False,
                                   auto_enabling_integrations=False, traces_sample_rate=0.0)  # fmt: skip
        ids = []
        for i in range(count if count is not None else probe.events):
            event = probe.event(self.run, self.settings.stack)
            if probe.users:
                event["user"] = {"id": f"sentry-stacks-proof-{self.run}-{i}"}
            event_id = client.capture_event(event, scope=sentry_sdk.Scope())  # type: ignore[arg-type]
            if event_id:
                ids.append(str(event_id))
            if (i + 1) % FLUSH_EVERY == 0:  # the SDK's queue holds 100 events: a larger burst waits for it
                client.flush(timeout=10)
        client.flush(timeout=10)
        client.close(timeout=2)
        if not ids:
            raise ProofError("the Sentry SDK dropped every proof event before sending it")
        return ids

    def set_status(self, group_id: str, body: dict[str, Any]) -> None:
        self.client.put(f"organizations/{self.org}/issues/{group_id}/", body, what="the proof issue")

    # -- proofs ----------------------------------------------------------------------------------------------

    def prove_alert(self, probe: Probe) -> Outcome:
        out = Outcome("alert", probe.name, reason=probe.reason)
        workflow = self.workflow(probe.name)
        if workflow is None:
            out.reason = f"no alert named {self._sentry_name(probe.name)!r} in Sentry: run `pulumi up` first"
            return out
        if probe.reason is not None or probe.via_monitors:
            if probe.via_monitors and probe.reason is None:
                out.note = f"fires through monitors {', '.join(probe.via_monitors)}"
            return out
        start, deadline = time.monotonic(), time.monotonic() + self.timeout
        since = time.time()
        assert probe.service is not None
        ids = self.send(probe, 1)
        group = self.group_of(probe.service, ids[0], deadline)
        if group is None:
            out.note = f"the proof event {ids[0]} never reached an issue within {self.timeout:.0f}s"
            return out
        self.proof_groups.append(group)
        if probe.history in ("regression", "reappeared", "again"):
            if probe.history == "regression":
                self.set_status(group, {"status": "resolved"})
            elif probe.history == "reappeared":
                self.set_status(group, {"status": "ignored", "statusDetails": {"ignoreCount": 1}})
            start = time.monotonic()
            self.send(probe, 1)
        if probe.events > 1:
            self.send(probe, probe.events - 1)
        while time.monotonic() < deadline:
            if self.fired_for(str(workflow["id"]), group, since):
                out.fired, out.seconds = True, time.monotonic() - start
                break
            time.sleep(POLL)
        if not out.fired:
            out.note = f"no firing for issue {group} within {self.timeout:.0f}s"
            return out
        self.deliveries(out, workflow, group, deadline)
        return out

    def deliveries(self, out: Outcome, workflow: dict[str, Any], group: str, deadline: float) -> None:
        if self.local:
            deadline = max(deadline, time.monotonic() + 15)  # the receivers answer within the worker's timeouts
            while True:
                rows = list(self.client.get(self.local_url("deliveries"), what="deliveries",
                                            params={"workflow": str(workflow["id"]), "group": group}) or [])
                if (rows and all(d["status"] != "pending" for d in rows)) or time.monotonic() >= deadline:
                    break
                time.sleep(POLL)
            for d in rows:
                out.deliveries.append(f"{d['type']}: {d['status']} to {d['target']}"
                                      + (f" ({d['detail']})" if d.get("detail") else ""))  # fmt: skip
                out.failed_deliveries += d["status"] != "sent"
            if not rows:
                out.deliveries.append("no delivery recorded")
                out.failed_deliveries += 1
            return
        actions = [{k: a.get(k) for k in ("type", "integrationId", "data", "config")}
                   for g in workflow.get("actionFilters") or [] for a in g.get("actions") or []]  # fmt: skip
        try:
            self.client.request("POST", f"organizations/{self.org}/test-fire-actions/", action="update",
                                what="the alert's test-fire", json_body={"actions": actions})  # fmt: skip
            out.deliveries += [f"{a['type']}: test-fired by Sentry (a sample event)" for a in actions]
        except SentryError as exc:
            out.deliveries.append(f"test-fire refused: {exc}")
            out.failed_deliveries += 1

    def prove_detector(self, probe: Probe, kind: str) -> Outcome:
        out = Outcome("monitor" if kind == "metric_issue" else "cron", probe.name, reason=probe.reason)
        if probe.reason is not None:
            return out
        detector = self.detector(probe.name, kind)
        if detector is None:
            out.reason = f"no monitor named {self._sentry_name(probe.name)!r} in Sentry: run `pulumi up` first"
            return out
        latest = detector.get("latestGroup") or {}
        if latest.get("status") == "unresolved":
            out.fired, out.note = True, f"its issue {latest.get('shortId')} is already open"
            return out
        start, deadline, since = time.monotonic(), time.monotonic() + self.timeout, time.time() - 1
        if kind == "metric_issue":
            ids = self.send(probe)
            out.note = f"{probe.events} events"
            burst = self.group_of(probe.service or "", ids[0], deadline)
            if burst is not None:
                self.proof_groups.append(burst)
        else:
            self.checkin(probe, probe.checkins[: probe.checkins.index("ok")])
        path = f"organizations/{self.org}/detectors/{detector['id']}/"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since))
        while time.monotonic() < deadline:
            group = (self.client.get(path, what="the monitor") or {}).get("latestGroup") or {}
            if group.get("id") and self.opened_since(str(group["id"]), stamp):
                out.fired, out.seconds = True, time.monotonic() - start
                out.note = f"{out.note + ', ' if out.note else ''}issue {group.get('shortId')}"
                break
            time.sleep(POLL)
        if kind != "metric_issue":
            self.checkin(probe, probe.checkins[probe.checkins.index("ok"):])
        if not out.fired:
            out.note = f"no issue opened within {self.timeout:.0f}s"
        return out

    def opened_since(self, group_id: str, stamp: str) -> bool:
        """The issue was opened (first seen, or regressed) at or after `stamp` (its activity)."""
        body = self.client.get(f"organizations/{self.org}/issues/{group_id}/activities/", what="the issue's activity")
        return any(a.get("type") in ("first_seen", "set_regression") and str(a.get("dateCreated") or "") >= stamp
                   for a in (body or {}).get("activity") or [])  # fmt: skip

    def checkin(self, probe: Probe, statuses: tuple[str, ...]) -> None:
        import sentry_sdk
        from sentry_sdk.crons import capture_checkin

        slug = next(c.slug for c in self.settings.cron_monitors if c.name == probe.name)
        client = sentry_sdk.Client(dsn=self.dsns[probe.service or ""], environment=probe.environment,
                                   default_integrations=False)  # fmt: skip
        with sentry_sdk.new_scope() as scope:
            scope.set_client(client)
            for status in statuses:
                capture_checkin(monitor_slug=slug, status=status)
        client.flush(timeout=10)
        client.close(timeout=2)

    def cleanup(self) -> None:
        if self.keep:
            return
        for group in self.proof_groups:
            self.client.delete(f"organizations/{self.org}/issues/{group}/", what="the proof issue")

    def fired_since(self, workflow_id: str, since: float) -> bool:
        history = self.client.get(f"organizations/{self.org}/workflows/{workflow_id}/group-history/",
                                  what="the alert's fire history", params={"statsPeriod": "1h"})  # fmt: skip
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since))
        return any(str(item.get("lastTriggered") or "") >= stamp for item in history or [])

    def prove_all(self) -> list[Outcome]:
        ctx = self.context()
        outcomes: list[Outcome] = []
        later: list[tuple[Outcome, str]] = []
        since = time.time() - 1
        try:
            for name, spec in self.settings.alerts.items():
                owners = list(dict.fromkeys(self.settings.owner_of(svc) for svc in spec.services))
                probe = plan_alert(name, spec, owners, ctx, self.max_burst)
                outcomes.append(self.prove_alert(probe))
                workflow = self.workflow(name) if probe.via_monitors and probe.reason is None else None
                if workflow is not None:
                    later.append((outcomes[-1], str(workflow["id"])))
                    continue
                self.log(outcomes[-1].line())
            for name, monitor in self.settings.monitors.items():
                probe = plan_monitor(name, monitor, self.settings.owner_of(monitor.service), ctx, self.max_burst)
                outcomes.append(self.prove_detector(probe, "metric_issue"))
                self.log(outcomes[-1].line())
            for cron in self.settings.cron_monitors:
                outcomes.append(self.prove_detector(plan_cron(cron, ctx), "monitor_check_in_failure"))
                self.log(outcomes[-1].line())
            for outcome, workflow_id in later:  # alerts that watch only monitors: fired with them
                outcome.fired, outcome.reason = self.fired_since(workflow_id, since), None
                outcome.note = "" if outcome.fired else "its monitors' issues did not fire it"
                self.log(outcome.line())
        finally:
            self.cleanup()
        return outcomes


def prove_stack(name: str, log: Log, *, timeout: float = 60.0, max_burst: int = 200, keep: bool = False,
                root: Path | None = None) -> list[Outcome]:  # fmt: skip
    """Prove every alert and monitor of stack `name` (its config and last outputs); ProofError: it cannot run."""
    root = root or ROOT
    try:
        handle = StackHandle.open(name, log, root)
    except Exception as exc:  # the Automation API raises its own errors for a missing stack or backend
        raise ProofError(f"stack {name}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc}") from None
    ns = handle.project  # the settings' namespace: the project's name (sentry-stacks here, yours in your project)
    config = with_defaults(dict(handle.config), project_defaults(root / "Pulumi.yaml", ns))
    if f"{ns}:release" not in config and handle.outputs.get("release"):
        config[f"{ns}:release"] = handle.outputs["release"]
    try:
        settings = load_settings(config, stack=name, project=ns, root=root, require_sentry=False)
    except SettingsError as exc:
        first = exc.problems[0]
        raise ProofError(f"stack {name} has {len(exc.problems)} settings problem(s), first: {first}") from None
    if not (settings.alerts or settings.monitors or settings.cron_monitors):
        raise ProofError(f"stack {name} declares no alerts, monitors or cron monitors: nothing to prove")
    dsns = handle.outputs.get("dsns")
    if not isinstance(dsns, dict) or not dsns:
        raise ProofError(f"stack {name} has no DSNs in its outputs: run `pulumi up -s {name}` first")
    try:
        client = handle.sentry()
        client.get(f"organizations/{client.org}/", what=f"organization '{client.org}'")
    except SentryError as exc:
        raise ProofError(f"Sentry does not answer: {exc}") from None
    prover = Prover(settings, {k: str(v) for k, v in dsns.items()}, client, uuid.uuid4().hex[:12], log,
                    timeout=timeout, max_burst=max_burst, keep=keep)  # fmt: skip
    prover.projects = {str(k): str(v) for k, v in (handle.outputs.get("sentryProjects") or {}).items()}
    try:
        prover.local = isinstance(client.get_or_none(prover.local_url("info"), what="localsentry"), dict)
    except SentryError:
        prover.local = False
    log(f"proving the alerts and monitors of stack {name} against {client.connection.api_root} (run {prover.run})")
    return prover.prove_all()


__all__ = ["Outcome", "ProofError", "Prover", "prove_stack"]
