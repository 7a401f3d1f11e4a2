"""What to send to prove each alert and monitor of a stack fires, or why it never can (pure; no I/O).

An alert (a workflow) fires for an event when its triggers and one of its action filters hold. The plan picks the
simplest issue history that makes its triggers hold (a new issue; a resolved issue seen again; an archived issue
seen again) and an event that meets its filters (level, tags, attributes, occurrences, frequency, release), sent
by one of its services in the environment it watches. A metric monitor gets a burst of events that takes its
query's value past its lowest threshold; a cron monitor gets failed check-ins (then successful ones).

A plan without `reason` can fire; `reason` says why nothing the stack sends can make it fire (a filter no event of
the service meets, an environment the stack does not send, a trigger no event makes hold, a burst too large).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.crons import CronMonitorSpec
from infra.settings.sentry_objects import ActionSettings, AlertSettings, ConditionSettings, MonitorSettings

LEVEL_NAMES = {0: "debug", 10: "debug", 20: "info", 30: "warning", 40: "error", 50: "fatal"}
PROOF_TAG = "sentry-stacks.proof"
#: Trigger types that each issue history makes hold (with an event of high priority, i.e. level error or fatal).
HISTORIES: dict[str, tuple[str, ...]] = {
    "new": ("first_seen_event", "new_high_priority_issue"),
    "regression": ("regression_event", "existing_high_priority_issue"),
    "reappeared": ("reappeared_event", "existing_high_priority_issue"),
    "again": ("existing_high_priority_issue",),
}
HIGH_PRIORITY_TRIGGERS = ("new_high_priority_issue", "existing_high_priority_issue")
UNMEETABLE = {
    "assigned_to": "a proof event's issue is new and unassigned",
    "latest_adopted_release": "release adoption needs sessions over time",
    "event_frequency_percent": "a percentage of sessions needs real traffic",
    "percent_sessions_count": "a percentage of sessions needs real traffic",
    "percent_sessions_percent": "a percentage of sessions needs real traffic",
    "issue_priority_deescalating": "a proof issue never de-escalates",
}


@dataclass(frozen=True)
class Probe:
    """One event (or a burst of them) and the issue history before it."""

    kind: str  # alert, monitor, cron
    name: str
    service: str | None = None
    environment: str | None = None
    history: str = "new"  # new, regression (resolve, then again), reappeared (archive, then again), again
    events: int = 1
    level: str = "error"
    tags: tuple[tuple[str, str], ...] = ()
    message: str | None = None
    exception: tuple[str, str] | None = None  # (type, value)
    users: bool = False  # each event of the burst from another user
    release: str | None = None
    checkins: tuple[str, ...] = ()  # cron: the check-in statuses to send, in order
    actions: tuple[ActionSettings, ...] = ()
    via_monitors: tuple[str, ...] = ()  # an alert proven through its monitors
    reason: str | None = None

    def event(self, run: str, stack: str) -> dict[str, Any]:
        """The marked event: the proof tag, its own fingerprint, what the filters need."""
        body: dict[str, Any] = {
            "level": self.level, "fingerprint": ["sentry-stacks-proof", stack, self.kind, self.name],
            "tags": {PROOF_TAG: run, **dict(self.tags)},
            "message": self.message or f"sentry-stacks proof of {self.kind} {self.name!r} ({run})",
        }  # fmt: skip
        if self.exception is not None:
            body["exception"] = {"values": [{"type": self.exception[0], "value": self.exception[1]}]}
        return body


@dataclass
class _Event:
    level: str = "error"
    tags: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    exception: tuple[str, str] | None = None
    events: int = 1
    users: bool = False
    release: str | None = None


def _text_for(match: str, value: str) -> str | None:
    """A value that meets a string match (None: any value does, or it needs the attribute absent)."""
    return {"eq": value, "sw": f"{value} (proof)", "ew": f"proof {value}", "co": f"proof {value} proof",
            "is": value or "proof"}.get(match)  # fmt: skip


def _meet(cond_type: str, comp: Any, ev: _Event, ctx: dict[str, Any]) -> str | None:
    """Change the event so the filter holds; returns why it cannot hold, else None."""
    c: dict[str, Any] = comp if isinstance(comp, dict) else {}
    if cond_type in UNMEETABLE:
        return f"filter {cond_type}: {UNMEETABLE[cond_type]}"
    if cond_type == "level":
        level = c.get("level")
        name = LEVEL_NAMES.get(int(level)) if isinstance(level, int | float) else str(level or "error").lower()
        ev.level = name or "error"
        return None
    if cond_type == "tagged_event":
        value = _text_for(str(c.get("match", "eq")), str(c.get("value") or ""))
        if value is not None:
            ev.tags[str(c.get("key"))] = value
        return None
    if cond_type == "event_attribute":
        return _attribute(str(c.get("attribute")), str(c.get("match", "eq")), str(c.get("value") or ""), ev, ctx)
    if cond_type == "issue_occurrences":
        ev.events = max(ev.events, int(c.get("value") or 1))
    elif cond_type in ("event_frequency_count", "event_unique_user_frequency_count"):
        ev.events = max(ev.events, int(c.get("value") or 0) + 1)
        ev.users = ev.users or cond_type == "event_unique_user_frequency_count"
    elif cond_type == "age_comparison" and c.get("comparison_type", c.get("comparisonType")) == "older":
        return f"filter age_comparison: needs an issue older than {c.get('value')} {c.get('time')}(s); a proof " \
               "issue is new"
    elif cond_type == "issue_category" and c.get("value") not in (1, None):
        return f"filter issue_category {c.get('value')}: a proof event makes an error issue (category 1)"
    elif cond_type == "issue_priority_greater_or_equal":
        ev.level = "error"
    elif cond_type == "latest_release":
        ev.release = ctx.get("release")
    return None


def _attribute(name: str, match: str, value: str, ev: _Event, ctx: dict[str, Any]) -> str | None:
    negative = match in ("ne", "nc", "ns")
    if name == "environment":
        env = str(ctx.get("environment"))
        ok = (env != value) if negative else env == value or _text_for(match, value) is None
        return None if ok else f"filter event_attribute environment {match} {value!r}: the stack sends {env!r}"
    if name in ("platform", "sdk.name"):
        have = str(ctx.get("platform" if name == "platform" else "sdk") or "")
        want = _text_for(match, value)
        if negative or want is None or have.lower() == want.lower() or (match != "eq" and value.lower() in have):
            return None
        return (f"filter event_attribute {name} {match} {value!r}: no event of service {ctx.get('service')} has it "
                f"(its {name} is {have!r})")
    text = _text_for(match, value)
    if negative or text is None:
        return None
    if name == "message":
        ev.message = text
    elif name == "exception.type":
        ev.exception = (text, (ev.exception or ("", "proof"))[1])
    elif name == "exception.value":
        ev.exception = ((ev.exception or ("ProofError", ""))[0], text)
    else:
        return f"filter event_attribute {name}: a proof event does not carry it"
    return None


def _history(spec: AlertSettings, triggers: Sequence[ConditionSettings]) -> tuple[str | None, str | None]:
    """(the issue history that makes the triggers hold, or why none does)."""
    kinds = [t.type for t in triggers if t.result]
    if not kinds:
        return "new", None
    if "issue_resolved_trigger" in kinds and spec.trigger_logic == "all":
        return None, "trigger issue_resolved_trigger holds only when a monitor resolves its issue, never for an event"
    for history in ("new", "regression", "reappeared", "again"):
        holding = set(HISTORIES[history])
        if spec.trigger_logic == "all" and set(kinds) <= holding:
            return history, None
        if spec.trigger_logic in ("any", "any-short") and holding & set(kinds):
            return history, None
        if spec.trigger_logic == "none" and history == "again" and not holding & set(kinds):
            return history, None
    if spec.trigger_logic == "none":
        return "again", None
    return None, f"triggers {', '.join(kinds)} never hold together for one event (triggerLogic {spec.trigger_logic})"


def plan_alert(name: str, spec: AlertSettings, services: Sequence[str], ctx: dict[str, Any], max_burst: int) -> Probe:
    """Alert `name` on the projects of `services` (the services that own them). `ctx`: environment (the stack's),
    release, and per service: platform and sdk (`services`)."""
    base = Probe("alert", name, actions=tuple(spec.actions), environment=spec.environment or ctx["environment"])
    if not spec.enabled:
        return _with(base, reason="the alert is disabled (enabled: false)")
    if spec.environment and spec.environment != ctx["environment"]:
        return _with(base, reason=f"it watches environment {spec.environment!r}, which the stack does not send "
                                  f"(its services send {ctx['environment']!r})")  # fmt: skip
    if not services:
        return _with(base, via_monitors=tuple(spec.monitors),
                     reason=None if spec.monitors else "it watches no service and no monitor")
    service = services[0]
    sctx = {**ctx, **ctx["services"].get(service, {}), "service": service}
    triggers = spec.trigger_conditions()
    history, why = _history(spec, triggers)
    if history is None:
        return _with(base, service=service, reason=why)
    ev = _Event(release=ctx.get("release"))
    if any(t.type in HIGH_PRIORITY_TRIGGERS for t in triggers) and spec.trigger_logic != "none":
        ev.level = "error"
    problems = [p for c in spec.filters if (p := _meet(c.type, c.comparison, ev, sctx)) is not None]
    if spec.filters and spec.filter_logic in ("any", "any-short") and len(problems) < len(spec.filters):
        problems = []
    if spec.filters and spec.filter_logic == "none":
        problems, ev = [], _Event(release=ctx.get("release"))
    if problems:
        return _with(base, service=service, reason="; ".join(problems))
    if ev.events > max_burst:
        return _with(base, service=service, reason=f"it needs a burst of {ev.events} events (more than --max-burst "
                                                   f"{max_burst})")  # fmt: skip
    return _with(base, service=service, history=history, events=ev.events, level=ev.level,
                 tags=tuple(sorted(ev.tags.items())), message=ev.message, exception=ev.exception, users=ev.users,
                 release=ev.release)  # fmt: skip


def _query_event(query: str, ev: _Event) -> str | None:
    """Meet a monitor's search query with the burst's events (`key:value` terms, free text)."""
    for term in re.findall(r'!?[\w.\[\]-]+:"[^"]*"|!?[\w.\[\]-]+:\S+|"[^"]*"|\S+', query.split(" OR ")[0]):
        if term.startswith("!"):
            continue
        key, sep, value = term.partition(":")
        value = value.strip('"')
        if not sep:
            ev.message = f"sentry-stacks proof {term.strip(chr(34))}"
        elif key == "level":
            ev.level = value
        elif key in ("message", "title"):
            ev.message = value.replace("*", "")
        elif key in ("environment", "event.type", "has"):
            continue
        elif "*" in value or value.startswith("["):
            return f"query term {term!r} is not met by a proof event"
        else:
            ev.tags[key[5:-1] if key.startswith("tags[") else key] = value
    return None


def plan_monitor(name: str, spec: MonitorSettings, service: str, ctx: dict[str, Any], max_burst: int) -> Probe:
    """Metric monitor `name` on the project of `service` (the service that owns it)."""
    base = Probe("monitor", name, service=service, environment=spec.environment or ctx["environment"])
    aggregate = spec.aggregate.replace(" ", "")
    if not spec.enabled:
        return _with(base, reason="the monitor is disabled (enabled: false)")
    if spec.environment and spec.environment != ctx["environment"]:
        return _with(base, reason=f"it watches environment {spec.environment!r}, which the stack does not send")
    if spec.dataset != "events" or aggregate not in ("count()", "count_unique(user)"):
        return _with(base, reason=f"{spec.aggregate} on dataset {spec.dataset}: the proof sends error events and "
                                  "proves count() and count_unique(user) of the events dataset")  # fmt: skip
    if spec.detection_type != "static":
        return _with(base, reason=f"detectionType {spec.detection_type} compares with history a burst cannot make")
    thresholds = [c.comparison for c in spec.conditions if c.type == "gt" and c.result > 0]
    if not thresholds:
        return _with(base, reason="no gt condition with a priority: a burst of events only raises the value")
    ev = _Event(events=math.floor(min(thresholds)) + 1, users=aggregate == "count_unique(user)")
    problem = _query_event(spec.query, ev)
    if problem is not None:
        return _with(base, reason=problem)
    if ev.events > max_burst:
        return _with(base, reason=f"it needs {ev.events} events in {spec.time_window_seconds}s (more than "
                                  f"--max-burst {max_burst})")  # fmt: skip
    return _with(base, events=ev.events, level=ev.level, tags=tuple(sorted(ev.tags.items())), message=ev.message,
                 users=ev.users)  # fmt: skip


def plan_cron(spec: CronMonitorSpec, ctx: dict[str, Any]) -> Probe:
    cron = spec.settings
    base = Probe("cron", spec.name, service=spec.service, environment=spec.environment or ctx["environment"])
    if not cron.enabled:
        return _with(base, reason="the cron monitor is disabled")
    failures, recoveries = int(cron.failure_issue_threshold or 1), int(cron.recovery_threshold or 1)
    return _with(base, checkins=("error",) * failures + ("ok",) * recoveries)


def _with(probe: Probe, **changes: Any) -> Probe:
    return Probe(**{**probe.__dict__, **changes})


__all__ = ["PROOF_TAG", "Probe", "plan_alert", "plan_cron", "plan_monitor"]
