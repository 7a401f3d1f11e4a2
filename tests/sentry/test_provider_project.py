"""Project provider lifecycle against a real localsentry process."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.sentry.errors import SentryStateError
from infra.sentry.project import ProjectProvider
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry


def provider(ls: LocalSentry) -> ProjectProvider:
    p = ProjectProvider()
    p.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}, "sentry-stacks")))
    return p


def live(ls: LocalSentry, slug: str) -> Any:
    return ls.api("GET", f"/api/0/projects/{ls.org}/{slug}/")


def create(p: ProjectProvider, **props: Any) -> Any:
    checked = p.check({}, props)
    assert checked.failures == []
    return p.create(checked.inputs), checked.inputs


def test_create_read_refresh_delete(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    slug = unique("proj")
    result, inputs = create(p, slug=slug, name="Shop backend", platform="python-django", teams=[ls.team],
                            resolveAge=24, allowedDomains=["https://b.example", "https://a.example"],
                            subjectPrefix="[shop]", defaultKey="delete", defaultRules=False, stack="dev")
    outs = result.outs
    assert result.id.startswith(f"{ls.org}/") and outs["projectId"] == result.id.split("/")[1]
    assert outs["adopted"] is False and outs["agreedSettings"]["resolveAge"] == 24
    body = live(ls, slug).json()
    assert (body["name"], body["platform"], body["resolveAge"], body["subjectPrefix"]) == (
        "Shop backend", "python-django", 24, "[shop]")
    assert sorted(body["allowedDomains"]) == ["https://a.example", "https://b.example"]
    assert ls.keys(slug) == []  # the auto-created "Default" key was deleted
    # refresh right after create: same inputs, no diff
    read = p.read(result.id, outs)
    assert read.id == result.id and read.inputs == {k: outs[k] for k in read.inputs}
    assert p.diff(result.id, read.outs, inputs).changes is False
    # delete, then delete again (404 is done), then read says gone
    p.delete(result.id, outs)
    assert live(ls, slug).status_code == 404
    p.delete(result.id, outs)
    assert p.read(result.id, outs).id == ""


def test_update_each_mutable_field(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    slug = unique("proj")
    other_team = unique("team")
    assert ls.api("POST", f"/api/0/organizations/{ls.org}/teams/", json={"slug": other_team}).status_code == 201
    result, inputs = create(p, slug=slug, name="Before", platform="python", teams=[ls.team], stack="dev")
    outs = result.outs
    changes: list[dict[str, Any]] = [
        {"name": "After"}, {"platform": "javascript"}, {"resolveAge": 48}, {"allowedDomains": ["https://x.example"]},
        {"subjectPrefix": "[x]"}, {"teams": [ls.team, other_team]}, {"teams": [other_team]},
        {"slug": slug + "-renamed"},
    ]
    for change in changes:
        news = {**inputs, **change}
        assert p.diff(result.id, outs, news).changes is True, change
        assert p.diff(result.id, outs, news).replaces == []
        outs = p.update(result.id, outs, news).outs
        inputs = news
        assert p.diff(result.id, outs, inputs).changes is False, change
    body = live(ls, slug + "-renamed").json()
    assert (body["name"], body["platform"], body["resolveAge"], body["subjectPrefix"]) == ("After", "javascript", 48,
                                                                                            "[x]")
    assert [t["slug"] for t in body["teams"]] == [other_team]
    assert outs["slug"] == slug + "-renamed" and outs["teams"] == [other_team]
    p.delete(result.id, outs)
    assert live(ls, slug + "-renamed").status_code == 404


def test_refresh_shows_changes_made_behind_the_stacks_back(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    slug = unique("proj")
    result, inputs = create(p, slug=slug, name="Web", platform="python", teams=[ls.team], resolveAge=24, stack="dev")
    hand = ls.api("PUT", f"/api/0/projects/{ls.org}/{slug}/", json={"resolveAge": 72, "name": "Hand"})
    assert hand.status_code == 200
    read = p.read(result.id, result.outs)
    assert read.inputs["resolveAge"] == 72 and read.inputs["name"] == "Hand"
    assert read.inputs["platform"] == "python"  # unchanged fields stay as they were
    assert p.diff(result.id, read.outs, inputs).changes is True  # the next up puts it back
    outs = p.update(result.id, read.outs, inputs).outs
    assert live(ls, slug).json()["resolveAge"] == 24 and outs["name"] == "Web"
    # renamed behind our back: found again by numeric id
    assert ls.api("PUT", f"/api/0/projects/{ls.org}/{slug}/", json={"slug": slug + "-x"}).status_code == 200
    read = p.read(result.id, outs)
    assert read.id == result.id and read.inputs["slug"] == slug + "-x"
    p.delete(result.id, read.outs)
    assert live(ls, slug + "-x").status_code == 404


def test_adopt_only_when_told(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    existing = ls.create_project(name="Existing")
    slug = existing["slug"]
    with pytest.raises(SentryStateError, match=f"project '{slug}' already exists .* set adoptExisting"):
        create(p, slug=slug, name="Mine", teams=[ls.team], stack="dev")
    result, _ = create(p, slug=slug, name="Mine", teams=[ls.team], resolveAge=12, adopt=True, stack="dev")
    assert result.outs["adopted"] is True and result.id == f"{ls.org}/{existing['id']}"
    assert live(ls, slug).json()["name"] == "Mine"  # adopted per-environment projects are managed
    assert len(ls.keys(slug)) == 1  # the default key of a project we did not create is left alone
    p.delete(result.id, result.outs)
    assert live(ls, slug).status_code == 404


def test_shared_project_first_creates_others_adopt_destroy_keeps_it(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    slug = unique("shared")
    # defaultKey keep: the stacks add no key here, so only the untouched 'Default' key tells that the project is
    # dev's own, finished create (with delete, a project without any key would be taken for a lost create of prod's)
    common = {"slug": slug, "name": "Shared", "platform": "python", "teams": [ls.team], "resolveAge": 24,
              "shared": True, "defaultKey": "keep"}
    dev, _ = create(p, **common, stack="dev")
    prod, prod_inputs = create(p, **common, stack="prod")
    assert dev.id == prod.id and dev.outs["adopted"] is False and prod.outs["adopted"] is True
    with pytest.raises(SentryStateError, match="already exists with settings that differ from stack 'qa'"):
        create(p, **{**common, "platform": "go"}, stack="qa")
    # prod changes a shared setting it agreed with: allowed (it is the one changing it)
    prod_outs = p.update(prod.id, prod.outs, {**prod_inputs, "resolveAge": 48}).outs
    assert live(ls, slug).json()["resolveAge"] == 48
    # dev, still declaring 24, refreshes and runs up: a clear error instead of putting 24 back
    dev_inputs = {**common, "stack": "dev"}
    read = p.read(dev.id, dev.outs)
    assert read.inputs["resolveAge"] == 48 and p.diff(dev.id, read.outs, dev_inputs).changes is True
    with pytest.raises(SentryStateError, match=r"changed in Sentry since stack 'dev' last applied it .*resolveAge: "
                                               r"Sentry has 48, this stack declares 24"):
        p.update(dev.id, read.outs, dev_inputs)
    assert live(ls, slug).json()["resolveAge"] == 48  # no tug of war
    # once dev agrees, it may go on; and prod (destroyed creator or not) keeps its say
    dev_outs = p.update(dev.id, read.outs, {**dev_inputs, "resolveAge": 48}).outs
    assert dev_outs["agreedSettings"]["resolveAge"] == 48
    dev_outs = p.update(dev.id, dev_outs, {**dev_inputs, "resolveAge": 72}).outs
    with pytest.raises(SentryStateError, match="resolveAge: Sentry has 72, this stack declares 48"):
        p.update(prod.id, p.read(prod.id, prod_outs).outs, {**prod_inputs, "resolveAge": 48})
    # destroying either environment leaves the shared project in place
    p.delete(prod.id, prod_outs)
    p.delete(dev.id, dev_outs)
    assert live(ls, slug).status_code == 200
    # unless the explicit setting says so
    p.delete(dev.id, {**dev.outs, "deleteOnDestroy": True})
    assert live(ls, slug).status_code == 404


def test_two_stacks_creating_the_same_shared_project_at_once(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    slug = unique("race")
    results: list[Any] = []
    errors: list[BaseException] = []

    def up(stack: str) -> None:
        try:
            results.append(create(p, slug=slug, name="Race", teams=[ls.team], shared=True, stack=stack,
                                  defaultKey="keep")[0])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=up, args=(s,)) for s in ("dev", "prod", "qa")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.id for r in results}) == 1
    assert sorted(r.outs["adopted"] for r in results) == [False, True, True]
    projects = ls.api("GET", f"/api/0/organizations/{ls.org}/projects/", params={"per_page": 100}).json()
    assert [x["slug"] for x in projects].count(slug) == 1
    p.delete(results[0].id, {**results[0].outs, "deleteOnDestroy": True})


def test_create_interrupted_by_a_crash_is_finished_not_adopted(localsentry_session: LocalSentry) -> None:
    """kill -9 of the CLI after the POST landed: the rerun's create finishes that project as its own."""
    ls, p = localsentry_session, provider(localsentry_session)
    slug = unique("crashed")
    common = {"slug": slug, "name": "Crashed", "platform": "python", "teams": [ls.team], "shared": True,
              "defaultKey": "delete", "defaultRules": False, "resolveAge": 6}
    # what the crashed run's POST left behind: the project as Sentry makes it, with its "Default" key
    ls.create_project(name="Crashed", slug=slug, platform="python", default_rules=False)
    assert [k["name"] for k in ls.keys(slug)] == ["Default"]
    result, _ = create(p, **common, stack="dev")
    assert result.outs["adopted"] is False, "our own unfinished create, not another stack's project"
    assert ls.keys(slug) == [] and live(ls, slug).json()["resolveAge"] == 6

    # a project made by hand under the same slug keeps its owner: created with Sentry's default alert
    other = unique("byhand")
    ls.create_project(name="Crashed", slug=other, platform="python")
    with pytest.raises(SentryStateError, match="already exists with settings that differ"):
        create(p, **{**common, "slug": other}, stack="dev")
    assert [k["name"] for k in ls.keys(other)] == ["Default"], "a project we did not make is left alone"
