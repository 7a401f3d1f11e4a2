"""Data conditions of Sentry's workflow engine, evaluated against one event of an issue (or a detector's issue).

What each condition type means follows Sentry's condition handlers (`workflow_engine/handlers/condition/`):

- triggers: `first_seen_event` (the event made a new issue), `regression_event` (it reopened a resolved issue),
  `reappeared_event` (it brought an archived issue back), `new_high_priority_issue` / `existing_high_priority_issue`
  (a new / an existing issue of high priority), `issue_resolved_trigger` (a detector resolved its issue);
- filters: `level {level, match: eq|gte|lte}` (10 debug, 20 info, 30 warning, 40 error, 50 fatal),
  `tagged_event {key, match, value}` and `event_attribute {attribute, match, value}` (match: eq, ne, sw, ew, co, nc,
  is, ns), `issue_occurrences {value}` (times seen >= value), `age_comparison {time, value, comparison_type}`,
  `issue_priority_greater_or_equal` (75 high, 50 medium, 25 low), `issue_category {value}` (1 error, 10 outage,
  11 metric), `latest_release`, and Sentry's "slow" conditions `event_frequency_count` and
  `event_unique_user_frequency_count` `{value, interval}` (more than `value` events / users of the issue in the last
  `interval`: 1m, 5m, 15m, 1h, 1d, 1w, 30d).

A condition passes when its handler holds and its `conditionResult` is truthy (as a DataCondition gives its result
only when it holds). A group's `logicType`: `any`/`any-short` (one passes), `all`, `none`; a group without
conditions passes. Types localsentry cannot evaluate (`event_frequency_percent`, sessions, `assigned_to`,
`latest_adopted_release`, `issue_priority_deescalating`, `seer_activity_trigger`) never pass; `unsupported()` names
them so a caller can say why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LEVELS = {"sample": 0, "debug": 10, "info": 20, "warning": 30, "error": 40, "fatal": 50}
INTERVALS = {"1m": 60, "1min": 60, "5m": 300, "5min": 300, "15m": 900, "15min": 900, "1h": 3600, "1hr": 3600,
             "1d": 86400, "1w": 604800, "30d": 2592000}  # fmt: skip
AGE_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
CATEGORY_ERROR, CATEGORY_OUTAGE, CATEGORY_METRIC = 1, 10, 11
HIGH = 75
UNSUPPORTED = ("event_frequency_percent", "percent_sessions_count", "percent_sessions_percent", "assigned_to",
               "latest_adopted_release", "issue_priority_deescalating", "seer_activity_trigger")  # fmt: skip


@dataclass(frozen=True)
class Facts:
    """What the conditions see of one event of an issue. `count(since, unique_users)` counts the issue's events
    (or users) since a time; `latest_release` is the project's newest release."""

    group_id: int
    level: str = "error"
    environment: str | None = None
    release: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    is_new: bool = False
    is_regression: bool = False
    has_reappeared: bool = False
    is_resolution: bool = False
    priority: int = HIGH
    category: int = CATEGORY_ERROR
    first_seen: float = 0.0
    times_seen: int = 1
    now: float = 0.0
    latest_release: str | None = None
    count: Callable[[float, bool], int] = lambda since, users: 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value).lower()


def match(values: list[Any], kind: str, wanted: Any) -> bool:
    """Sentry's MatchType over the values an attribute has (a negative match holds for all of them)."""
    texts = [_text(v) for v in values if v is not None]
    want = _text(wanted)
    if kind == "is":
        return bool(texts)
    if kind == "ns":
        return not texts
    tests: dict[str, Callable[[str], bool]] = {
        "eq": lambda t: t == want, "sw": lambda t: t.startswith(want), "ew": lambda t: t.endswith(want),
        "co": lambda t: want in t,
    }  # fmt: skip
    positive = {"ne": "eq", "nc": "co"}
    if kind in positive:
        return not any(tests[positive[kind]](t) for t in texts)
    test = tests.get(kind)
    return test is not None and any(test(t) for t in texts)


def _exceptions(payload: dict[str, Any]) -> list[dict[str, Any]]:
    exc = payload.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else exc
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def _frames(payload: dict[str, Any]) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    for exc in _exceptions(payload):
        stack = exc.get("stacktrace")
        if isinstance(stack, dict):
            frames += [f for f in stack.get("frames") or [] if isinstance(f, dict)]
    return frames


