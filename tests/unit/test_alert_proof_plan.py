"""What the alert proof sends for each alert and monitor, and why some can never fire (infra/alert_proof_plan.py)."""

from __future__ import annotations

from typing import Any

from infra.alert_proof_plan import PROOF_TAG, plan_alert, plan_monitor
from infra.settings.sentry_objects import AlertSettings, MonitorSettings

CTX: dict[str, Any] = {"environment": "production", "release": "r1",
                       "services": {"backend": {"platform": "python", "sdk": "sentry.python"}}}
EMAIL = [{"type": "email"}]


def alert(**kw: Any) -> AlertSettings:
    return AlertSettings.model_validate({"services": ["backend"], "actions": EMAIL, **kw})


def plan(spec: AlertSettings, burst: int = 200) -> Any:
    return plan_alert("a", spec, ["backend"], CTX, burst)


def test_the_default_triggers_need_a_new_issue_and_the_event_is_marked() -> None:
    probe = plan(alert())
    assert probe.reason is None and probe.history == "new" and probe.events == 1
    event = probe.event("run1", "prod")
    assert event["tags"][PROOF_TAG] == "run1" and event["fingerprint"] == ["sentry-stacks-proof", "prod", "alert", "a"]


def test_each_trigger_gets_the_issue_history_that_makes_it_hold() -> None:
    for trigger, history in (("regression_event", "regression"), ("reappeared_event", "reappeared"),
                             ("existing_high_priority_issue", "regression")):  # fmt: skip
        assert plan(alert(triggers=[trigger])).history == history
    both = alert(triggers=["first_seen_event", "regression_event"], triggerLogic="all")
    assert "never hold together" in str(plan(both).reason)


def test_filters_shape_the_event_or_say_why_none_can_meet_them() -> None:
    filters = [{"type": "level", "comparison": {"level": 50, "match": "eq"}},
               {"type": "tagged_event", "comparison": {"key": "team", "match": "eq", "value": "core"}},
               {"type": "event_frequency_count", "comparison": {"value": 9, "interval": "1m"}}]  # fmt: skip
    probe = plan(alert(triggers=[], filters=filters))
    assert (probe.level, dict(probe.tags), probe.events) == ("fatal", {"team": "core"}, 10)
    js = {"type": "event_attribute", "comparison": {"attribute": "platform", "match": "eq", "value": "javascript"}}
    assert "no event of service backend has it (its platform is 'python')" in str(plan(alert(filters=[js])).reason)
    assert "unassigned" in str(plan(alert(filters=["assigned_to"])).reason)
    assert "--max-burst 5" in str(plan(alert(triggers=[], filters=filters), 5).reason)


def test_an_environment_the_stack_does_not_send_is_the_reason() -> None:
    probe = plan(alert(environment="staging"))
    assert probe.reason == "it watches environment 'staging', which the stack does not send (its services send " \
                           "'production')"


def test_a_webhook_action_is_carried_with_its_urls() -> None:
    probe = plan(alert(actions=[{"type": "webhook", "urls": ["http://127.0.0.1:9/hook"]}]))
    [action] = probe.actions
    assert (action.type, action.target_identifier, action.urls) == ("webhook", "webhooks", ["http://127.0.0.1:9/hook"])


def test_a_metric_monitor_gets_a_burst_past_its_lowest_threshold() -> None:
    spec = MonitorSettings.model_validate({
        "service": "backend", "aggregate": "count()", "query": "level:error team:core",
        "conditions": [{"type": "gt", "comparison": 100, "result": 75}, {"type": "gt", "comparison": 5, "result": 50}]})
    probe = plan_monitor("spike", spec, "backend", CTX, 200)
    assert probe.reason is None and probe.events == 6 and probe.level == "error"
    assert dict(probe.tags) == {"team": "core"}
    p95 = MonitorSettings.model_validate({"service": "backend", "aggregate": "p95(transaction.duration)",
                                          "dataset": "transactions", "conditions": [{"comparison": 1}]})
    assert "proves count() and count_unique(user)" in str(plan_monitor("slow", p95, "backend", CTX, 200).reason)


def test_a_go_service_is_proven_with_its_own_sdk_name() -> None:
    """A new user's Go trial: the proof took every non-Python service for sentry.javascript, so an alert filtered on
    sentry-go's sdk.name was called one that can never fire."""
    from infra.alert_proof import sdk_name

    assert [sdk_name(p) for p in ("go", "python-fastapi", "javascript-react", "node-express", "ruby-rails")] == [
        "sentry.go", "sentry.python", "sentry.javascript", "sentry.javascript", "sentry.ruby"]
    ctx = {**CTX, "services": {"backend": {"platform": "go", "sdk": sdk_name("go")}}}
    go_only = alert(filters=[{"type": "event_attribute",
                              "comparison": {"attribute": "sdk.name", "match": "eq", "value": "sentry.go"}}])
    assert plan_alert("a", go_only, ["backend"], ctx, 200).reason is None
