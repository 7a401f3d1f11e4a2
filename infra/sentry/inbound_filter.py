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

from typing import Any, Self

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from infra.fields import Bool, FilterId, ProjectSlug, Subfilter
from infra.sentry import ids
from infra.sentry.base import SentryProvider, split_unknown
from infra.sentry.client import SentryClient
from infra.sentry.errors import SentryNotFound, SentryStateError
from infra.sentry.shape import SentryModel, field, field_rule, inputs_of_state


class InboundFilterInputs(SentryModel):
    """One of a project's built-in inbound data filters (``sentrystacks:index:InboundFilter``)."""

    project: ProjectSlug = field("project", sent=False, description="Slug of the filter's project")
    filter_id: FilterId = field("filterId", sent=False, description="The filter")
    active: Bool | None = field("active", None, description="On or off (legacy-browsers: true = all browsers)")
    subfilters: list[Subfilter] | None = field("subfilters", None, description="legacy-browsers: the browsers")
    read_only: Bool = field("readOnly", False, sent=False,
                            description="Only check that Sentry has the value (a shared project set up elsewhere)")
    reset_on_delete: Bool = field("resetOnDelete", True, sent=False, description="Turn the filter off on delete")
    shared: Bool = field("shared", False, sent=False, description="The project is shared by every stack")

    @field_rule
    def _one_form(self) -> Self:
        if self.filter_id == "legacy-browsers" and self.active is not None and self.subfilters is not None:
            raise ValueError("legacy-browsers takes either subfilters (a list of browsers) or active (true: all "
                             "legacy browsers, false: none), not both")
        if self.filter_id != "legacy-browsers" and self.subfilters is not None:
            raise ValueError(f"only legacy-browsers takes subfilters; {self.filter_id} takes active: true|false")
        return self

    @property
    def wanted(self) -> bool | list[str]:
        """The filter's ``active`` value as Sentry lists it. legacy-browsers: the sorted subfilters, or ``True``
        for ``active: true`` without subfilters (Sentry's "all legacy browsers"), or ``[]`` (none)."""
        if self.filter_id == "legacy-browsers":
            if self.subfilters is None and self.active is not False:
                return True if self.active else []
            return sorted(self.subfilters or ())
        return self.active is not False

    def compared(self) -> tuple[Any, ...]:
        """What diff() compares: the value as Sentry means it (so ``subfilters: []`` and an older state's
        ``active: false`` are the same), and the flags."""
        return self.project, self.filter_id, self.wanted, self.read_only, self.reset_on_delete, self.shared

    def to_body(self) -> dict[str, Any]:
        if self.filter_id == "legacy-browsers":
            wanted = self.wanted
            return {"active": True} if wanted is True else {"subfilters": wanted}
        return {"active": self.wanted}

    def reset_body(self) -> dict[str, Any]:
        return {"subfilters": []} if self.filter_id == "legacy-browsers" else {"active": False}


class InboundFilterState(InboundFilterInputs):
    """What an InboundFilter's state holds besides its inputs."""

    organization: str | None = field("organization", None, sent=False, diff=False)
    agreed: Any = field("agreed", None, sent=False, diff=False,
                        description="The value this stack last wrote or agreed with (shared projects)")


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


class InboundFilterProvider(SentryProvider[InboundFilterInputs]):
    """Set / read / reset inbound filters."""

    inputs_type = InboundFilterInputs
    delete_before_replace = True

    def changed(self, olds: dict[str, Any], news: dict[str, Any], found: list[str],
                replaces: list[str]) -> tuple[list[str], list[str]]:
        """The filter's value is compared as Sentry means it; another project or filter is another object."""
        known, unknown = split_unknown(olds, news)
        replaces = [k for k in ("project", "filterId") if k in unknown or (k in news and news[k] != olds.get(k))]
        new, old = self.inputs(known), self.inputs(olds)
        return (["active"] if replaces or unknown or new.compared() != old.compared() else []), replaces

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
        inputs = self.inputs(props)
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
        inputs = self.inputs(props)
        found, live = live_filter(self.client, sid.org, sid.project, sid.object_id)
        if not found:
            return ReadResult("", {})
        outs = outputs_from_api(live, inputs, organization=sid.org, agreed=props.get("agreed"))
        return ReadResult(id_, outs, inputs_of_state(InboundFilterInputs, outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("filter", id_)
        inputs = self.inputs(news)
        agreed = olds.get("agreed")
        previous = olds.get("subfilters") if olds.get("subfilters") is not None else olds.get("active")
        live = self._set(sid.org, inputs, agreed if agreed is not None else norm_active(previous, inputs.filter_id))
        return UpdateResult(outputs_from_api(live, inputs, organization=sid.org))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = self.inputs(props)
        if inputs.read_only or not inputs.reset_on_delete:
            return
        sid = ids.parse("filter", id_)
        try:  # one PUT; a project (or filter) already gone is nothing to reset
            self.client.put(f"projects/{sid.org}/{sid.project}/filters/{sid.object_id}/", inputs.reset_body(),
                            what=f"inbound filter '{sid.object_id}' of project '{sid.project}'", action="reset")
        except SentryNotFound:
            return


__all__ = ["InboundFilterInputs", "InboundFilterProvider", "live_filter", "norm_active", "outputs_from_api"]
