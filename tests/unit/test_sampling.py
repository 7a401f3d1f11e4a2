"""Sample rates: direct values, budget math, clamping, rounding down, and the explanation."""

from __future__ import annotations

import pytest

from infra.sampling import Budget, SamplingConfig, derive_rates, floor_rate, format_rate
from tests.unit.settings_support import settings_for


def test_defaults_are_the_sdks() -> None:
    rates = derive_rates(SamplingConfig())
    assert (rates.errors, rates.traces, rates.profiles, rates.profile_session) == (1.0, 0.0, 0.0, 0.0)
    assert (rates.replays_session, rates.replays_on_error, rates.profile_lifecycle) == (0.0, 0.0, "trace")
    assert rates.explanation[1] == "traces: 0.0 (not set: tracing off)"


def test_direct_values_are_kept() -> None:
    rates = derive_rates(SamplingConfig(errors=0.5, traces=0.25, profiles=0.5, replays_session=0.1, replays_on_error=1))
    assert rates.as_dict() == {
        "errors": 0.5,
        "traces": 0.25,
        "profiles": 0.5,
        "profileSession": 0.0,
        "profileLifecycle": "trace",
        "replaysSession": 0.1,
        "replaysOnError": 1,
    }
    assert "profiles: 0.5 of sampled transactions (given directly; 0.125 of all requests)" in rates.explanation


def test_traces_from_span_budget() -> None:
    # 10M spans / (50k requests/day * 30 days * 20 spans) = 10M / 30M
    cfg = SamplingConfig(budget=Budget(spans_per_month=10_000_000, requests_per_day=50_000, spans_per_transaction=20))
    rates = derive_rates(cfg)
    assert rates.traces == 0.333333  # rounded down, never over budget
    assert rates.explanation[1] == (
        "traces: 0.333333 from the budget (10,000,000 spans/month / (50,000 requests/day x 30 days"
        " x 20 spans/transaction = 30,000,000 spans/month at 100%))"
    )
    assert rates.traces * 50_000 * 30 * 20 <= 10_000_000


def test_budget_larger_than_traffic_is_clamped_and_said() -> None:
    cfg = SamplingConfig(budget=Budget(spans_per_month=9_000_000, requests_per_day=10_000, spans_per_transaction=10))
    rates = derive_rates(cfg)
    assert rates.traces == 1.0
    assert rates.explanation[1].startswith("traces: 1.0 — the budget covers 3.0x the traffic")
    assert rates.explanation[1].endswith("clamped to 1.0")


def test_no_traffic_means_the_budget_never_limits() -> None:
    cfg = SamplingConfig(budget=Budget(spans_per_month=1, requests_per_day=0, spans_per_transaction=5))
    rates = derive_rates(cfg)
    assert rates.traces == 1.0 and "no traffic expected" in rates.explanation[1]


def test_errors_from_budget() -> None:
    rates = derive_rates(SamplingConfig(budget=Budget(errors_per_month=3000, errors_per_day=1000)))
    assert rates.errors == 0.1 and rates.explanation[0].startswith("errors: 0.1 from the budget (3,000 errors/month")


def test_profiles_follow_the_traces_rate() -> None:
    cfg = SamplingConfig(traces=0.5, budget=Budget(profiles_per_month=15_000, requests_per_day=10_000))
    # 15k / (10k * 30 * 0.5) = 0.1
    rates = derive_rates(cfg)
    assert rates.profiles == 0.1
    assert "traces 0.5 = 150,000 sampled transactions/month" in rates.explanation[2]
    rates = derive_rates(SamplingConfig(traces=0.0, budget=Budget(profiles_per_month=1, requests_per_day=10)))
    assert rates.profiles == 1.0 and "no sampled transactions" in rates.explanation[2]


def test_continuous_profiling_from_hours() -> None:
    cfg = SamplingConfig(budget=Budget(profile_hours_per_month=360, profiled_instances=2))
    rates = derive_rates(cfg)
    assert rates.profile_session == 0.25  # 360 h / (2 * 720 h)
    assert "360 profile hours/month / (2 instances x 720 h = 1,440 h at 100%); lifecycle trace" in rates.explanation[3]


def test_replays_from_budget_count_on_error_replays() -> None:
    cfg = SamplingConfig(
        replays_on_error=1.0,
        budget=Budget(replays_per_month=10_000, sessions_per_day=20_000, error_session_share=0.01),
    )
    rates = derive_rates(cfg)
    sessions = 20_000 * 30
    expected = (10_000 / sessions - 0.01) / (1 - 0.01)
    assert rates.replays_session == floor_rate(expected) == 0.006734
    # the expected replays fit the budget
    r = rates.replays_session
    assert sessions * (r + (1 - r) * 0.01 * 1.0) <= 10_000
    assert rates.replays_on_error == 1.0


def test_on_error_replays_alone_over_budget_lower_the_on_error_rate() -> None:
    cfg = SamplingConfig(budget=Budget(replays_per_month=1_000, sessions_per_day=10_000, error_session_share=0.1))
    rates = derive_rates(cfg)
    # 300k sessions * 0.1 share = 30k on-error replays > 1k: sessions 0, on-error 1000 / 30000
    assert rates.replays_session == 0.0 and rates.replays_on_error == floor_rate(1_000 / 30_000)
    assert "exceed 1,000 replays/month" in rates.explanation[4]
    assert "lowered from 1.0" in rates.explanation[5]


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1.0"), (0.0, "0.0"), (0.5, "0.5"), (0.000125, "0.000125"), (0.1 + 0.2, "0.3"), (1e-7, "0.0")],
)
def test_format_rate(value: float, text: str) -> None:
    assert format_rate(floor_rate(value)) == text


def test_stacks_rates_and_explanation() -> None:
    dev = derive_rates(settings_for("dev").sampling)
    prod = derive_rates(settings_for("prod").sampling)
    assert (dev.traces, dev.profile_session, dev.replays_session, dev.replays_on_error) == (1.0, 1.0, 0.1, 1.0)
    assert prod.traces == 0.069444 and prod.profiles == 0.1 and prod.profile_session == 0.0
    assert prod.replays_session == 0.006734
    assert len(prod.explain().splitlines()) == 6
