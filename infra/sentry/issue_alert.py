"""IssueAlert: a legacy issue alert rule (``/projects/{org}/{project}/rules/``).

Only for self-hosted Sentry older than 26.7 (setting ``legacyAlerts``); refused against sentry.io,
where the API answers 410. Nodes (``conditions``, ``filters``, ``actions``) are Sentry's
``{"id": "<python class path>", ...params}``. PUT overwrites the whole rule. Found again by name.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from infra.sentry import ids
from infra.sentry.base import PROVIDER_KEY, Checker, SentryProvider, declared, is_unknown, split_unknown
from infra.sentry.client import SentryClient
from infra.sentry.compare import as_declared, as_int
from infra.sentry.errors import SentryGone, SentryStateError
from infra.sentry.legacy_model import GONE_ADVICE, ISSUE_ALERT_FREQUENCY, MATCHES, REFUSAL, norm_nodes

INPUT_KEYS = ("project", "name", "actionMatch", "filterMatch", "conditions", "filters", "actions", "frequency",
              "environment", "owner", "adopt")
COMPUTED = ("ruleId", "organization", "dateCreated")
NODE_KEYS = ("conditions", "filters", "actions")


def normalise(key: str, value: Any) -> Any:
    if key in NODE_KEYS:
        return norm_nodes(value)
    if key == "frequency":
        return as_int(value) if value is not None else 30
    if key in ("actionMatch", "filterMatch"):
        return value or "all"
    if key == "adopt":
        return bool(value)
    return value or None if key in ("environment", "owner") else value


@dataclass(frozen=True)
class IssueAlertInputs:
    project: str
    name: str
    fields: dict[str, Any]
    adopt: bool = False

    @staticmethod
    def from_props(props: Mapping[str, Any]) -> IssueAlertInputs:
        keys = [k for k in INPUT_KEYS if k not in ("project", "name", "adopt")]
        return IssueAlertInputs(
            project=str(props["project"]), name=str(props["name"]),
            fields={k: normalise(k, props.get(k)) for k in keys}, adopt=bool(props.get("adopt", False)),
        )

    def to_body(self) -> dict[str, Any]:
        return {"name": self.name, **self.fields}


def outputs_from_api(rule: Mapping[str, Any], inputs: IssueAlertInputs, *, organization: str) -> dict[str, Any]:
    outs: dict[str, Any] = {"project": inputs.project, "adopt": inputs.adopt, "name": rule.get("name")}
    for key in inputs.fields:
        value = normalise(key, rule.get(key))
        if key in NODE_KEYS:  # nodes as declared: Sentry adds name labels, uuids, "" target ids
            value = norm_nodes(as_declared(value, inputs.fields[key]))
        if value is not None:
            outs[key] = value
    outs.update(ruleId=str(rule.get("id")), organization=organization, dateCreated=rule.get("dateCreated"))
    return outs


def find_rule(client: SentryClient, org: str, project: str, name: str) -> dict[str, Any] | None:
    for rule in client.paginate(f"projects/{org}/{project}/rules/", what=f"issue alert rules of '{project}'"):
        if rule.get("name") == name:
            return dict(rule)
    return None


def _settle(client: SentryClient, org: str, project: str, answer: Any) -> dict[str, Any]:
    """Follow a 202 ``{"uuid"}`` answer (asynchronous Slack lookup) to the rule."""
    if isinstance(answer, dict) and "uuid" in answer and "id" not in answer:
        for _ in range(10):
            task = client.get(f"projects/{org}/{project}/rule-task/{answer['uuid']}/", what="issue alert rule task")
            if task.get("status") == "success" and isinstance(task.get("rule"), dict):
                return dict(task["rule"])
            if task.get("status") == "failed":
                raise SentryStateError(f"issue alert rule task failed: {task.get('error')}")
            time.sleep(2)
        raise SentryStateError("issue alert rule task did not finish (still pending after 20 s)")
    if not isinstance(answer, dict):
        raise SentryStateError(f"unexpected answer to an issue alert rule request: {answer!r}")
    return answer


class IssueAlertProvider(SentryProvider):
    """CRUD for legacy issue alert rules."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        if self.configured_for_sentry_io:
            c.fail("name", REFUSAL.format(what="issue alert rules"))
        c.slug("project")
        c.str_("name", required=True, max_len=256)
        c.str_("actionMatch", required=True, allowed=MATCHES)
        c.str_("filterMatch", allowed=MATCHES)
        c.int_("frequency", minimum=ISSUE_ALERT_FREQUENCY[0], maximum=ISSUE_ALERT_FREQUENCY[1])
        c.str_("environment")
        c.str_("owner")
        c.bool_("adopt")
        for key in NODE_KEYS:
            value = news.get(key)
            if value is None or is_unknown(value):
                continue
            if not isinstance(value, list) or not all(isinstance(n, dict) and n.get("id") for n in value):
                c.fail(key, f"{key} must be a list of nodes, each {{\"id\": \"<sentry class path>\", ...}}")
        if not news.get("actions"):
            c.fail("actions", "actions must list at least one action (Sentry refuses a rule without one)")
        if news.get("filters") and not news.get("filterMatch"):
            c.fail("filterMatch",
                   f"filterMatch is required when filters are given; allowed values: {', '.join(MATCHES)}")
        return CheckResult(declared(news), c.failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        known, unknown = split_unknown(olds, news, INPUT_KEYS)
        changed = [k for k in INPUT_KEYS if k in unknown or normalise(k, known.get(k)) != normalise(k, olds.get(k))]
        replaces = ["project"] if "project" in changed else []
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=bool(replaces))

    def _call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except SentryGone as exc:
            raise SentryStateError(f"{exc}. {GONE_ADVICE}") from None

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = IssueAlertInputs.from_props(props)
        client, org = self.client, self.client.org
        path = f"projects/{org}/{inputs.project}/rules/"
        what = f"issue alert rule '{inputs.name}' of project '{inputs.project}'"
        existing = self._call(find_rule, client, org, inputs.project, inputs.name)
        if existing is not None and not inputs.adopt:
            raise SentryStateError(f"{what} already exists and this stack did not create it: set adoptExisting "
                                   "to manage it from this stack, or rename the rule")
        if existing is not None:
            answer = client.put(f"{path}{existing['id']}/", inputs.to_body(), what=what)
        else:
            answer = self._call(client.create, path, inputs.to_body(), what=what,
                                find=lambda: find_rule(client, org, inputs.project, inputs.name))
        rule = _settle(client, org, inputs.project, answer)
        return CreateResult(ids.make("rule", org, inputs.project, str(rule["id"])),
                            outputs_from_api(rule, inputs, organization=org))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        sid = ids.parse("rule", id_)
        inputs = IssueAlertInputs.from_props(props)
        rule = self._call(self.client.get_or_none, f"projects/{sid.org}/{sid.project}/rules/{sid.object_id}/",
                          what=f"issue alert rule '{inputs.name}'")
        if not isinstance(rule, dict):
            return ReadResult("", {})
        outs = outputs_from_api(rule, inputs, organization=sid.org)
        return ReadResult(id_, outs, {k: v for k, v in outs.items() if k in INPUT_KEYS and k != PROVIDER_KEY})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("rule", id_)
        inputs = IssueAlertInputs.from_props(news)
        answer = self._call(self.client.put, f"projects/{sid.org}/{sid.project}/rules/{sid.object_id}/",
                            inputs.to_body(), what=f"issue alert rule '{inputs.name}'")
        rule = _settle(self.client, sid.org, sid.project, answer)
        return UpdateResult(outputs_from_api(rule, inputs, organization=sid.org))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        sid = ids.parse("rule", id_)
        self._call(self.client.delete, f"projects/{sid.org}/{sid.project}/rules/{sid.object_id}/",
                   what=f"issue alert rule '{props.get('name')}'")


class IssueAlert(Resource, module="sentry", name="IssueAlert"):
    """A legacy issue alert rule (``pulumi-python:dynamic/sentry:IssueAlert``)."""

    ruleId: pulumi.Output[str]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*INPUT_KEYS, *COMPUTED)}
        full.update(props)
        super().__init__(IssueAlertProvider(), resource_name, full, opts)


__all__ = ["IssueAlert", "IssueAlertInputs", "IssueAlertProvider", "find_rule"]
