"""What the two legacy alert-rule providers (IssueAlert, MetricAlert) do alike: refused against sentry.io, a 410
from a Sentry that retired the API becomes one line of advice, a rule of the same name is adopted or refused, and
create, read, update and delete differ only in the rule's paths, id and answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from infra.sentry import ids
from infra.sentry.base import SentryProvider
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryGone, SentryStateError
from infra.sentry.legacy_model import GONE_ADVICE, REFUSAL
from infra.sentry.shape import SentryModel, inputs_of_state

R = TypeVar("R", bound=SentryModel)


class _Rule(Protocol):
    """What both rules' inputs have."""

    project: str
    name: str
    adopt: bool

    def to_body(self) -> dict[str, Any]: ...


class LegacyRuleProvider(SentryProvider[R]):
    """CRUD of one kind of legacy rule; a subclass gives its words, paths, finder and answer mapping."""

    #: "issue alert rule" / "metric alert rule"
    what: str
    #: the kind of its Pulumi id (infra/sentry/ids.py)
    id_kind: ids.Kind
    #: the path rules are created under, with {org} and {project}; a rule's path adds its id
    collection: str
    #: (client, org, project, name) -> the project's rule of that name, or None
    find: Callable[[SentryClient, str, str, str], dict[str, Any] | None]
    #: (rule as Sentry answered, inputs, organization=) -> the state
    outputs: Callable[..., dict[str, Any]]
    delete_before_replace = None

    def rule_path(self, org: str, project: str, rule_id: str) -> str:
        return self.collection.format(org=org, project=project) + f"{rule_id}/"

    def make_id(self, org: str, project: str, rule_id: str) -> str:
        """The Pulumi id: org/project/id where the path names the project, else org/id."""
        return ids.make(self.id_kind, org, *([project] if "{project}" in self.collection else []), rule_id)

    def settle(self, org: str, project: str, answer: Any) -> dict[str, Any]:
        """The rule from a create or update answer (issue rules may answer with a task to follow)."""
        if not isinstance(answer, dict):
            raise SentryStateError(f"unexpected answer to a {self.what} request: {answer!r}")
        return answer

    def problems(self, inputs: R) -> list[tuple[str, str]]:
        return [("name", REFUSAL.format(what=f"{self.what}s"))] if self.configured_for_sentry_io else []

    def _call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except SentryGone as exc:
            raise SentryStateError(f"{exc}. {GONE_ADVICE}") from None

    def _located(self, id_: str) -> tuple[str, str, str]:
        sid = ids.parse(self.id_kind, id_)
        return sid.org, sid.project, sid.object_id

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        rule_in = cast(_Rule, inputs)
        client, org, project, name = self.client, self.client.org, rule_in.project, rule_in.name
        what = f"{self.what} '{name}' of project '{project}'"
        existing = self._call(self.find, client, org, project, name)
        if existing is not None and not rule_in.adopt:
            raise SentryStateError(f"{what} already exists and this stack did not create it: set adoptExisting "
                                   "to manage it from this stack, or rename the rule")
        body = rule_in.to_body()
        if existing is not None:
            answer = client.put(self.rule_path(org, project, str(existing["id"])), body, what=what)
        else:
            answer = self._call(client.create, self.collection.format(org=org, project=project), body, what=what,
                                find=lambda: self.find(client, org, project, name))
        rule = self.settle(org, project, answer)
        return CreateResult(self.make_id(org, project, str(rule["id"])), self.outputs(rule, inputs, organization=org))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        org, project, rule_id = self._located(id_)
        inputs = self.inputs(props)
        rule = self._call(self.client.get_or_none, self.rule_path(org, project, rule_id),
                          what=f"{self.what} '{cast(_Rule, inputs).name}'")
        if not isinstance(rule, dict):
            return ReadResult("", {})
        outs = self.outputs(rule, inputs, organization=org)
        return ReadResult(id_, outs, inputs_of_state(self.inputs_type, outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        org, project, rule_id = self._located(id_)
        inputs = self.inputs(news)
        rule_in = cast(_Rule, inputs)
        answer = self._call(self.client.put, self.rule_path(org, project, rule_id), rule_in.to_body(),
                            what=f"{self.what} '{rule_in.name}'")
        return UpdateResult(self.outputs(self.settle(org, project, answer), inputs, organization=org))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        org, project, rule_id = self._located(id_)
        self._call(self.client.delete, self.rule_path(org, project, rule_id), what=f"{self.what} '{props.get('name')}'")


__all__ = ["LegacyRuleProvider"]
