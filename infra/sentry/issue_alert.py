"""IssueAlert: a legacy issue alert rule (``/projects/{org}/{project}/rules/``).

Only for self-hosted Sentry older than 26.7 (setting ``legacyAlerts``); refused against sentry.io,
where the API answers 410. Nodes (``conditions``, ``filters``, ``actions``) are Sentry's
``{"id": "<python class path>", ...params}``. PUT overwrites the whole rule. Found again by name.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator

from infra.fields import Bool, ProjectSlug, text, whole
from infra.sentry.client import SentryClient
from infra.sentry.compare import as_declared, as_int, text_or_none
from infra.sentry.errors import SentryStateError
from infra.sentry.legacy_model import ISSUE_ALERT_FREQUENCY, norm_nodes
from infra.sentry.legacy_rule import LegacyRuleProvider
from infra.sentry.shape import SentryModel, field, field_rule, fields_of, is_deferred, normalised

NODE_KEYS = ("conditions", "filters", "actions")
Match = Literal["all", "any", "none"]
Node = Annotated[dict[str, Any], Field(json_schema_extra={"required": ["id"]})]


def _match(value: Any) -> Any:
    return value or "all"


def _frequency(value: Any) -> Any:
    return as_int(value) if value is not None else 30


class IssueAlertInputs(SentryModel):
    """A legacy issue alert rule (``sentrystacks:index:IssueAlert``; self-hosted Sentry before 26.7). Nodes are
    Sentry's ``{"id": "<python class path>", ...params}``; a PUT replaces the whole rule."""

    UNSET = "default"

    project: ProjectSlug = field("project", sent=False, replace=True, description="Slug of the rule's project")
    name: Annotated[str, text("a rule name", max_len=256)] = field("name", description="The rule's name")
    action_match: Match = field("actionMatch", compare=_match, description="How the conditions combine")
    filter_match: Match | None = field("filterMatch", None, compare=_match, description="How the filters combine")
    conditions: list[Node] = field("conditions", default_factory=list, compare=norm_nodes, description="Triggers")
    filters: list[Node] = field("filters", default_factory=list, compare=norm_nodes, description="Filters")
    actions: Annotated[list[Node], Field(min_length=1)] = field("actions", compare=norm_nodes,
                                                                description="What it does")
    frequency: Annotated[int, whole(*ISSUE_ALERT_FREQUENCY)] = field(
        "frequency", 30, compare=_frequency, description="Minutes between two notifications for one issue")
    environment: str | None = field("environment", None, compare=text_or_none, description="Sentry environment")
    owner: str | None = field("owner", None, compare=text_or_none, description="team:<id> or user:<id>")
    adopt: Bool = field("adopt", False, sent=False, compare=bool, description="Adopt a rule of that name")

    @field_validator("conditions", "filters", "actions", mode="after")
    @classmethod
    def _nodes(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not is_deferred(value) and not all(isinstance(n, dict) and n.get("id") for n in value):
            raise ValueError('must be a list of nodes, each {"id": "<sentry class path>", ...}')
        return value

    @field_rule
    def _filter_match(self) -> Self:
        if self.filters and self.filter_match is None:
            raise ValueError("filterMatch is required when filters are given; allowed values: all, any, none")
        return self

    def to_body(self) -> dict[str, Any]:
        """The whole rule (POST and PUT), each field as compared."""
        values = {key: meta.compare(getattr(self, name)) for name, key, _i, meta in fields_of(IssueAlertInputs)
                  if meta.body is not None}
        return {"name": self.name, **values}


class IssueAlertState(IssueAlertInputs):
    rule_id: str | None = field("ruleId", None, sent=False, diff=False)
    organization: str | None = field("organization", None, sent=False, diff=False)
    date_created: str | None = field("dateCreated", None, sent=False, diff=False)


def outputs_from_api(rule: Mapping[str, Any], inputs: IssueAlertInputs, *, organization: str) -> dict[str, Any]:
    outs: dict[str, Any] = {"project": inputs.project, "adopt": inputs.adopt, "name": rule.get("name")}
    declared = inputs.to_body()
    for key in declared:
        value = normalised(IssueAlertInputs, key, rule.get(key))
        if key in NODE_KEYS:  # nodes as declared: Sentry adds name labels, uuids, "" target ids
            value = norm_nodes(as_declared(value, declared[key]))
        if value is not None and key != "name":
            outs[key] = value
    outs.update(ruleId=str(rule.get("id")), organization=organization, dateCreated=rule.get("dateCreated"))
    return outs


def find_rule(client: SentryClient, org: str, project: str, name: str) -> dict[str, Any] | None:
    for rule in client.paginate(f"projects/{org}/{project}/rules/", what=f"issue alert rules of '{project}'"):
        if rule.get("name") == name:
            return dict(rule)
    return None


class IssueAlertProvider(LegacyRuleProvider[IssueAlertInputs]):
    """CRUD for legacy issue alert rules."""

    inputs_type = IssueAlertInputs
    what, id_kind = "issue alert rule", "rule"
    collection = "projects/{org}/{project}/rules/"
    find, outputs = staticmethod(find_rule), staticmethod(outputs_from_api)

    def settle(self, org: str, project: str, answer: Any) -> dict[str, Any]:
        """Follow a 202 ``{"uuid"}`` answer (asynchronous Slack lookup) to the rule."""
        if isinstance(answer, dict) and "uuid" in answer and "id" not in answer:
            for _ in range(10):
                task = self.client.get(f"projects/{org}/{project}/rule-task/{answer['uuid']}/",
                                       what="issue alert rule task")
                if task.get("status") == "success" and isinstance(task.get("rule"), dict):
                    return dict(task["rule"])
                if task.get("status") == "failed":
                    raise SentryStateError(f"issue alert rule task failed: {task.get('error')}")
                time.sleep(2)
            raise SentryStateError("issue alert rule task did not finish (still pending after 20 s)")
        return super().settle(org, project, answer)


__all__ = ["IssueAlertInputs", "IssueAlertProvider", "find_rule"]
