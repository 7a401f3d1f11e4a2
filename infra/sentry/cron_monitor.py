"""CronMonitor: a Sentry cron monitor (``organizations/{org}/monitors/``), the schedule a job checks in against.

The SDK's check-ins name the monitor by its ``slug`` (unique in the organization), so the slug is the
identity: the Pulumi id is ``{org}/{slug}`` and a new slug replaces the monitor. Sentry marks a check-in
that does not arrive within ``checkinMargin`` minutes of the schedule as ``missed``, and one still in
progress after ``maxRuntime`` minutes as timed out; ``failureIssueThreshold`` failures in a row open an
issue, ``recoveryThreshold`` successes resolve it.

Create is idempotent: a monitor found under the slug is this stack's own when it carries this stack's Sentry
name (a create that landed before the CLI died) and is taken over; any other monitor under that slug is
adopted only with ``adopt`` (``adoptExisting``), and is otherwise an error naming it. Read returns what
Sentry holds, so ``pulumi refresh`` shows a schedule or threshold changed by hand.

Alerts watch a monitor through its detector (Sentry's workflow engine keeps one ``monitor_check_in_failure``
detector per cron monitor): ``detectorId`` is that detector's id, or "" where the server has none.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from infra.sentry.base import SentryProvider
from infra.sentry.client import SentryClient
from infra.sentry.cron_monitor_model import CronMonitorInputs, outputs_from_api
from infra.sentry.errors import SentryBadRequest, SentryNotFound, SentryStateError
from infra.sentry.shape import inputs_of_state

DETECTOR_TYPE = "monitor_check_in_failure"


def monitor_path(org: str, slug: str) -> str:
    return f"organizations/{org}/monitors/{slug}/"


def get_monitor(client: SentryClient, org: str, slug: str, environment: str | None = None) -> dict[str, Any] | None:
    params = {"environment": environment} if environment else None
    found = client.get_or_none(monitor_path(org, slug), what=f"cron monitor '{slug}'", params=params)
    return found if isinstance(found, dict) and found.get("slug") == slug else None


def find_detector(client: SentryClient, org: str, monitor: dict[str, Any]) -> str | None:
    """The id of the cron monitor's ``monitor_check_in_failure`` detector, or None when there is none."""
    project = monitor.get("project")
    pid = str(project.get("id")) if isinstance(project, dict) else ""
    if not pid:
        return None
    params = {"project": pid, "query": f"type:{DETECTOR_TYPE}"}
    try:
        detectors = list(client.paginate(f"organizations/{org}/detectors/", what="cron detectors", params=params))
    except (SentryNotFound, SentryBadRequest):  # no workflow engine (older self-hosted): nothing to watch
        return None
    for detector in detectors:
        if detector.get("type") != DETECTOR_TYPE:
            continue
        sources = detector.get("dataSources") or []
        if any(str(s.get("sourceId")) == str(monitor.get("id")) for s in sources if isinstance(s, dict)):
            return str(detector["id"])
        if detector.get("name") == monitor.get("name") and str(detector.get("projectId")) == pid:
            return str(detector["id"])
    return None


class CronMonitorProvider(SentryProvider[CronMonitorInputs]):
    """CRUD for cron monitors."""

    inputs_type = CronMonitorInputs
    delete_before_replace = True

    def changed(self, olds: dict[str, Any], news: dict[str, Any], found: list[str],
                replaces: list[str]) -> tuple[list[str], list[str]]:
        if "detectorId" in olds and olds["detectorId"] is None:
            found = [*found, "detectorId"]  # a state from before "" meant "no detector": one update rewrites it
        return found, replaces

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client, org = self.client, self.client.org
        existing = get_monitor(client, org, inputs.slug)
        adopted = False
        if existing is not None:
            ours = existing.get("name") == inputs.name  # our own create, landed before the CLI died
            if not ours and not inputs.adopt:
                raise SentryStateError(
                    f"cron monitor '{inputs.slug}' already exists in organization '{org}' (named "
                    f"{existing.get('name')!r}) and this stack did not create it: set adoptExisting to manage it "
                    "from this stack, or give the monitor another slug"
                )
            adopted = not ours
            client.put(monitor_path(org, inputs.slug), inputs.to_body(), what=f"cron monitor '{inputs.slug}'")
        else:
            client.create(f"organizations/{org}/monitors/", inputs.to_body(),
                          what=f"cron monitor '{inputs.slug}' in organization '{org}'",
                          find=lambda: get_monitor(client, org, inputs.slug))
        live = get_monitor(client, org, inputs.slug, inputs.environment)
        if live is None:
            raise SentryStateError(f"cron monitor '{inputs.slug}' disappeared right after it was created")
        outs = outputs_from_api(live, inputs, organization=org, adopted=adopted,
                                detector_id=find_detector(client, org, live))
        return CreateResult(f"{org}/{inputs.slug}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        org, _, slug = id_.partition("/")
        inputs = self.inputs({**props, "slug": props.get("slug") or slug})
        live = get_monitor(self.client, org, slug, inputs.environment)
        if live is None:
            return ReadResult("", {})
        detector = props.get("detectorId") or find_detector(self.client, org, live)
        outs = outputs_from_api(live, inputs, organization=org, adopted=bool(props.get("adopted")),
                                detector_id=detector)
        return ReadResult(id_, outs, inputs_of_state(CronMonitorInputs, outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        org, _, slug = id_.partition("/")
        inputs = self.inputs(news)
        client = self.client
        if get_monitor(client, org, slug) is None:
            raise SentryStateError(f"cron monitor '{slug}' no longer exists in Sentry: run `pulumi refresh`")
        client.put(monitor_path(org, slug), inputs.to_body(), what=f"cron monitor '{slug}'")
        live = get_monitor(client, org, slug, inputs.environment)
        if live is None:
            raise SentryStateError(f"cron monitor '{slug}' disappeared while it was being updated")
        detector = olds.get("detectorId") or find_detector(client, org, live)
        return UpdateResult(outputs_from_api(live, inputs, organization=org, adopted=bool(olds.get("adopted")),
                                             detector_id=detector))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        org, _, slug = id_.partition("/")
        self.client.delete(monitor_path(org, slug), what=f"cron monitor '{slug}'")


__all__ = ["DETECTOR_TYPE", "CronMonitorProvider", "find_detector", "get_monitor", "monitor_path"]