def attribute_values(facts: Facts, name: str) -> list[Any]:
    """The values of an `event_attribute` attribute in an event, as Sentry's attribute handler reads them."""
    payload = facts.payload
    user = _dict(payload.get("user"))
    request = _dict(payload.get("request"))
    sdk = _dict(payload.get("sdk"))
    message = _dict(payload.get("logentry"))
    mechanisms = [_dict(e.get("mechanism")) for e in _exceptions(payload) if isinstance(e.get("mechanism"), dict)]
    simple: dict[str, list[Any]] = {
        "message": [message.get("formatted") or message.get("message") or payload.get("message")],
        "platform": [payload.get("platform")], "environment": [facts.environment],
        "type": ["error" if _exceptions(payload) else "default"],
        "exception.type": [e.get("type") for e in _exceptions(payload)],
        "exception.value": [e.get("value") for e in _exceptions(payload)],
        "error.handled": [m.get("handled") for m in mechanisms],
        "error.unhandled": [m.get("handled") is False for m in mechanisms],
        "user.id": [user.get("id")], "user.email": [user.get("email")], "user.username": [user.get("username")],
        "user.ip_address": [user.get("ip_address")], "http.method": [request.get("method")],
        "http.url": [request.get("url")], "sdk.name": [sdk.get("name")],
    }  # fmt: skip
    if name in simple:
        return simple[name]
    if name.startswith("stacktrace."):
        key = {"stacktrace.code": "function", "stacktrace.module": "module", "stacktrace.filename": "filename",
               "stacktrace.abs_path": "abs_path", "stacktrace.package": "package"}.get(name)  # fmt: skip
        return [f.get(key) for f in _frames(payload)] if key else []
    return []


def _frequency(facts: Facts, comparison: dict[str, Any], users: bool) -> bool:
    seconds = INTERVALS.get(str(comparison.get("interval")))
    value = comparison.get("value")
    if seconds is None or not isinstance(value, int | float):
        return False
    return facts.count(facts.now - seconds, users) > value


def _age(facts: Facts, comparison: dict[str, Any]) -> bool:
    unit = AGE_UNITS.get(str(comparison.get("time")))
    value = comparison.get("value")
    if unit is None or not isinstance(value, int | float):
        return False
    cutoff = facts.now - unit * value
    kind = comparison.get("comparison_type", comparison.get("comparisonType"))
    return facts.first_seen > cutoff if kind == "newer" else facts.first_seen < cutoff if kind == "older" else False


def _level(facts: Facts, comparison: dict[str, Any]) -> bool:
    wanted, have = comparison.get("level"), LEVELS.get(facts.level, 40)
    if isinstance(wanted, str):
        wanted = LEVELS.get(wanted.lower())
    if not isinstance(wanted, int):
        return False
    kind = comparison.get("match", "eq")
    return have >= wanted if kind == "gte" else have <= wanted if kind == "lte" else have == wanted


def holds(kind: str, comparison: Any, facts: Facts) -> bool:
    """Whether condition `kind` with its `comparison` holds for the event."""
    comp: dict[str, Any] = comparison if isinstance(comparison, dict) else {}
    handlers: dict[str, Callable[[], bool]] = {
        "first_seen_event": lambda: facts.is_new,
        "regression_event": lambda: facts.is_regression,
        "reappeared_event": lambda: facts.has_reappeared,
        "new_high_priority_issue": lambda: facts.is_new and facts.priority >= HIGH,
        "existing_high_priority_issue": lambda: not facts.is_new and facts.priority >= HIGH,
        "issue_resolved_trigger": lambda: facts.is_resolution,
        "level": lambda: _level(facts, comp),
        "tagged_event": lambda: match([facts.tags.get(str(comp.get("key")))], str(comp.get("match", "eq")),
                                      comp.get("value")),
        "event_attribute": lambda: match(attribute_values(facts, str(comp.get("attribute"))),
                                         str(comp.get("match", "eq")), comp.get("value")),
        "issue_occurrences": lambda: facts.times_seen >= int(comp.get("value") or 0),
        "age_comparison": lambda: _age(facts, comp),
        "issue_priority_greater_or_equal": lambda: isinstance(comparison, int) and facts.priority >= comparison,
        "issue_category": lambda: comp.get("value") == facts.category,
        "latest_release": lambda: facts.release is not None and facts.release == facts.latest_release,
        "event_frequency_count": lambda: _frequency(facts, comp, users=False),
        "event_unique_user_frequency_count": lambda: _frequency(facts, comp, users=True),
    }
    handler = handlers.get(kind)
    return bool(handler()) if handler is not None else False


def passes(condition: dict[str, Any], facts: Facts) -> bool:
    return holds(str(condition.get("type")), condition.get("comparison"), facts) and bool(
        condition.get("conditionResult", True))


def group_passes(group: dict[str, Any] | None, facts: Facts) -> bool:
    """A condition group `{logicType, conditions}` (None or no conditions: passes)."""
    if not group or not group.get("conditions"):
        return True
    results = [passes(c, facts) for c in group["conditions"] if isinstance(c, dict)]
    logic = group.get("logicType", "any-short")
    if logic == "all":
        return all(results)
    if logic == "none":
        return not any(results)
    return any(results)


def unsupported(group: dict[str, Any] | None) -> list[str]:
    return [str(c.get("type")) for c in (group or {}).get("conditions") or [] if c.get("type") in UNSUPPORTED]


__all__ = ["CATEGORY_ERROR", "CATEGORY_METRIC", "CATEGORY_OUTAGE", "HIGH", "INTERVALS", "LEVELS", "Facts",
           "attribute_values", "group_passes", "holds", "match", "passes", "unsupported"]
