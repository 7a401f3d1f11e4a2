"""MetricMonitor: a Sentry ``metric_issue`` detector (the replacement of metric alert rules).

``timeWindow`` and ``comparisonDelta`` are in **seconds** (legacy metric alerts used minutes). A
monitor is found again by its exact ``name`` within its project. Alerts attach to monitors through
their ``detectorIds``; a monitor never writes ``workflowIds`` itself, so the two never fight.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from infra.sentry import ids, recovery
from infra.sentry.base import Checker, SentryProvider, declared, is_unknown, split_unknown
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryStateError
from infra.sentry.metric_monitor_model import (
    COMPARISON_DELTAS,
    COMPUTED,
    CONDITION_RESULTS,
    CONDITION_TYPES,
    DATASETS,
    DETECTION_TYPES,
    EVENT_TYPES,
    INPUT_KEYS,
    QUERY_TYPES,
    TIME_WINDOWS,
    MetricMonitorInputs,
    changed_fields,
    inputs_from_outputs,
    outputs_from_api,
)
from infra.sentry.project import get_project

_OWNER = re.compile(r"^(user|team):\d+$")


# `lookupFirst` (create-time hint, never diffed): False (SentryApp, whose monitor names carry the stack's name)
# looks the monitor up by name only when a killed run may have created it (infra/sentry/recovery.py) or a POST's
# outcome is unknown; absent or True, always (adopting or refusing a same-named monitor).


def find_detector(client: SentryClient, org: str, project: str, name: str) -> dict[str, Any] | None:
    """The metric_issue detector of `project` named `name`, or None."""
    live = get_project(client, org, project)
    if live is None:
        return None
    pid = str(live["id"])
    params = {"project": pid, "query": "type:metric_issue"}
    for detector in client.paginate(f"organizations/{org}/detectors/", what="monitors", params=params):
        if detector.get("name") == name and str(detector.get("projectId")) == pid:
            return dict(detector)
    return None


class MetricMonitorProvider(SentryProvider):
    """CRUD for metric monitors."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        c.slug("project")
        c.str_("name", required=True, max_len=200)
        c.str_("aggregate", required=True, max_len=256)
        c.str_("dataset", allowed=DATASETS)
        c.str_("query", allow_empty=True, max_len=1000)
        c.int_("queryType", allowed=(0, 1, 2))
        dataset, query_type = news.get("dataset") or "events", news.get("queryType")
        if isinstance(query_type, int) and dataset in QUERY_TYPES and QUERY_TYPES[dataset] != query_type:
            c.fail("queryType", f"queryType {query_type} does not match dataset {dataset!r} (Sentry refuses it); "
                   f"allowed for {dataset}: {QUERY_TYPES[dataset]}, or leave queryType out")
        window = news.get("timeWindow")
        if isinstance(window, int) and not isinstance(window, bool) and 0 < window < 60:
            c.fail("timeWindow", f"timeWindow is in seconds, not minutes: {window} is too short; allowed "
                   f"values: {', '.join(map(str, TIME_WINDOWS))}")
        else:
            c.int_("timeWindow", allowed=TIME_WINDOWS)
        c.str_("environment", max_len=64)
        c.str_list("eventTypes", allowed=EVENT_TYPES)
        c.str_("detectionType", allowed=DETECTION_TYPES)
        c.int_("comparisonDelta", allowed=COMPARISON_DELTAS)
        c.str_("owner", pattern=_OWNER, pattern_text="expected user:<id> or team:<id>")
        c.str_("description", max_len=1000, allow_empty=True)
        c.bool_("enabled")
        c.bool_("adopt")
        if news.get("detectionType") == "percent" and news.get("comparisonDelta") is None:
            c.fail("comparisonDelta", "comparisonDelta (seconds) is required when detectionType is percent")
        conditions = news.get("conditions")
        if conditions is None:
            c.fail("conditions", "conditions is required (e.g. [{type: gt, comparison: 100, conditionResult: 75}])")
        elif not is_unknown(conditions):
            self._check_conditions(c, conditions)
        return CheckResult(declared(news), c.failures)

    @staticmethod
    def _check_conditions(c: Checker, conditions: Any) -> None:
        if not isinstance(conditions, list) or not conditions:
            c.fail("conditions", "conditions must be a non-empty list of {type, comparison, conditionResult}")
            return
        for i, cond in enumerate(conditions):
            if not isinstance(cond, dict):
                c.fail("conditions", f"conditions[{i}] must be an object")
                continue
            if cond.get("type") not in CONDITION_TYPES:
                c.fail("conditions", f"conditions[{i}].type {cond.get('type')!r} is not allowed; allowed "
                       f"values: {', '.join(CONDITION_TYPES)}")
            if cond.get("conditionResult") not in CONDITION_RESULTS:
                c.fail("conditions", f"conditions[{i}].conditionResult {cond.get('conditionResult')!r} is not "
                       "allowed; allowed values: 75 (high), 50 (low), 0 (resolved)")
            comparison = cond.get("comparison")
            if cond.get("type") != "anomaly_detection" and (
                isinstance(comparison, bool) or not isinstance(comparison, (int, float))
            ):
                c.fail("conditions", f"conditions[{i}].comparison must be a number (the threshold)")

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        known, unknown = split_unknown(olds, news, INPUT_KEYS)
        changed = {*changed_fields(olds, known), *unknown}
        replaces = ["project"] if "project" in changed else []
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = MetricMonitorInputs.from_props(props)
        client, org = self.client, self.client.org
        what = f"monitor '{inputs.name}' of project '{inputs.project}'"
        journal = recovery.key("detector", client.connection.api_root, org, inputs.project, inputs.name)
        look_first = props.get("lookupFirst") is not False or recovery.may_exist(journal)
        existing = find_detector(client, org, inputs.project, inputs.name) if look_first else None
        if existing is not None:
            if not inputs.adopt:
                raise SentryStateError(
                    f"{what} already exists in organization '{org}' and this stack did not create it: set "
                    "adoptExisting to manage it from this stack, or rename the monitor"
                )
            detector = client.put(f"organizations/{org}/detectors/{existing['id']}/", inputs.to_body(), what=what)
            recovery.settled(journal)
        else:
            with recovery.creating(journal):  # looked up only when the outcome is unknown (or after a kill)
                detector = client.create(
                    f"organizations/{org}/projects/{inputs.project}/detectors/", inputs.to_body(), what=what,
                    find=lambda: find_detector(client, org, inputs.project, inputs.name),
                )
        outs = outputs_from_api(detector, inputs, organization=org)
        return CreateResult(ids.make("detector", org, str(detector["id"])), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        sid = ids.parse("detector", id_)
        inputs = MetricMonitorInputs.from_props(props)
        detector = self.client.get_or_none(f"organizations/{sid.org}/detectors/{sid.object_id}/",
                                           what=f"monitor '{inputs.name}'")
        if not isinstance(detector, dict):
            return ReadResult("", {})
        outs = outputs_from_api(detector, inputs, organization=sid.org)
        return ReadResult(id_, outs, inputs_from_outputs(outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("detector", id_)
        inputs = MetricMonitorInputs.from_props(news)
        detector = self.client.put(f"organizations/{sid.org}/detectors/{sid.object_id}/", inputs.to_body(),
                                   what=f"monitor '{inputs.name}' of project '{inputs.project}'")
        return UpdateResult(outputs_from_api(detector, inputs, organization=sid.org))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        sid = ids.parse("detector", id_)
        self.client.delete(f"organizations/{sid.org}/detectors/{sid.object_id}/", what=f"monitor '{props.get('name')}'")


class MetricMonitor(Resource, module="sentry", name="MetricMonitor"):
    """A Sentry metric monitor (``pulumi-python:dynamic/sentry:MetricMonitor``)."""

    detectorId: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*INPUT_KEYS, *COMPUTED, "lookupFirst")}
        full.update(props)
        super().__init__(MetricMonitorProvider(), resource_name, full, opts)


__all__ = ["MetricMonitor", "MetricMonitorProvider", "find_detector"]
