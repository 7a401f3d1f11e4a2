"""MetricMonitor: a Sentry ``metric_issue`` detector (the replacement of metric alert rules).

``timeWindow`` and ``comparisonDelta`` are in **seconds** (legacy metric alerts used minutes). A
monitor is found again by its exact ``name`` within its project. Alerts attach to monitors through
their ``detectorIds``; a monitor never writes ``workflowIds`` itself, so the two never fight.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from infra.sentry import ids, recovery
from infra.sentry.base import SentryProvider
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryStateError
from infra.sentry.metric_monitor_model import MetricMonitorInputs, outputs_from_api
from infra.sentry.project import get_project
from infra.sentry.shape import inputs_of_state

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


class MetricMonitorProvider(SentryProvider[MetricMonitorInputs]):
    """CRUD for metric monitors."""

    inputs_type = MetricMonitorInputs

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client, org = self.client, self.client.org
        what = f"monitor '{inputs.name}' of project '{inputs.project}'"
        journal = recovery.key("detector", client.connection.api_root, org, inputs.project, inputs.name)
        look_first = inputs.lookup_first is not False or recovery.may_exist(journal)
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
        inputs = self.inputs(props)
        detector = self.client.get_or_none(f"organizations/{sid.org}/detectors/{sid.object_id}/",
                                           what=f"monitor '{inputs.name}'")
        if not isinstance(detector, dict):
            return ReadResult("", {})
        outs = outputs_from_api(detector, inputs, organization=sid.org)
        return ReadResult(id_, outs, inputs_of_state(MetricMonitorInputs, outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("detector", id_)
        inputs = self.inputs(news)
        detector = self.client.put(f"organizations/{sid.org}/detectors/{sid.object_id}/", inputs.to_body(),
                                   what=f"monitor '{inputs.name}' of project '{inputs.project}'")
        return UpdateResult(outputs_from_api(detector, inputs, organization=sid.org))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        sid = ids.parse("detector", id_)
        self.client.delete(f"organizations/{sid.org}/detectors/{sid.object_id}/", what=f"monitor '{props.get('name')}'")


__all__ = ["MetricMonitorProvider", "find_detector"]
