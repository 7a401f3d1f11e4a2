"""InboundFilter provider lifecycle against a real localsentry process."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.sentry.errors import SentryStateError
from infra.sentry.inbound_filter import InboundFilterProvider
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry


def provider(ls: LocalSentry) -> InboundFilterProvider:
    p = InboundFilterProvider()
    p.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}, "sentry-stacks")))
    return p


def create(p: InboundFilterProvider, **props: Any) -> tuple[Any, dict[str, Any]]:
    checked = p.check({}, props)
    assert checked.failures == []
    return p.create(checked.inputs), checked.inputs


def filters(ls: LocalSentry, project: str) -> dict[str, Any]:
    return {f["id"]: f["active"] for f in ls.api("GET", f"/api/0/projects/{ls.org}/{project}/filters/").json()}


def test_boolean_filter_lifecycle(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    project = ls.create_project(name=unique("web"), platform="python")["slug"]
    result, inputs = create(p, project=project, filterId="localhost", active=True)
    assert result.id == f"{ls.org}/{project}/localhost" and filters(ls, project)["localhost"] is True
    read = p.read(result.id, result.outs)
    assert p.diff(result.id, read.outs, inputs).changes is False
    outs = p.update(result.id, read.outs, {**inputs, "active": False}).outs
    assert filters(ls, project)["localhost"] is False and outs["active"] is False
    # switched behind our back
    assert ls.api("PUT", f"/api/0/projects/{ls.org}/{project}/filters/localhost/",
                  json={"active": True}).status_code in (200, 201, 204)
    read = p.read(result.id, outs)
    assert read.inputs["active"] is True and p.diff(result.id, read.outs, {**inputs, "active": False}).changes
    p.delete(result.id, read.outs)  # resetOnDelete: turned off again
    assert filters(ls, project)["localhost"] is False
    assert p.diff(result.id, outs, {**inputs, "filterId": "web-crawlers"}).replaces == ["filterId"]


def test_legacy_browsers_subfilters(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    project = ls.create_project(name=unique("web"), platform="python")["slug"]
    result, inputs = create(p, project=project, filterId="legacy-browsers", subfilters=["safari", "ie"])
    assert filters(ls, project)["legacy-browsers"] == ["ie", "safari"]
    outs = p.update(result.id, result.outs, {**inputs, "subfilters": ["ie", "opera", "safari"]}).outs
    assert outs["subfilters"] == ["ie", "opera", "safari"]
    assert p.diff(result.id, outs, {**inputs, "subfilters": ["safari", "opera", "ie"]}).changes is False
    p.delete(result.id, outs)
    assert filters(ls, project)["legacy-browsers"] is False  # Sentry lists "none selected" as false


def test_read_only_filter_of_a_shared_project_never_writes(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    project = ls.create_project(name=unique("web"), platform="python")["slug"]
    owner, owner_inputs = create(p, project=project, filterId="web-crawlers", active=True, shared=True,
                                 resetOnDelete=False)
    adopter, adopter_inputs = create(p, project=project, filterId="web-crawlers", active=True, readOnly=True,
                                     shared=True)
    with pytest.raises(SentryStateError, match=r"web-crawlers' of project .* is True in Sentry but this stack declares "
                                               r"False; the project is shared"):
        create(p, project=project, filterId="web-crawlers", active=False, readOnly=True, shared=True)
    # the adopter turns it off (it agreed on True); the owner, still declaring True, gets a conflict on refresh + up
    adopter_outs = p.update(adopter.id, adopter.outs, {**adopter_inputs, "active": False}).outs
    read = p.read(owner.id, owner.outs)
    assert read.inputs["active"] is False and p.diff(owner.id, read.outs, owner_inputs).changes is True
    with pytest.raises(SentryStateError, match=r"was changed in Sentry to False since this stack last applied True"):
        p.update(owner.id, read.outs, owner_inputs)
    assert filters(ls, project)["web-crawlers"] is False
    adopter_outs = p.update(adopter.id, adopter_outs, {**adopter_inputs, "active": True}).outs
    p.delete(adopter.id, adopter_outs)
    assert filters(ls, project)["web-crawlers"] is True  # the adopter's destroy leaves it alone
    assert filters(ls, project)["web-crawlers"] is True  # the adopter's destroy leaves it alone
    p.delete(owner.id, {**owner.outs, "resetOnDelete": True})
    assert filters(ls, project)["web-crawlers"] is False


FILTER_PUT = "PUT /api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/filters/{filter_id}/"


def filter_puts(ls: LocalSentry) -> int:
    return int(ls.stats()["by_route"].get(FILTER_PUT, 0))


def test_legacy_browsers_none_selected_is_sentrys_false(localsentry: LocalSentry) -> None:
    """Sentry lists legacy-browsers with no browsers as `active: false`: declaring none is no change."""
    ls, p = localsentry, provider(localsentry)
    project = ls.create_project(name=unique("web"), platform="python")["slug"]
    assert filters(ls, project)["legacy-browsers"] is False
    ls.reset_stats()
    result, inputs = create(p, project=project, filterId="legacy-browsers", subfilters=[])
    assert filter_puts(ls) == 1  # the create's one request (no read first); it sets what is already there
    assert filters(ls, project)["legacy-browsers"] is False
    assert result.outs["subfilters"] == [] and "active" not in result.outs
    read = p.read(result.id, result.outs)
    assert read.outs["subfilters"] == [] and p.diff(result.id, read.outs, inputs).changes is False
    # a state written before Sentry's false was understood (active: false, no subfilters) is no change either
    older = {k: v for k, v in read.outs.items() if k != "subfilters"} | {"active": False}
    assert p.diff(result.id, older, inputs).changes is False
    # selecting browsers and going back to none still works (and is a real change each time)
    outs = p.update(result.id, read.outs, {**inputs, "subfilters": ["ie"]}).outs
    assert filters(ls, project)["legacy-browsers"] == ["ie"]
    assert p.diff(result.id, outs, inputs).changes is True
    outs = p.update(result.id, outs, inputs).outs
    assert filters(ls, project)["legacy-browsers"] is False and outs["subfilters"] == []


def test_legacy_browsers_none_selected_in_a_shared_project(localsentry: LocalSentry) -> None:
    """Shared-project mode: the second stack adopts `[]` against Sentry's false; refresh + up of the first works."""
    ls, p = localsentry, provider(localsentry)
    project = ls.create_project(name=unique("web"), platform="javascript")["slug"]
    first, first_inputs = create(p, project=project, filterId="legacy-browsers", subfilters=[], shared=True,
                                 resetOnDelete=False)
    assert filters(ls, project)["legacy-browsers"] is False
    ls.reset_stats()
    second, second_inputs = create(p, project=project, filterId="legacy-browsers", subfilters=[], readOnly=True,
                                   shared=True, resetOnDelete=False)  # was: SentryStateError "is False in Sentry"
    refreshed = p.read(first.id, first.outs)
    assert p.diff(first.id, refreshed.outs, first_inputs).changes is False
    outs = p.update(first.id, refreshed.outs, first_inputs).outs  # was: "was changed in Sentry to False"
    assert outs["subfilters"] == [] and filter_puts(ls) == 0
    # a real change by the second stack is still a conflict for the first one
    p.update(second.id, second.outs, {**second_inputs, "subfilters": ["ie"]})
    refreshed = p.read(first.id, outs)
    assert p.diff(first.id, refreshed.outs, first_inputs).changes is True
    with pytest.raises(SentryStateError, match=r"was changed in Sentry to \['ie'\] since this stack last applied \[\]"):
        p.update(first.id, refreshed.outs, first_inputs)


def test_legacy_browsers_active_true_is_sentrys_all(localsentry: LocalSentry) -> None:
    """`active: true` on legacy-browsers is Sentry's "all legacy browsers": written as such, listed true, no drift."""
    ls, p = localsentry, provider(localsentry)
    project = ls.create_project(name=unique("web"), platform="python")["slug"]
    result, inputs = create(p, project=project, filterId="legacy-browsers", active=True)
    assert filters(ls, project)["legacy-browsers"] is True and result.outs["active"] is True
    read = p.read(result.id, result.outs)
    assert p.diff(result.id, read.outs, inputs).changes is False
    assert p.diff(result.id, read.outs, {k: v for k, v in inputs.items() if k != "active"} | {"subfilters": []}).changes
    ls.reset_stats()
    assert p.update(result.id, read.outs, inputs).outs["active"] is True and filter_puts(ls) == 0
    outs = p.update(result.id, read.outs, {**{k: v for k, v in inputs.items() if k != "active"},
                                           "subfilters": ["ie"]}).outs
    assert filters(ls, project)["legacy-browsers"] == ["ie"] and outs["subfilters"] == ["ie"]
    p.delete(result.id, outs)
    assert filters(ls, project)["legacy-browsers"] is False
