"""Preview-time unknowns are recognised however deep they sit, in both forms the SDK has used."""

import hashlib
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from infra.files import RenderedFileProvider
from infra.unknown import is_unknown


def test_unknown_forms_and_nesting() -> None:
    assert is_unknown(Unknown()) and is_unknown(UNKNOWN)
    assert is_unknown({"a": [1, {"b": Unknown()}]}) and is_unknown((UNKNOWN,))
    assert not is_unknown({"a": [1, "x", None, {"b": False}]})


def test_rendered_file_check_tolerates_unknown_content() -> None:
    result = RenderedFileProvider().check({}, {"path": "/tmp/x.env", "content": Unknown(), "mode": 0o600})
    assert result.failures == []
    assert RenderedFileProvider().diff("/tmp/x.env", {"path": "/tmp/x.env"}, {"path": "/tmp/x.env",
                                                                             "content": Unknown()}).changes


# ---------------------------------------------------------------- every provider, every field unknown
#
# During `pulumi preview` any input that comes from another resource (a project's slug or id, a monitor's
# detector id, a release version, a file's digest) may be unknown, as may a list or map holding one. Each
# provider's check() must accept it without a failure and diff() must count it as a change, never index or
# iterate it (issue 22: `alert_model.norm_ids` iterated an unknown `detectorIds`).

import pytest  # noqa: E402
from pulumi.dynamic import ResourceProvider  # noqa: E402

from infra.deploy.compose import ComposeProvider  # noqa: E402
from infra.deploy.swarm import SwarmProvider  # noqa: E402
from infra.sentry.alert import AlertProvider  # noqa: E402
from infra.sentry.client_key import ClientKeyProvider  # noqa: E402
from infra.sentry.cron_monitor import CronMonitorProvider  # noqa: E402
from infra.sentry.deploy import DeployProvider, DeployStartProvider  # noqa: E402
from infra.sentry.inbound_filter import InboundFilterProvider  # noqa: E402
from infra.sentry.issue_alert import IssueAlertProvider  # noqa: E402
from infra.sentry.metric_alert import MetricAlertProvider  # noqa: E402
from infra.sentry.metric_monitor import MetricMonitorProvider  # noqa: E402
from infra.sentry.project import ProjectProvider  # noqa: E402
from infra.sentry.release import ReleaseProvider  # noqa: E402

_DEPLOYMENT = {"file": "/tmp/deploy/docker-compose.yml", "fileSha256": "ab" * 32, "services": ["backend", "worker"],
               "healthTimeout": 180}
