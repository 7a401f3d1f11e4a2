"""What the alert proof sends for each alert and monitor, and why some can never fire (infra/alert_proof_plan.py)."""

from __future__ import annotations

from typing import Any

from infra.alert_proof_plan import PROOF_TAG, plan_alert, plan_monitor
from infra.specs import AlertAction, AlertCondition, AlertSpec, MonitorCondition, MonitorSpec

CTX: dict[str, Any] = {"environment": "production", "release": "r1",
                       "services": {"backend": {"platform": "python", "sdk": "sentry.python"}}}
EMAIL = (AlertAction("email"),)


def alert(**kw: Any) -> AlertSpec:
    return AlertSpec(**{"name": "a", "services": ("backend",), "actions": EMAIL, **kw})


def test_the_default_triggers_need_a_new_issue_and_the_event_is_marked() -> None:
    probe = plan_alert(alert(), CTX, 200)
    assert probe.reason is None and probe.history == "new" and probe.events == 1
    event = probe.event("run1", "prod")
    assert event["tags"][PROOF_TAG] == "run1" and event["fingerprint"] == ["sentry-stacks-proof", "prod", "alert", "a"]


def test_each_trigger_gets_the_issue_history_that_makes_it_hold() -> None:
    for trigger, history in (("regression_event", "regression"), ("reappeared_event", "reappeared"),
                             ("existing_high_priority_issue", "regression")):  # fmt: skip
        assert plan_alert(alert(triggers=(AlertCondition(trigger),)), CTX, 200).history == history
    both = alert(triggers=(AlertCondition("first_seen_event"), AlertCondition("regression_event")), trigger_logic="all")
    assert "never hold together" in str(plan_alert(both, CTX, 200).reason)


def test_filters_shape_the_event_or_say_why_none_can_meet_them() -> None:
    filters = (AlertCondition("level", {"level": 50, "match": "eq"}),
               AlertCondition("tagged_event", {"key": "team", "match": "eq", "value": "core"}),
               AlertCondition("event_frequency_count", {"value": 9, "interval": "1m"}))  # fmt: skip
    probe = plan_alert(alert(triggers=(), filters=filters), CTX, 200)
    assert (probe.level, dict(probe.tags), probe.events) == ("fatal", {"team": "core"}, 10)
    js = AlertCondition("event_attribute", {"attribute": "platform", "match": "eq", "value": "javascript"})
    assert "no event of service backend has it (its platform is 'python')" in str(
        plan_alert(alert(filters=(js,)), CTX, 200).reason)
    assert "unassigned" in str(plan_alert(alert(filters=(AlertCondition("assigned_to"),)), CTX, 200).reason)
    assert "--max-burst 5" in str(plan_alert(alert(triggers=(), filters=filters), CTX, 5).reason)


def test_an_environment_the_stack_does_not_send_is_the_reason() -> None:
    probe = plan_alert(alert(environment="staging"), CTX, 200)
    assert probe.reason == "it watches environment 'staging', which the stack does not send (its services send " \
                           "'production')"


def test_a_metric_monitor_gets_a_burst_past_its_lowest_threshold() -> None:
    spec = MonitorSpec("spike", "backend", "count()", (MonitorCondition("gt", 100, 75), MonitorCondition("gt", 5, 50)),
                       query="level:error team:core")  # fmt: skip
    probe = plan_monitor(spec, CTX, 200)
    assert probe.reason is None and probe.events == 6 and probe.level == "error"
    assert dict(probe.tags) == {"team": "core"}
    p95 = MonitorSpec("slow", "backend", "p95(transaction.duration)", (MonitorCondition("gt", 1, 75),),
                      dataset="transactions")  # fmt: skip
    assert "proves count() and count_unique(user)" in str(plan_monitor(p95, CTX, 200).reason)
