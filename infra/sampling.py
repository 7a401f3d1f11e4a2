"""Per-environment Sentry sample rates: given directly, or derived from a budget, then explained.

Every rate is a probability in 0..1:

* ``errors``: ``sample_rate``, the share of error events sent.
* ``traces``: ``traces_sample_rate``, the share of root transactions (and their spans) sampled.
* ``profiles``: ``profiles_sample_rate``, transaction-based profiling, *relative to sampled
  transactions* (a profiled share of all requests is ``traces * profiles``).
* ``profile_session``: ``profile_session_sample_rate``, continuous profiling: the share of processes
  (profiling sessions) that are profiled; ``profile_lifecycle`` is ``trace`` (profile while a sampled
  trace is active) or ``manual`` (the app starts and stops the profiler).
* ``replays_session`` / ``replays_on_error``: browser session replay, the share of all sessions, and
  the share of the remaining sessions kept when an error happens.

A rate may instead come from a budget (a 30-day month):

* traces: ``spansPerMonth / (requestsPerDay * 30 * spansPerTransaction)``
* errors: ``errorsPerMonth / (errorsPerDay * 30)``
* transaction profiles: ``profilesPerMonth / (requestsPerDay * 30 * traces)``
* continuous profiles: ``profileHoursPerMonth / (profiledInstances * 720 h)``
* replays: with ``S = sessionsPerDay * 30``, ``e = errorSessionShare`` and ``o = replaysOnError``,
  the expected replays are ``S * (r + (1 - r) * e * o)``; solving for the budget gives
  ``r = (replaysPerMonth / S - e * o) / (1 - e * o)``. If on-error replays alone exceed the budget,
  ``r = 0`` and ``o`` is lowered to ``replaysPerMonth / (S * e)``.

A derived rate is rounded *down* to 6 decimals (never over budget) and clamped to 0..1; every rate
carries one line of explanation, exported as a stack output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

DAYS_PER_MONTH = 30
HOURS_PER_MONTH = DAYS_PER_MONTH * 24
PRECISION = 6

ProfileLifecycle = Literal["trace", "manual"]
PROFILE_LIFECYCLES: tuple[ProfileLifecycle, ...] = ("trace", "manual")


#: How a budget stands in for a rate (the formulas above): the rate's key, the budget key that replaces it,
#: and the traffic figures the formula needs (key, what it is). The settings model checks these rules.
BUDGET_RULES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("traces", "spansPerMonth", (
        ("requestsPerDay", "expected requests (transactions) per day, a number >= 0"),
        ("spansPerTransaction", "average spans per transaction, a number >= 1"),
    )),
    ("errors", "errorsPerMonth", (("errorsPerDay", "expected errors per day, a number >= 0"),)),
    ("profiles", "profilesPerMonth", (("requestsPerDay", "expected requests (transactions) per day, a number >= 0"),)),
    ("profileSession", "profileHoursPerMonth", ()),
    ("replaysSession", "replaysPerMonth", (("sessionsPerDay", "expected browser sessions per day, a number >= 0"),)),
)


@dataclass(frozen=True)
class Budget:
    """Monthly quotas and the traffic they must cover. None = not given."""

    spans_per_month: float | None = None
    requests_per_day: float | None = None
    spans_per_transaction: float | None = None
    errors_per_month: float | None = None
    errors_per_day: float | None = None
    replays_per_month: float | None = None
    sessions_per_day: float | None = None
    error_session_share: float | None = None
    profiles_per_month: float | None = None
    profile_hours_per_month: float | None = None
    profiled_instances: int | None = None


@dataclass(frozen=True)
class SamplingConfig:
    """What the stack says about sampling; a rate left None comes from the budget or the default."""

    errors: float | None = None
    traces: float | None = None
    profiles: float | None = None
    profile_session: float | None = None
    profile_lifecycle: ProfileLifecycle = "trace"
    replays_session: float | None = None
    replays_on_error: float | None = None
    budget: Budget = field(default_factory=Budget)

    def traces_from_budget(self) -> bool:
        return self.traces is None and self.budget.spans_per_month is not None

    def errors_from_budget(self) -> bool:
        return self.errors is None and self.budget.errors_per_month is not None

    def profiles_from_budget(self) -> bool:
        return self.profiles is None and self.budget.profiles_per_month is not None

    def profile_session_from_budget(self) -> bool:
        return self.profile_session is None and self.budget.profile_hours_per_month is not None

    def replays_from_budget(self) -> bool:
        return self.replays_session is None and self.budget.replays_per_month is not None


#: The SDK defaults, used for a rate given neither directly nor by a budget.
DEFAULTS = {
    "errors": 1.0,
    "traces": 0.0,
    "profiles": 0.0,
    "profile_session": 0.0,
    "replays_session": 0.0,
    "replays_on_error": 0.0,
}


@dataclass(frozen=True)
class SampleRates:
    """The rates a stack deploys, with one explanation line per rate."""

    errors: float
    traces: float
    profiles: float
    profile_session: float
    profile_lifecycle: ProfileLifecycle
    replays_session: float
    replays_on_error: float
    explanation: tuple[str, ...]

    def as_dict(self) -> dict[str, float | str]:
        """The stack output ``sampleRates`` (camelCase, like the config keys)."""
        return {
            "errors": self.errors,
            "traces": self.traces,
            "profiles": self.profiles,
            "profileSession": self.profile_session,
            "profileLifecycle": self.profile_lifecycle,
            "replaysSession": self.replays_session,
            "replaysOnError": self.replays_on_error,
        }

    def explain(self) -> str:
        return "\n".join(self.explanation)


def floor_rate(value: float) -> float:
    """Round down to PRECISION decimals, so a derived rate never exceeds its budget."""
    scale: float = 10.0**PRECISION
    # the small epsilon keeps exact quotients such as 0.3 from flooring to 0.299999
    return math.floor(value * scale + 1e-9) / scale


def format_rate(value: float) -> str:
    """A rate as the apps read it: plain decimal, no exponent (``1.0``, ``0.25``, ``0.000125``)."""
    text = f"{value:.{PRECISION}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _clamp(name: str, raw: float, reason: str) -> tuple[float, str]:
    if raw > 1.0:
        return (
            1.0,
            f"{name}: 1.0 — the budget covers {format_rate(floor_rate(raw))}x the traffic ({reason}); clamped to 1.0",
        )
    rate = floor_rate(max(raw, 0.0))
    return rate, f"{name}: {format_rate(rate)} from the budget ({reason})"


def _traces(cfg: SamplingConfig) -> tuple[float, str]:
    if cfg.traces is not None:
        return cfg.traces, f"traces: {format_rate(cfg.traces)} (given directly)"
    b = cfg.budget
    if b.spans_per_month is None:
        return DEFAULTS["traces"], "traces: 0.0 (not set: tracing off)"
    requests, per_tx = b.requests_per_day or 0.0, b.spans_per_transaction or 1.0
    needed = requests * DAYS_PER_MONTH * per_tx
    reason = (
        f"{_num(b.spans_per_month)} spans/month / ({_num(requests)} requests/day x {DAYS_PER_MONTH} days"
        f" x {_num(per_tx)} spans/transaction = {_num(needed)} spans/month at 100%)"
    )
    if needed <= 0:
        return 1.0, "traces: 1.0 — no traffic expected (requestsPerDay = 0), the budget never limits"
    return _clamp("traces", b.spans_per_month / needed, reason)


def _errors(cfg: SamplingConfig) -> tuple[float, str]:
    if cfg.errors is not None:
        return cfg.errors, f"errors: {format_rate(cfg.errors)} (given directly)"
    b = cfg.budget
    if b.errors_per_month is None:
        return DEFAULTS["errors"], "errors: 1.0 (not set: every error is sent)"
    needed = (b.errors_per_day or 0.0) * DAYS_PER_MONTH
    if needed <= 0:
        return 1.0, "errors: 1.0 — no errors expected (errorsPerDay = 0), the budget never limits"
    reason = (
        f"{_num(b.errors_per_month)} errors/month / ({_num(b.errors_per_day or 0.0)} errors/day"
        f" x {DAYS_PER_MONTH} days = {_num(needed)} errors/month at 100%)"
    )
    return _clamp("errors", b.errors_per_month / needed, reason)


def _profiles(cfg: SamplingConfig, traces: float) -> tuple[float, str]:
    if cfg.profiles is not None:
        return cfg.profiles, (
            f"profiles: {format_rate(cfg.profiles)} of sampled transactions (given directly;"
            f" {format_rate(floor_rate(cfg.profiles * traces))} of all requests)"
        )
    b = cfg.budget
    if b.profiles_per_month is None:
        return DEFAULTS["profiles"], "profiles: 0.0 (not set: transaction-based profiling off)"
    sampled = (b.requests_per_day or 0.0) * DAYS_PER_MONTH * traces
    if sampled <= 0:
        return 1.0, "profiles: 1.0 — no sampled transactions expected, the budget never limits"
    reason = (
        f"{_num(b.profiles_per_month)} profiles/month / ({_num(b.requests_per_day or 0.0)} requests/day"
        f" x {DAYS_PER_MONTH} days x traces {format_rate(traces)} = {_num(sampled)} sampled transactions/month)"
    )
    return _clamp("profiles", b.profiles_per_month / sampled, reason)


def _profile_session(cfg: SamplingConfig) -> tuple[float, str]:
    if cfg.profile_session is not None:
        return cfg.profile_session, (
            f"profileSession: {format_rate(cfg.profile_session)} of processes (given directly;"
            f" lifecycle {cfg.profile_lifecycle})"
        )
    b = cfg.budget
    if b.profile_hours_per_month is None:
        return DEFAULTS["profile_session"], "profileSession: 0.0 (not set: continuous profiling off)"
    instances = b.profiled_instances or 1
    hours = instances * HOURS_PER_MONTH
    reason = (
        f"{_num(b.profile_hours_per_month)} profile hours/month / ({instances} instances x {HOURS_PER_MONTH} h"
        f" = {_num(hours)} h at 100%); lifecycle {cfg.profile_lifecycle}"
    )
    return _clamp("profileSession", b.profile_hours_per_month / hours, reason)


def _replays(cfg: SamplingConfig) -> tuple[float, float, list[str]]:
    b = cfg.budget
    if not cfg.replays_from_budget():
        session = cfg.replays_session if cfg.replays_session is not None else DEFAULTS["replays_session"]
        on_error = cfg.replays_on_error if cfg.replays_on_error is not None else DEFAULTS["replays_on_error"]
        how_s = "given directly" if cfg.replays_session is not None else "not set"
        how_e = "given directly" if cfg.replays_on_error is not None else "not set"
        return (
            session,
            on_error,
            [
                f"replaysSession: {format_rate(session)} of sessions ({how_s})",
                f"replaysOnError: {format_rate(on_error)} of sessions with an error ({how_e})",
            ],
        )
    budget = b.replays_per_month or 0.0
    sessions = (b.sessions_per_day or 0.0) * DAYS_PER_MONTH
    share = b.error_session_share if b.error_session_share is not None else 0.0
    on_error = cfg.replays_on_error if cfg.replays_on_error is not None else 1.0
    how_e = "given directly" if cfg.replays_on_error is not None else "default with a replay budget"
    assume = f"errorSessionShare {format_rate(share)}" + ("" if b.error_session_share is not None else " (assumed)")
    if sessions <= 0:
        return (
            1.0,
            on_error,
            [
                "replaysSession: 1.0 — no sessions expected (sessionsPerDay = 0), the budget never limits",
                f"replaysOnError: {format_rate(on_error)} of sessions with an error ({how_e})",
            ],
        )
    error_replays = sessions * share * on_error
    if error_replays > budget:
        lowered = floor_rate(budget / (sessions * share))
        return (
            0.0,
            lowered,
            [
                f"replaysSession: 0.0 — on-error replays alone ({_num(sessions)} sessions/month x {assume}"
                f" x replaysOnError {format_rate(on_error)} = {_num(error_replays)}) exceed"
                f" {_num(budget)} replays/month",
                f"replaysOnError: {format_rate(lowered)} — lowered from {format_rate(on_error)} to fit"
                f" {_num(budget)} replays/month",
            ],
        )
    raw = (budget / sessions - share * on_error) / (1.0 - share * on_error) if share * on_error < 1 else 0.0
    reason = (
        f"{_num(budget)} replays/month over {_num(sessions)} sessions/month, after"
        f" {_num(error_replays)} on-error replays ({assume}, replaysOnError {format_rate(on_error)})"
    )
    session, line = _clamp("replaysSession", raw, reason)
    return session, on_error, [line, f"replaysOnError: {format_rate(on_error)} of sessions with an error ({how_e})"]


def derive_rates(cfg: SamplingConfig) -> SampleRates:
    """The deployed rates for a validated SamplingConfig (see the module docstring for the math)."""
    errors, errors_line = _errors(cfg)
    traces, traces_line = _traces(cfg)
    profiles, profiles_line = _profiles(cfg, traces)
    session, session_line = _profile_session(cfg)
    replays_session, replays_on_error, replay_lines = _replays(cfg)
    return SampleRates(
        errors=errors,
        traces=traces,
        profiles=profiles,
        profile_session=session,
        profile_lifecycle=cfg.profile_lifecycle,
        replays_session=replays_session,
        replays_on_error=replays_on_error,
        explanation=(errors_line, traces_line, profiles_line, session_line, *replay_lines),
    )


__all__ = [
    "BUDGET_RULES",
    "DAYS_PER_MONTH",
    "DEFAULTS",
    "HOURS_PER_MONTH",
    "PROFILE_LIFECYCLES",
    "Budget",
    "ProfileLifecycle",
    "SampleRates",
    "SamplingConfig",
    "derive_rates",
    "floor_rate",
    "format_rate",
]
