"""Project privacy settings (dataScrubber, dataScrubberDefaults, scrubIPAddresses, sensitiveFields, safeFields):
declared by a stack, written to Sentry, and drift found by refresh; against localsentry and Sentry's own bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import privacy as pv
from infra.sentry.project_model import ProjectInputs, outputs_from_api
from infra.sentry.shape import parse
from tests.sentry.test_provider_project import create, live, provider
from tests.support.localsentry import LocalSentry, unique
from tests.unit.settings_support import settings_for

pytestmark = pytest.mark.sentry
RESPONSES = Path(__file__).resolve().parents[2].parent / "shared" / "sentry-responses"


def test_declared_privacy_is_applied_and_hand_changes_are_drift(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    prod = settings_for("prod", projectMode="per-environment")
    declared = {**pv.project_values(prod.privacy, None), "sensitiveFields": ["iban", "ssn"], "safeFields": ["sku"]}
    assert declared["scrubIPAddresses"] is True
    slug = unique("priv")
    result, inputs = create(p, slug=slug, name="Private", platform="python", teams=[ls.team], stack="prod",
                            **declared)
    body = live(ls, slug).json()
    assert (body["dataScrubber"], body["dataScrubberDefaults"], body["scrubIPAddresses"]) == (True, True, True)
    assert sorted(body["sensitiveFields"]) == ["iban", "ssn"] and body["safeFields"] == ["sku"]
    assert p.diff(result.id, p.read(result.id, result.outs).outs, inputs).changes is False
    # someone turns IP scrubbing off and drops a sensitive field in Sentry's settings page
    hand = ls.api("PUT", f"/api/0/projects/{ls.org}/{slug}/", json={"scrubIPAddresses": False,
                                                                    "sensitiveFields": ["iban"]})
    assert hand.status_code == 200
    read = p.read(result.id, result.outs)
    assert read.inputs["scrubIPAddresses"] is False and read.inputs["sensitiveFields"] == ["iban"]
    assert p.diff(result.id, read.outs, inputs).changes is True  # refresh shows it, the next up puts it back
    outs = p.update(result.id, read.outs, inputs).outs
    body = live(ls, slug).json()
    assert body["scrubIPAddresses"] is True and sorted(body["sensitiveFields"]) == ["iban", "ssn"]
    assert p.diff(result.id, outs, inputs).changes is False
    p.delete(result.id, outs)


def test_undeclared_privacy_is_left_alone(localsentry_session: LocalSentry) -> None:
    ls, p = localsentry_session, provider(localsentry_session)
    slug = unique("priv")
    result, inputs = create(p, slug=slug, name="Plain", platform="python", teams=[ls.team], stack="dev")
    assert ls.api("PUT", f"/api/0/projects/{ls.org}/{slug}/", json={"dataScrubber": False}).status_code == 200
    read = p.read(result.id, result.outs)
    assert "dataScrubber" not in read.inputs and p.diff(result.id, read.outs, inputs).changes is False
    p.delete(result.id, result.outs)


def _body(name: str) -> dict[str, Any]:
    path = RESPONSES / name
    if not path.exists():
        pytest.skip(f"{path} is not there (Sentry's recorded bodies sit beside the repository)")
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("body", data) if isinstance(data, dict) else data


@pytest.mark.schema
@pytest.mark.parametrize("name", ["apidocs-project-detailed.json", "go-project-detailed.json"])
def test_sentrys_own_bodies_read_without_false_drift(name: str) -> None:
    body = _body(name)
    declared = {k: body[k] for k in pv.PROJECT_FIELDS}
    inputs = parse(ProjectInputs, {"slug": body["slug"], "teams": ["t"], **declared})
    outs = outputs_from_api(body, inputs, organization="o", adopted=False)
    assert {k: outs[k] for k in declared} == {k: sorted(v) if isinstance(v, list) else v for k, v in declared.items()}
    assert {k for k in inputs.differences(body) if k != "teams"} == set()


@pytest.mark.schema
def test_an_answer_without_privacy_fields_means_sentrys_defaults() -> None:
    body = _body("go-project-updated.json")
    assert body.get("dataScrubber") is None  # this answer leaves them out
    inputs = parse(ProjectInputs, {"slug": body["slug"], "teams": ["t"], **{
        "dataScrubber": True, "dataScrubberDefaults": True, "scrubIPAddresses": False}})
    assert {k for k in inputs.differences(body) if k != "teams"} == set()


def test_shared_project_scrubbing_only_goes_up_between_stacks(localsentry_session: LocalSentry) -> None:
    """Issue 22: dev (collects IPs) creates the shared project, prod (scrubs them) adopts it and raises the scrubbing
    (adopting no longer requires equal privacy settings); dev's next update keeps what prod asked for, since dev
    never asked for it and prod holds a key in the project."""
    ls, p = localsentry_session, provider(localsentry_session)
    slug = unique("shared")
    common = {"slug": slug, "name": "Shared", "platform": "python", "teams": [ls.team], "shared": True,
              "defaultKey": "delete"}
    dev, dev_inputs = create(p, **common, stack="dev", scrubIPAddresses=False, dataScrubber=False)
    assert live(ls, slug).json()["scrubIPAddresses"] is False
    prod_key = ls.api("POST", f"/api/0/projects/{ls.org}/{slug}/keys/", json={"name": "prod-g1"})
    assert prod_key.status_code == 201
    prod, _ = create(p, **common, stack="prod", scrubIPAddresses=True, dataScrubber=True,
                     privacyOthers={"dev": {"scrubIPAddresses": False, "dataScrubber": False}})
    body = live(ls, slug).json()
    assert (body["scrubIPAddresses"], body["dataScrubber"]) == (True, True)
    assert prod.outs["privacyAsks"] == {"dataScrubber": True, "scrubIPAddresses": True}
    # dev changes another setting: its update keeps prod's scrubbing, and says so
    news = {**dev_inputs, "resolveAge": 48}
    assert p.diff(dev.id, dev.outs, news).changes
    outs = p.update(dev.id, p.read(dev.id, dev.outs).outs, news).outs
    body = live(ls, slug).json()
    assert (body["scrubIPAddresses"], body["dataScrubber"], body["resolveAge"]) == (True, True, 48)
    assert outs["privacyKept"] == {"dataScrubber": True, "scrubIPAddresses": True}
    assert outs["privacyUsers"] == ["prod"]
    assert p.diff(dev.id, outs, news).changes is False  # kept, not a change every preview
    p.delete(prod.id, prod.outs)
    p.delete(dev.id, outs)
