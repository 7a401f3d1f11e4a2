"""Fault injection for reliability tests: errors, 429s, delays and dropped connections per path and method.

Spec (JSON), off by default::

    {"seed": 7, "rules": [{"path": "^/api/0/projects/", "methods": ["POST"],
                           "status": {"500": 0.1, "502": 0.1, "503": 0.1}, "rate_limit": 0.1,
                           "delay": 0.5, "delay_seconds": 0.2, "drop": 0.1, "drop_after_commit": 0.1,
                           "count": 3}]}

Shorthand: `{"path": "...", "status": [500, 503], "probability": 0.1}` (one of the statuses, 429 included,
with total probability 0.1), `{"drop": true, "probability": 0.05}`, `{"drop_after_commit": true, ...}`,
`{"delay": true, "delay_seconds": 1, "probability": 0.5}`.

`path` is a regex searched in the request path, `methods` limits the rule (default: all). Each rule draws
once per matching request for at most one of drop / drop_after_commit / rate_limit / status, and once for a
delay. Rules are tried in order and the first action drawn wins (later rules still add delays). `count` caps
how many faults a rule injects (then it is spent). `/_localsentry/` paths are never faulted.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

ERROR_STATUSES = (500, 502, 503)
RULE_KEYS = {
    "path", "methods", "status", "rate_limit", "delay", "delay_seconds", "drop", "drop_after_commit", "count",
    "probability",
}  # fmt: skip


@dataclass
class Decision:
    delay: float = 0.0
    action: str | None = None  # "drop", "drop_after_commit", "rate_limit" or "status"
    status: int = 0


@dataclass
class Rule:
    path: re.Pattern[str] | None
    methods: frozenset[str] | None
    outcomes: list[tuple[str, int, float]]
    delay: float
    delay_seconds: float
    count: int | None
    spec: dict[str, Any] = field(default_factory=dict)
    injected: int = 0


def _prob(value: Any, name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability between 0 and 1")
    return float(value)


def parse_rule(spec: dict[str, Any]) -> Rule:
    unknown = set(spec) - RULE_KEYS
    if unknown:
        raise ValueError(f"unknown fault rule keys: {', '.join(sorted(unknown))}")
    path = re.compile(str(spec["path"])) if spec.get("path") else None
    methods = frozenset(str(m).upper() for m in spec["methods"]) if spec.get("methods") else None
    outcomes: list[tuple[str, int, float]] = []
    shared = _prob(spec.get("probability", 1.0), "probability")
    for name in ("drop", "drop_after_commit", "rate_limit"):
        if name in spec and spec[name] is not False:
            outcomes.append((name, 0, shared if spec[name] is True else _prob(spec[name], name)))
    statuses = spec.get("status") or {}
    if isinstance(statuses, list):
        statuses = {str(code): shared / len(statuses) for code in statuses}
    for status, p in dict(statuses).items():
        code = int(status)
        if code not in (*ERROR_STATUSES, 429):
            raise ValueError(f"status {code} not injectable (use {(*ERROR_STATUSES, 429)})")
        outcomes.append(
            ("rate_limit", 0, _prob(p, "status 429")) if code == 429 else ("status", code, _prob(p, f"status {code}"))
        )
    if sum(p for _, _, p in outcomes) > 1.0 + 1e-9:
        raise ValueError("fault probabilities of one rule add up to more than 1")
    delay_seconds = float(spec.get("delay_seconds", 0.5))
    if delay_seconds < 0 or delay_seconds > 120:
        raise ValueError("delay_seconds must be between 0 and 120")
    count = spec.get("count")
    delay = spec.get("delay", 0.0)
    return Rule(
        path, methods, outcomes, shared if delay is True else _prob(delay or 0.0, "delay"), delay_seconds,
        None if count is None else int(count), dict(spec),
    )  # fmt: skip


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._seed: int | None = None
        self._random = random.Random()

    def configure(self, spec: dict[str, Any] | list[Any] | None) -> None:
        """Replace the configuration; an empty spec turns faults off. Raises ValueError on a bad spec."""
        if not spec:
            spec = {"rules": []}
        if isinstance(spec, list):
            spec = {"rules": spec}
        if "rules" not in spec:
            spec = {"seed": spec.get("seed"), "rules": [{k: v for k, v in spec.items() if k != "seed"}]}
        rules = [parse_rule(dict(r)) for r in spec.get("rules") or []]
        seed = spec.get("seed")
        with self._lock:
            self._rules = rules
            self._seed = None if seed is None else int(seed)
            self._random = random.Random(self._seed)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self._seed,
                "rules": [dict(r.spec, injected=r.injected) for r in self._rules],
            }

    def decide(self, method: str, path: str) -> Decision:
        decision = Decision()
        if path.startswith("/_localsentry/"):
            return decision
        with self._lock:
            for rule in self._rules:
                if rule.methods is not None and method not in rule.methods:
                    continue
                if rule.path is not None and not rule.path.search(path):
                    continue
                if rule.count is not None and rule.injected >= rule.count:
                    continue
                hit = False
                if rule.outcomes and decision.action is None:
                    draw = self._random.random()
                    acc = 0.0
                    for name, status, p in rule.outcomes:
                        acc += p
                        if draw < acc:
                            decision.action, decision.status, hit = name, status, True
                            break
                if rule.delay and self._random.random() < rule.delay:
                    decision.delay = max(decision.delay, rule.delay_seconds)
                    hit = True
                if hit:
                    rule.injected += 1
        return decision
