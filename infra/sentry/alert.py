"""Alert: a Sentry workflow (the replacement of issue alert rules).

It is attached to the ``issue_stream`` detector of each project in ``projects`` (looked up by the
provider) and to the detectors in ``detectorIds`` (e.g. MetricMonitor ``detectorId`` outputs). A
workflow is found again by its exact ``name``, which must therefore be unique in the organization.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from infra.sentry import ids, recovery
from infra.sentry.alert_model import AlertInputs, norm_ids, outputs_from_api
from infra.sentry.base import SentryProvider
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryStateError
from infra.sentry.project import get_project
from infra.sentry.shape import inputs_of_state
from infra.vocabulary import WEBHOOKS_PLUGIN

# Create-time inputs never diffed: `projectIds` (the watched projects' numeric ids, aligned with `projects`)
# and `lookupFirst`: False (SentryApp, whose alert names carry the stack's name) looks the workflow up by name
# only when a killed run may have created it (infra/sentry/recovery.py) or a POST's outcome is unknown; absent
# or True, always (adopting or refusing a same-named workflow).


def find_workflow(client: SentryClient, org: str, name: str) -> dict[str, Any] | None:
    for workflow in client.paginate(f"organizations/{org}/workflows/", what="workflows", params={"query": name}):
        if workflow.get("name") == name:
            return dict(workflow)
    return None


def issue_stream_detector(client: SentryClient, org: str, project: str) -> str:
    """The id of `project`'s ``issue_stream`` detector (every project gets one at creation)."""
    return issue_stream_detectors(client, org, [project])[project]