# (provider, valid inputs as the program declares them, outputs a previous `up` stored)
CASES: dict[str, tuple[type[ResourceProvider], dict[str, Any], dict[str, Any]]] = {
    "Project": (ProjectProvider, {
        "slug": "shop-backend", "teams": ["team"], "name": "Shop backend", "platform": "python-django",
        "resolveAge": 24, "dataScrubber": True, "dataScrubberDefaults": True, "scrubIPAddresses": True,
        "sensitiveFields": ["iban"], "safeFields": ["order_id"], "shared": True, "deleteOnDestroy": False,
        "adopt": False, "defaultKey": "delete", "defaultRules": False, "stack": "dev",
    }, {"projectId": "1", "organization": "o", "adopted": False, "agreedSettings": {},
        "privacyAsks": {"dataScrubber": True, "dataScrubberDefaults": True, "scrubIPAddresses": True,
                        "sensitiveFields": ["iban"], "safeFields": ["order_id"]}}),
    "ClientKey": (ClientKeyProvider, {
        "project": "shop-backend", "name": "dev-backend-g1", "isActive": True, "adopt": False,
        "rateLimit": {"count": 10, "window": 60}, "browserSdkVersion": "8.x",
        "dynamicSdkLoaderOptions": {"hasReplay": True},
    }, {"keyId": "k", "public": "p" * 32, "dsn": "http://p@h/1", "projectId": "1", "organization": "o"}),
    "Alert": (AlertProvider, {
        "name": "[shop/dev] errors", "projects": ["shop-backend", "shop-frontend"], "projectIds": ["1", "2"],
        "detectorIds": ["7", "8"], "frequency": 30, "environment": "dev", "owner": "team:1", "enabled": True,
        "adopt": False, "lookupFirst": False,
        "triggers": {"logicType": "any-short", "conditions": [{"type": "first_seen_event", "comparison": True,
                                                               "conditionResult": True}]},
        "actionFilters": [{"logicType": "all", "conditions": [],
                           "actions": [{"type": "email", "config": {"targetType": "issue_owners"}, "data": {}}]}],
    }, {"workflowId": "9", "organization": "o", "issueStreamDetectors": {"shop-backend": "3", "shop-frontend": "4"}}),
    "MetricMonitor": (MetricMonitorProvider, {
        "project": "shop-backend", "name": "[shop/dev] slow", "aggregate": "count()", "dataset": "events",
        "query": "", "queryType": 0, "timeWindow": 3600, "environment": "dev", "eventTypes": ["error"],
        "detectionType": "static", "owner": "team:1", "description": "d", "enabled": True, "adopt": False,
        "conditions": [{"type": "gt", "comparison": 10, "conditionResult": 75}],
    }, {"detectorId": "7", "organization": "o", "projectId": "1"}),
    "CronMonitor": (CronMonitorProvider, {
        "project": "shop-worker", "slug": "heartbeat-dev", "name": "[shop/dev] heartbeat", "scheduleType": "crontab",
        "schedule": "*/5 * * * *", "checkinMargin": 1, "maxRuntime": 30, "failureIssueThreshold": 1,
        "recoveryThreshold": 1, "timezone": "UTC", "status": "active", "isMuted": False, "owner": "team:1",
        "environment": "dev", "adopt": False,
    }, {"monitorId": "m", "detectorId": "7", "organization": "o", "adopted": False}),
    "InboundFilter": (InboundFilterProvider, {
        "project": "shop-frontend", "filterId": "legacy-browsers", "subfilters": ["ie"], "readOnly": False,
        "resetOnDelete": True, "shared": True,
    }, {"organization": "o", "agreed": ["ie"]}),
    "IssueAlert": (IssueAlertProvider, {
        "project": "shop-backend", "name": "[shop/dev] errors", "actionMatch": "any", "filterMatch": "all",
        "frequency": 30, "environment": "dev", "adopt": False,
        "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
        "filters": [{"id": "sentry.rules.filters.level.LevelFilter", "level": "40", "match": "gte"}],
        "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners"}],
    }, {"ruleId": "5", "organization": "o"}),
    "MetricAlert": (MetricAlertProvider, {
        "project": "shop-backend", "name": "[shop/dev] slow", "aggregate": "count()", "timeWindow": 60,
        "query": "", "thresholdType": 0, "resolveThreshold": 1, "dataset": "events", "queryType": 0,
        "thresholdPeriod": 1, "eventTypes": ["error"], "adopt": False,
        "triggers": [{"label": "critical", "alertThreshold": 10, "actions": [{"type": "email",
                                                                              "targetType": "team"}]}],
    }, {"ruleId": "6", "organization": "o"}),
    "Release": (ReleaseProvider, {
        "version": "abc123", "projects": ["shop-backend", "shop-frontend"], "url": "https://example.com/abc",
        "environment": "dev", "shared": True, "deleteOnDestroy": False,
    }, {"organization": "o"}),
    "DeployStart": (DeployStartProvider, {"version": "abc123", "environment": "dev", "fingerprint": "f" * 64},
                    {"dateStarted": "2026-01-31T12:00:00Z"}),
    "Deploy": (DeployProvider, {
        "version": "abc123", "environment": "dev", "projects": ["shop-backend"], "name": "dev abc123",
        "dateStarted": "2026-01-31T12:00:00Z", "fingerprint": "f" * 64, "url": "https://example.com/deploy",
    }, {"deployId": "d", "organization": "o"}),
    "Compose": (ComposeProvider, {"project": "sentry-stacks-dev", **_DEPLOYMENT},
                {"status": {"backend": "healthy", "worker": "healthy"}}),
    "Swarm": (SwarmProvider, {"stack": "sentry-stacks-dev", **_DEPLOYMENT},
              {"status": {"backend": "running", "worker": "running"}}),
    "RenderedFile": (RenderedFileProvider, {"path": "/tmp/deploy/backend.env", "content": "A=1\n", "mode": 0o600},
                     {"sha256": hashlib.sha256(b"A=1\n").hexdigest()}),
}

# create-time inputs a diff never compares (they resolve to the same value at `up`)
NOT_COMPARED = {"Alert": ("projectIds", "lookupFirst"), "CronMonitor": ("adopt",)}  # create-time only


def _unknowns(value: Any, form: Any) -> list[Any]:
    """The ways `value` can be unknown: whole, and (for a list or map) each item or entry."""
    out = [form]
    if isinstance(value, list) and value:
        out += [[form, *value[1:]], [*value[:-1], form]]
    if isinstance(value, dict) and value:
        key = next(iter(value))
        out.append({**value, key: form})
    return out


@pytest.mark.parametrize("kind", sorted(CASES))
def test_check_and_diff_accept_every_field_unknown(kind: str) -> None:
    cls, inputs, computed = CASES[kind]
    provider = cls()
    assert provider.check({}, dict(inputs)).failures == [], f"{kind}: the example inputs must be valid"
    olds = {**inputs, **computed}
    assert provider.diff("o/x", olds, dict(inputs)).changes is False, f"{kind}: no change against its own outputs"
    for form in (Unknown(), UNKNOWN):
        everything = {key: form for key in inputs}
        assert provider.check({}, everything).failures == [], f"{kind}: all unknown"
        assert provider.diff("o/x", olds, everything).changes, f"{kind}: all unknown is a change"
        for key, value in inputs.items():
            for unknown in _unknowns(value, form):
                news = {**inputs, key: unknown}
                failures = provider.check({}, dict(news)).failures
                assert failures == [], f"{kind}.{key} = {unknown!r}: {[f.reason for f in failures]}"
                if key not in NOT_COMPARED.get(kind, ()):
                    assert provider.diff("o/x", olds, news).changes, f"{kind}.{key} unknown must count as a change"
                provider.diff("o/x", olds, news)
