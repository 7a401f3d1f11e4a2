"""``sentry-stacks:sampling``: sample rates, given directly or derived from a budget (see :mod:`infra.sampling`)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from infra.sampling import BUDGET_RULES, PROFILE_LIFECYCLES, Budget, ProfileLifecycle, SamplingConfig
from infra.settings.problems import MISSING, Issue, check
from infra.settings.types import Model, Rate, choice, number, whole

NonNegative = Annotated[float, number(0)]
AtLeastOne = Annotated[float, number(1)]


class BudgetSettings(Model):
    """Monthly quotas and the traffic they cover; a rate left unset is derived from them (a 30-day month)."""

    spans_per_month: NonNegative | None = Field(None, description="Span quota per month; derives `traces`")
    requests_per_day: NonNegative | None = Field(None, description="Expected requests (transactions) per day")
    spans_per_transaction: AtLeastOne | None = Field(None, description="Average spans per transaction")
    errors_per_month: NonNegative | None = Field(None, description="Error quota per month; derives `errors`")
    errors_per_day: NonNegative | None = Field(None, description="Expected errors per day")
    replays_per_month: NonNegative | None = Field(None, description="Replay quota per month; derives `replaysSession`")
    sessions_per_day: NonNegative | None = Field(None, description="Expected browser sessions per day")
    error_session_share: Rate | None = Field(None, description="Share of sessions with an error (0..1)")
    profiles_per_month: NonNegative | None = Field(
        None, description="Transaction-profile quota per month; derives `profiles`")
    profile_hours_per_month: NonNegative | None = Field(
        None, description="Continuous-profiling hours per month; derives `profileSession`")
    profiled_instances: Annotated[int, whole(1)] | None = Field(
        None, description="Processes that may be profiled at once")

    def to_budget(self) -> Budget:
        return Budget(**{name: getattr(self, name) for name in Budget.__dataclass_fields__})


class SamplingSettings(Model):
    """Sample rates per environment (0..1 each), or a budget they are derived from."""

    errors: Rate | None = Field(None, description="Share of error events sent (`sample_rate`); default 1")
    traces: Rate | None = Field(None, description="Share of transactions traced (`traces_sample_rate`); default 0")
    profiles: Rate | None = Field(
        None, description="Transaction-based profiling, relative to traced transactions; default 0")
    profile_session: Rate | None = Field(
        None, description="Continuous profiling: share of processes profiled; default 0")
    profile_lifecycle: Annotated[ProfileLifecycle, choice(PROFILE_LIFECYCLES)] = Field(
        "trace", description="Continuous profiling follows traces (`trace`) or the app (`manual`)")
    replays_session: Rate | None = Field(None, description="Share of browser sessions replayed; default 0")
    replays_on_error: Rate | None = Field(None, description="Share of other sessions replayed on an error; default 0")
    budget: BudgetSettings = Field(default_factory=lambda: BudgetSettings(), description="Quotas that derive rates")

    @model_validator(mode="after")
    def _budget_rules(self) -> Self:
        """A rate comes from the stack or from its budget, never both; a budget needs its traffic figures;
        transaction-based and continuous profiling exclude each other."""
        given = self.model_fields_set
        budget_given = self.budget.model_fields_set
        issues: list[Issue] = []
        rate_names = {f.alias: name for name, f in type(self).model_fields.items()}
        budget_names = {f.alias: name for name, f in BudgetSettings.model_fields.items()}
        for rate, quota, needs in BUDGET_RULES:
            quota_given = budget_names[quota] in budget_given
            if rate_names[rate] in given and quota_given:
                issues.append(Issue(("budget", quota), getattr(self.budget, budget_names[quota]),
                                    f"give either {{@{rate}}} or {{@budget.{quota}}}, not both"))
            for required, what in needs if quota_given else ():
                if budget_names[required] not in budget_given:
                    issues.append(Issue(("budget", required), MISSING,
                                        f"required with {{@budget.{quota}}}: {what}"))
        transaction = bool(self.profiles) or "profiles_per_month" in budget_given
        continuous = bool(self.profile_session) or "profile_hours_per_month" in budget_given
        if transaction and continuous:
            issues.append(Issue(
                ("profileSession",),
                self.profile_session if "profile_session" in given else self.budget.profile_hours_per_month,
                "continuous profiling ({@profileSession}) and transaction-based profiling ({@profiles})"
                " cannot both be on: set one of them to 0",
            ))
        check(issues)
        return self

    def to_config(self) -> SamplingConfig:
        return SamplingConfig(
            errors=self.errors,
            traces=self.traces,
            profiles=self.profiles,
            profile_session=self.profile_session,
            profile_lifecycle=self.profile_lifecycle,
            replays_session=self.replays_session,
            replays_on_error=self.replays_on_error,
            budget=self.budget.to_budget(),
        )


__all__ = ["BudgetSettings", "SamplingSettings"]