def issue_stream_detectors(
    client: SentryClient, org: str, projects: list[str], project_ids: Mapping[str, str] | None = None,
    known: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """slug -> id of the ``issue_stream`` detector of each of `projects` (every project gets one at creation).

    `known` ids (from state) are taken as they are; the others come from one listing of the organization's
    issue_stream detectors filtered by project id, the ids taken from `project_ids` (the Project resources'
    ``projectId`` outputs) or, without them, read from each project."""
    result = {p: str(known[p]) for p in projects if known and known.get(p)}
    wanted: dict[str, str] = {}  # project id -> slug
    for slug in projects:
        if slug in result:
            continue
        pid = (project_ids or {}).get(slug)
        if not pid:
            live = get_project(client, org, slug)
            if live is None:
                raise SentryStateError(f"project '{slug}' not found in organization '{org}'")
            pid = str(live["id"])
        wanted[str(pid)] = slug
    if wanted:
        params = {"project": sorted(wanted), "query": "type:issue_stream"}
        for detector in client.paginate(f"organizations/{org}/detectors/", what="detectors", params=params):
            owner = wanted.get(str(detector.get("projectId")))
            if owner is not None and detector.get("type") == "issue_stream":
                result.setdefault(owner, str(detector["id"]))
    for slug in projects:
        if slug not in result:
            raise SentryStateError(f"project '{slug}' has no issue_stream detector in organization '{org}'")
    return result


def _project_ids(props: Mapping[str, Any]) -> dict[str, str]:
    """slug -> numeric id from the ``projectIds`` input (aligned with ``projects``; absent in older states)."""
    slugs, pids = props.get("projects"), props.get("projectIds")
    if not isinstance(slugs, list) or not isinstance(pids, list) or len(slugs) != len(pids):
        return {}
    return {str(s): str(i) for s, i in zip(slugs, pids, strict=True) if isinstance(i, (str, int)) and str(i)}


def _ids_aligned(slugs: Any, props: Mapping[str, Any]) -> list[str] | None:
    """``projectIds`` for the output ``projects`` (sorted, so no longer in the declared order): the id of each
    slug as `props` gives it, or None when one is missing (the next update then lists the detectors again)."""
    by_slug = _project_ids(props)
    if not isinstance(slugs, list) or not by_slug or any(str(s) not in by_slug for s in slugs):
        return None
    return [by_slug[str(s)] for s in slugs]


def _plugin_urls(plugin: Mapping[str, Any]) -> set[str]:
    """The callback URLs of a WebHooks plugin as its API answers it (``config[name=urls].value``)."""
    for item in plugin.get("config") or []:
        if isinstance(item, Mapping) and item.get("name") == "urls":
            return {u.strip() for u in str(item.get("value") or "").splitlines() if u.strip()}
    return set()


def configure_webhooks(client: SentryClient, org: str, projects: list[str], urls: set[str], dropped: set[str]) -> None:
    """Make `urls` callback URLs of each project's WebHooks plugin (the plugin a ``webhook`` action with
    ``targetIdentifier: webhooks`` POSTs through) and drop `dropped` (this alert's former URLs); the plugin's other
    URLs stay (other alerts or stacks may have set them). The plugin is enabled when it has URLs."""
    for project in projects:
        path = f"projects/{org}/{project}/plugins/{WEBHOOKS_PLUGIN}/"
        what = f"the WebHooks plugin of project '{project}'"
        plugin = client.get_or_none(path, what=what)
        current = _plugin_urls(plugin) if isinstance(plugin, Mapping) else set()
        wanted = (current - dropped) | urls
        if wanted != current:
            client.put(path, {"urls": "\n".join(sorted(wanted))}, what=what)
        if wanted and not (isinstance(plugin, Mapping) and plugin.get("enabled")):
            client.request("POST", path, action="update", what=what, json_body={})  # enable (idempotent)


class AlertProvider(SentryProvider[AlertInputs]):
    """CRUD for workflows."""

    inputs_type = AlertInputs

    def _streams(self, org: str, inputs: AlertInputs, props: Mapping[str, Any],
                 olds: Mapping[str, Any] | None = None) -> dict[str, str]:
        """The watched projects' issue_stream detectors: from state where the project is the same one (same
        numeric id), else one listing for the rest."""
        ids = _project_ids(props)
        known: dict[str, str] = {}
        if olds is not None:
            old_ids, stored = _project_ids(olds), olds.get("issueStreamDetectors")
            if isinstance(stored, Mapping):
                known = {p: str(d) for p, d in stored.items() if ids.get(p) and old_ids.get(p) == ids.get(p)}
        return issue_stream_detectors(self.client, org, norm_ids(inputs.projects), ids, known)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client, org = self.client, self.client.org
        what = f"alert '{inputs.name}' in organization '{org}'"
        streams = self._streams(org, inputs, props)
        journal = recovery.key("workflow", client.connection.api_root, org, "", inputs.name)
        look_first = inputs.lookup_first is not False or recovery.may_exist(journal)
        existing = find_workflow(client, org, inputs.name) if look_first else None
        if existing is not None:
            if not inputs.adopt:
                raise SentryStateError(
                    f"{what} already exists and this stack did not create it: set adoptExisting to manage it "
                    "from this stack, or rename the alert"
                )
            workflow = client.put(f"organizations/{org}/workflows/{existing['id']}/", inputs.to_body(streams),
                                  what=what)
            recovery.settled(journal)
        else:
            with recovery.creating(journal):  # looked up only when the outcome is unknown (or after a kill)
                workflow = client.create(f"organizations/{org}/workflows/", inputs.to_body(streams), what=what,
                                         find=lambda: find_workflow(client, org, inputs.name))
        if inputs.webhook_urls:
            configure_webhooks(client, org, norm_ids(inputs.projects), set(inputs.webhook_urls), set())
        outs = outputs_from_api(workflow, inputs, organization=org, issue_stream_ids=streams)
        outs["projectIds"] = _ids_aligned(outs.get("projects"), props)
        return CreateResult(ids.make("workflow", org, str(workflow["id"])), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        sid = ids.parse("workflow", id_)
        inputs = self.inputs(props)
        workflow = self.client.get_or_none(f"organizations/{sid.org}/workflows/{sid.object_id}/",
                                           what=f"alert '{inputs.name}'")
        if not isinstance(workflow, dict):
            return ReadResult("", {})
        streams = dict(props.get("issueStreamDetectors") or {})
        outs = outputs_from_api(workflow, inputs, organization=sid.org, issue_stream_ids=streams)
        outs["projectIds"] = _ids_aligned(outs.get("projects"), props)  # kept: the ids the streams above belong to
        return ReadResult(id_, outs, inputs_of_state(AlertInputs, outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("workflow", id_)
        inputs = self.inputs(news)
        streams = self._streams(sid.org, inputs, news, olds)
        workflow = self.client.put(f"organizations/{sid.org}/workflows/{sid.object_id}/", inputs.to_body(streams),
                                   what=f"alert '{inputs.name}' in organization '{sid.org}'")
        old = self.inputs(olds)
        urls, old_urls = set(inputs.webhook_urls or ()), set(old.webhook_urls or ())
        if urls or old_urls:
            configure_webhooks(self.client, sid.org, norm_ids(inputs.projects), urls, old_urls - urls)
            configure_webhooks(self.client, sid.org, sorted(set(old.projects) - set(inputs.projects)), set(), old_urls)
        outs = outputs_from_api(workflow, inputs, organization=sid.org, issue_stream_ids=streams)
        outs["projectIds"] = _ids_aligned(outs.get("projects"), news)
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        sid = ids.parse("workflow", id_)
        self.client.delete(f"organizations/{sid.org}/workflows/{sid.object_id}/", what=f"alert '{props.get('name')}'")
        state = self.inputs(props)
        if state.webhook_urls:
            configure_webhooks(self.client, sid.org, norm_ids(state.projects), set(), set(state.webhook_urls))


