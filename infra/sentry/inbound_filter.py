"""InboundFilter: one of a project's built-in inbound data filters.

legacy-browsers takes ``subfilters`` (a list of browsers; ``[]`` is none, which Sentry lists as ``false``)
or ``active: true`` (all legacy browsers, which Sentry lists as ``true``).

Filters always exist in Sentry, so "create" sets the declared state and "delete" turns the filter off
again (``resetOnDelete``, default true). Filters are project-wide: on a project shared by several
stacks (``shared: true``) the stacks that adopted the project pass ``readOnly: true``, so their create
only checks that Sentry already has their declared value (an error names the difference otherwise);
afterwards any sharing stack may change the filter from the value it last agreed with (``agreed``),
while a value changed in Sentry since then is reported as a conflict, never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from infra.sentry import ids
from infra.sentry.base import PROVIDER_KEY, Checker, SentryProvider, declared, split_unknown
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryNotFound, SentryStateError
from infra.vocabulary import FILTER_IDS, SUBFILTERS

INPUT_KEYS = ("project", "filterId", "active", "subfilters", "readOnly", "resetOnDelete", "shared")
COMPUTED = ("organization", "agreed")


@dataclass(frozen=True)
class InboundFilterInputs:
    project: str
    filter_id: str
    active: bool = True
    subfilters: tuple[str, ...] | None = None
    read_only: bool = False
    reset_on_delete: bool = True
    shared: bool = False

    @staticmethod
    def from_props(props: Mapping[str, Any]) -> InboundFilterInputs:
        subs = props.get("subfilters")
        return InboundFilterInputs(
            project=str(props["project"]),
            filter_id=str(props["filterId"]),
            active=bool(props.get("active", props.get("filterId") != "legacy-browsers")),
            subfilters=tuple(sorted(str(s) for s in subs)) if isinstance(subs, (list, tuple)) else None,
            read_only=bool(props.get("readOnly", False)),
            reset_on_delete=bool(props.get("resetOnDelete", True)),
            shared=bool(props.get("shared", False)),
        )

    @property
    def wanted(self) -> bool | list[str]:
        """The filter's ``active`` value as Sentry lists it. legacy-browsers: the sorted subfilters, or ``True``
        for ``active: true`` without subfilters (Sentry's "all legacy browsers"), or ``[]`` (none)."""
        if self.filter_id == "legacy-browsers":
            if self.subfilters is None and self.active:
                return True
            return sorted(self.subfilters or ())
        return self.active

    def compared(self) -> tuple[Any, ...]:
        """What diff() compares: the value as Sentry means it (so ``subfilters: []`` and an older state's
        ``active: false`` are the same), and the flags."""
        return self.project, self.filter_id, self.wanted, self.read_only, self.reset_on_delete, self.shared

    def to_body(self) -> dict[str, Any]:
        if self.filter_id == "legacy-browsers":
            wanted = self.wanted
            return {"active": True} if wanted is True else {"subfilters": wanted}
        return {"active": self.active}

    def reset_body(self) -> dict[str, Any]:
        return {"subfilters": []} if self.filter_id == "legacy-browsers" else {"active": False}


def norm_active(value: Any, filter_id: str) -> Any:
    """A filter's ``active`` as Sentry means it. legacy-browsers: a sorted list of subfilters, where
    Sentry's ``false`` (none selected, stored as "0") is ``[]`` and ``true`` ("1", all legacy browsers)
    stays ``true``. Other filters: a bool (absent = false). Any other value is kept as sent."""
    if isinstance(value, (list, tuple)):
        return sorted(str(v) for v in value)
    if filter_id == "legacy-browsers" and value in (False, None):
        return []
    if value is None:
        return False
    return value


def outputs_from_api(
    live_active: Any, inputs: InboundFilterInputs, *, organization: str, agreed: Any = None
) -> dict[str, Any]:
    """State of a filter; ``agreed`` is the value this stack last wrote or agreed with (kept by refresh)."""
    outs: dict[str, Any] = {
        "project": inputs.project, "filterId": inputs.filter_id, "readOnly": inputs.read_only,
        "resetOnDelete": inputs.reset_on_delete, "shared": inputs.shared, "organization": organization,
        "agreed": inputs.wanted if agreed is None else agreed,
    }
    value = norm_active(live_active, inputs.filter_id)
    if isinstance(value, list):
        outs["subfilters"] = value
    else:
        outs["active"] = value
    return outs


def live_filter(client: SentryClient, org: str, project: str, filter_id: str) -> tuple[bool, Any]:
    """(found, active) for one filter of a project; found is False when the project or filter is gone."""
    listing = client.get_or_none(f"projects/{org}/{project}/filters/", what=f"inbound filters of '{project}'")
    for item in listing or []:
        if isinstance(item, dict) and item.get("id") == filter_id:
            return True, item.get("active")
    return False, None


class InboundFilterProvider(SentryProvider):
    """Set / read / reset inbound filters."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        c.slug("project")
        c.str_("filterId", required=True, allowed=FILTER_IDS)
        c.bool_("active")
        c.bool_("readOnly")
        c.bool_("resetOnDelete")
        c.bool_("shared")
        c.str_list("subfilters", allowed=SUBFILTERS)
        fid = news.get("filterId")
        if fid == "legacy-browsers" and news.get("active") is not None and news.get("subfilters") is not None:
            c.fail("active", "legacy-browsers takes either subfilters (a list of browsers) or active (true: all "
                   "legacy browsers, false: none), not both")
        if fid in FILTER_IDS and fid != "legacy-browsers" and news.get("subfilters") is not None:
            c.fail("subfilters", f"only legacy-browsers takes subfilters; {fid} takes active: true|false")
        return CheckResult(declared(news), c.failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        known, unknown = split_unknown(olds, news, INPUT_KEYS)
        replaces: list[str] = [
            k for k in ("project", "filterId") if k in unknown or (k in news and news[k] != olds.get(k))
        ]
        new, old = InboundFilterInputs.from_props(known), InboundFilterInputs.from_props(olds)
        changed = bool(replaces) or bool(unknown) or new.compared() != old.compared()
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def _set(self, org: str, inputs: InboundFilterInputs, agreed: Any = None) -> Any:
        """Set the filter. `agreed` (update of a shared filter): the value this stack last agreed with."""
        client = self.client
        what = f"inbound filter '{inputs.filter_id}' of project '{inputs.project}'"
        found, live = live_filter(client, org, inputs.project, inputs.filter_id)
        if not found:
            raise SentryStateError(f"{what}: no such filter (or project) in organization '{org}'")
        fid = inputs.filter_id
        if norm_active(live, fid) == inputs.wanted:
            return live
        if inputs.read_only and agreed is None:
            raise SentryStateError(
                f"{what} is {norm_active(live, fid)!r} in Sentry but this stack declares {inputs.wanted!r}; the "
                "project is shared and was set up by another stack: make the stacks agree, or use "
                "projectMode: per-environment"
            )
        if inputs.shared and agreed is not None and norm_active(live, fid) != norm_active(agreed, fid):
            raise SentryStateError(
                f"{what} was changed in Sentry to {norm_active(live, fid)!r} since this stack last applied "
                f"{norm_active(agreed, fid)!r} (by another stack sharing the project, or by hand), and this stack "
                f"declares {inputs.wanted!r}: make the stacks agree, or use projectMode: per-environment"
            )
        client.put(f"projects/{org}/{inputs.project}/filters/{inputs.filter_id}/", inputs.to_body(), what=what)
        return inputs.wanted

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = InboundFilterInputs.from_props(props)
        org = self.client.org
        if inputs.read_only:
            live = self._set(org, inputs)  # check Sentry has the value the sharing stacks agreed on
        else:  # the filter always exists: one PUT sets it (404 when the project or filter does not exist)
            what = f"inbound filter '{inputs.filter_id}' of project '{inputs.project}'"
            self.client.put(f"projects/{org}/{inputs.project}/filters/{inputs.filter_id}/", inputs.to_body(),
                            what=what)
            live = inputs.wanted
        return CreateResult(ids.make("filter", org, inputs.project, inputs.filter_id),
                            outputs_from_api(live, inputs, organization=org))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        sid = ids.parse("filter", id_)
        inputs = InboundFilterInputs.from_props(props)
        found, live = live_filter(self.client, sid.org, sid.project, sid.object_id)
        if not found:
            return ReadResult("", {})
        outs = outputs_from_api(live, inputs, organization=sid.org, agreed=props.get("agreed"))
        return ReadResult(id_, outs, {k: v for k, v in outs.items() if k in INPUT_KEYS and k != PROVIDER_KEY})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("filter", id_)
        inputs = InboundFilterInputs.from_props(news)
        agreed = olds.get("agreed")
        previous = olds.get("subfilters") if olds.get("subfilters") is not None else olds.get("active")
        live = self._set(sid.org, inputs, agreed if agreed is not None else norm_active(previous, inputs.filter_id))
        return UpdateResult(outputs_from_api(live, inputs, organization=sid.org))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = InboundFilterInputs.from_props(props)
        if inputs.read_only or not inputs.reset_on_delete:
            return
        sid = ids.parse("filter", id_)
        try:  # one PUT; a project (or filter) already gone is nothing to reset
            self.client.put(f"projects/{sid.org}/{sid.project}/filters/{sid.object_id}/", inputs.reset_body(),
                            what=f"inbound filter '{sid.object_id}' of project '{sid.project}'", action="reset")
        except SentryNotFound:
            return


class InboundFilter(Resource, module="sentry", name="InboundFilter"):
    """An inbound data filter (``pulumi-python:dynamic/sentry:InboundFilter``)."""

    active: pulumi.Output[bool]
    subfilters: pulumi.Output[list[str]]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*INPUT_KEYS, *COMPUTED)}
        full.update(props)
        super().__init__(InboundFilterProvider(), resource_name, full, opts)


__all__ = ["FILTER_IDS", "SUBFILTERS", "InboundFilter", "InboundFilterInputs", "InboundFilterProvider"]
