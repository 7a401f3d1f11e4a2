"""ClientKey provider lifecycle against a real localsentry process."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.sentry.client_key import ClientKeyProvider
from infra.sentry.client_key_model import RATE_LIMIT_WARNING
from infra.sentry.errors import SentryBadRequest, SentryStateError
from tests.support.localsentry import LocalSentry, unique

pytestmark = pytest.mark.sentry


def provider(ls: LocalSentry) -> ClientKeyProvider:
    p = ClientKeyProvider()
    p.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}, "sentry-stacks")))
    return p


def create(p: ClientKeyProvider, **props: Any) -> tuple[Any, dict[str, Any]]:
    checked = p.check({}, props)
    assert checked.failures == []
    return p.create(checked.inputs), checked.inputs


def live_key(ls: LocalSentry, project: str, key_id: str) -> Any:
    return ls.api("GET", f"/api/0/projects/{ls.org}/{project}/keys/{key_id}/")


@pytest.fixture
def project(localsentry_session: LocalSentry) -> str:
    return str(localsentry_session.create_project(name=unique("keys"))["slug"])


def test_create_read_delete_with_secret_outputs(localsentry_session: LocalSentry, project: str) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    result, inputs = create(p, project=project, name="dev-g1")
    outs = result.outs
    key_id = outs["keyId"]
    assert result.id == f"{ls.org}/{project}/{key_id}"
    body = live_key(ls, project, key_id).json()
    assert outs["dsn"] == body["dsn"]["public"] and outs["secret"] == body["secret"]
    assert outs["isActive"] is True and outs["rateLimitApplied"] is None
    read = p.read(result.id, outs)
    assert read.outs["dsn"] == outs["dsn"] and p.diff(result.id, read.outs, inputs).changes is False
    p.delete(result.id, outs)
    assert live_key(ls, project, key_id).status_code == 404
    p.delete(result.id, outs)  # already gone: done
    assert p.read(result.id, outs).id == ""


def test_update_each_mutable_field(localsentry_session: LocalSentry, project: str) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    result, inputs = create(p, project=project, name="dev-g1", browserSdkVersion="8.x")
    outs, key_id = result.outs, result.outs["keyId"]
    dsn = outs["dsn"]
    for change in ({"name": "dev-g1-renamed"}, {"isActive": False}, {"isActive": True},
                   {"browserSdkVersion": "7.x"}, {"dynamicSdkLoaderOptions": {"hasReplay": False, "hasDebug": True}}):
        news = {**inputs, **change}
        diff = p.diff(result.id, outs, news)
        assert diff.changes is True and diff.replaces == [], change
        outs = p.update(result.id, outs, news).outs
        inputs = news
        assert p.diff(result.id, outs, inputs).changes is False, change
    body = live_key(ls, project, key_id).json()
    assert body["name"] == "dev-g1-renamed" and body["isActive"] is True
    assert body["browserSdkVersion"] == "7.x"  # a later PUT of other fields did not reset it
    assert body["dynamicSdkLoaderOptions"]["hasReplay"] is False and body["dynamicSdkLoaderOptions"]["hasDebug"]
    assert outs["dsn"] == dsn  # updates never change the DSN
    moved = p.diff(result.id, outs, {**inputs, "project": "elsewhere"})
    assert moved.replaces == ["project"]
    p.delete(result.id, outs)


def test_disable_behind_the_stacks_back_shows_on_refresh(localsentry_session: LocalSentry, project: str) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    result, inputs = create(p, project=project, name="prod-g1")
    key_id = result.outs["keyId"]
    assert ls.api("PUT", f"/api/0/projects/{ls.org}/{project}/keys/{key_id}/",
                  json={"isActive": False, "browserSdkVersion": "9.x"}).status_code == 200
    read = p.read(result.id, result.outs)
    assert read.inputs["isActive"] is False and read.inputs["name"] == "prod-g1"
    assert p.diff(result.id, read.outs, inputs).changes is True
    outs = p.update(result.id, read.outs, inputs).outs
    assert outs["isActive"] is True and live_key(ls, project, key_id).json()["isActive"] is True
    p.delete(result.id, outs)


def test_adopt_only_when_told_and_found_again_by_name(localsentry_session: LocalSentry, project: str) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    made = ls.api("POST", f"/api/0/projects/{ls.org}/{project}/keys/", json={"name": "hand-made"}).json()
    with pytest.raises(SentryStateError, match=r"client key 'hand-made' of project .* set adoptExisting"):
        create(p, project=project, name="hand-made")
    result, _ = create(p, project=project, name="hand-made", adopt=True, isActive=False)
    assert result.outs["keyId"] == made["id"] and result.outs["isActive"] is False
    assert [k["name"] for k in ls.keys(project)].count("hand-made") == 1
    p.delete(result.id, result.outs)


def test_rate_limit_ignored_by_plan_is_reported_then_applied_with_feature(localsentry: LocalSentry) -> None:
    ls, p = localsentry, provider(localsentry)
    project = str(ls.create_project(name=unique("rl"))["slug"])
    limit = {"count": 100, "window": 60}
    result, inputs = create(p, project=project, name="dev-g1", rateLimit=limit)
    outs = result.outs
    assert outs["rateLimitApplied"] is False and outs["rateLimitWarning"] == RATE_LIMIT_WARNING
    assert outs["rateLimit"] == limit and live_key(ls, project, outs["keyId"]).json()["rateLimit"] is None
    read = p.read(result.id, outs)
    assert p.diff(result.id, read.outs, inputs).changes is False  # not diffed forever
    ls.set_features(None, {"projects:rate-limits": True})
    outs = p.update(result.id, read.outs, inputs).outs
    assert outs["rateLimitApplied"] is True and live_key(ls, project, outs["keyId"]).json()["rateLimit"] == limit
    # cleared behind our back: a real drift now
    assert ls.api("PUT", f"/api/0/projects/{ls.org}/{project}/keys/{outs['keyId']}/",
                  json={"rateLimit": None}).status_code == 200
    read = p.read(result.id, outs)
    assert "rateLimit" not in read.inputs and p.diff(result.id, read.outs, inputs).changes is True
    second, _ = create(p, project=project, name="dev-g2", rateLimit={"count": 5, "window": 1})
    assert second.outs["rateLimitApplied"] is True


def test_check_failures(localsentry_session: LocalSentry) -> None:
    p = provider(localsentry_session)
    failures = {f.property: f.reason for f in p.check({}, {"project": "NOT OK", "rateLimit": 5}).failures}
    assert failures == {  # the same types (and messages) the settings model checks a stack file with
        "project": "project: must be a slug: lowercase letters, digits, '-' and '_', not only digits"
                   " (^(?![0-9]+$)[a-z0-9_\\-]+$)",
        "name": "name: required",
        "rateLimit": "rateLimit: must be an object",
    }


def test_sentry_validation_error_names_action_object_and_field(localsentry_session: LocalSentry,
                                                               project: str) -> None:
    p = provider(localsentry_session)
    result, inputs = create(p, project=project, name="dev-g1")
    with pytest.raises(SentryBadRequest) as info:
        p.update(result.id, result.outs, {**inputs, "browserSdkVersion": "1.x"})
    message = str(info.value)
    assert message.startswith(f"update client key 'dev-g1' of project '{project}': HTTP 400 Bad Request")
    assert "browserSdkVersion" in message and localsentry_session.token not in message
    p.delete(result.id, result.outs)
