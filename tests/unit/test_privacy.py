"""Privacy as code (infra/privacy/): the vocabulary, the SDK renderings, the alias, the guardrail, shared merges."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
import yaml
from pydantic import ValidationError
from sentry_sdk.data_collection import _resolve_data_collection

from infra import privacy as pv
from infra.settings import SettingsError
from tests.unit.settings_support import settings_for


def problems(raw: dict[str, Any], environment: str = "development") -> list[pv.PrivacyProblem]:
    with pytest.raises(ValidationError) as info:
        pv.load_stack_privacy(raw, environment)
    return pv.problems_from(info.value)


# --------------------------------------------------------------------------- SDK renderings


def test_python_options_are_what_sentry_python_resolves_unchanged() -> None:
    """Every field is given explicitly, so the SDK's own resolution (its real code) keeps each as rendered."""
    dc = pv.DataCollection.model_validate(
        {"userInfo": True, "cookies": {"allow": ["theme"]}, "httpHeaders": {"deny": ["x-secret"]},
         "httpBodies": ["incomingRequest"], "urlQueryParams": False, "stackFrameVariables": {"deny": ["card"]}}
    )
    options = pv.python_options(dc)
    resolved = _resolve_data_collection({"data_collection": json.loads(pv.env_json(options))})
    assert resolved["provided_by_user"] is True
    assert {k: v for k, v in resolved.items() if k != "provided_by_user"} == options
    assert options["cookies"] == {"mode": "allowlist", "terms": ["theme"]}
    assert options["http_headers"] == {"request": {"mode": "denylist", "terms": ["x-secret"]}}
    assert options["url_query_params"] == {"mode": "off"} and options["http_bodies"] == ["incoming_request"]
    assert options["stack_frame_variables"] == {"mode": "denylist", "terms": ["card"]}


def test_sdk_init_with_the_rendered_option_gives_no_send_default_pii_warning() -> None:
    options = pv.python_options(pv.EVERYTHING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sentry_sdk.init(dsn=None, data_collection=options)
    client = sentry_sdk.get_client()
    try:
        assert not [w for w in caught if "send_default_pii" in str(w.message)]
        assert client.options["data_collection"]["user_info"] is True
        assert client.options["data_collection"]["provided_by_user"] is True
    finally:
        # no client left in the test process (tests/conftest.py): `init(dsn=None)` here left one, whose stdlib
        # integration then added sentry-trace headers to every later request of the suite
        sentry_sdk.get_global_scope().set_client(None)
        client.close()


def test_javascript_options_use_the_sdk_11_names_and_shapes() -> None:
    dc = pv.DataCollection.model_validate({"cookies": {"deny": ["ab"]}, "httpHeaders": {"request": True,
                                           "response": False}, "httpBodies": ["incomingResponse"]})
    js = pv.javascript_options(dc)
    # @sentry/core 11 types/datacollection.d.ts: DataCollection's keys
    assert set(js) == {"userInfo", "cookies", "httpHeaders", "httpBodies", "urlQueryParams", "graphQL", "genAI",
                       "databaseQueryData", "queues", "stackFrameVariables", "frameContextLines"}
    assert js["cookies"] == {"deny": ["ab"]} and js["httpHeaders"] == {"request": True, "response": False}
    assert js["httpBodies"] == ["incomingResponse"]
    # sentry-python captures no incoming response body: left out, not renamed
    assert pv.python_options(dc)["http_bodies"] == []


def test_defaults_mirror_the_sdks_without_send_default_pii() -> None:
    d = pv.DEFAULT
    assert not d.userInfo and d.cookies is False and not d.databaseQueryData and not d.genAI.inputs
    assert d.headers().request == pv.Deny(deny=pv.IP_TERMS) and not pv.collects_ip_headers(d)
    assert pv.collects_ip_headers(pv.EVERYTHING)


# --------------------------------------------------------------------------- alias


def test_send_default_pii_is_a_deprecated_alias_naming_its_replacement() -> None:
    sp = pv.load_stack_privacy({"sendDefaultPii": True}, "development")
    assert sp.collection == pv.EVERYTHING
    (warning,) = sp.warnings
    assert "sentry-stacks:sendDefaultPii is deprecated: use sentry-stacks:dataCollection" in warning
    assert '"userInfo": true' in warning
    assert pv.load_stack_privacy({"sendDefaultPii": "false"}, "development").collection == pv.DEFAULT


def test_when_both_are_set_data_collection_wins_and_the_warning_says_so() -> None:
    sp = pv.load_stack_privacy({"sendDefaultPii": True, "dataCollection": {"userInfo": False}}, "development")
    assert sp.collection.userInfo is False
    (warning,) = sp.warnings
    assert "dataCollection is set too and wins" in warning


# --------------------------------------------------------------------------- bad input


def test_bad_values_name_the_key_path_and_what_is_allowed() -> None:
    found = {p.key: p.message for p in problems({
        "dataCollection": {"cookies": "maybe", "userInfo": "x", "httpBodies": ["foo"], "bogus": 1,
                           "httpHeaders": {"request": {"allow": []}}, "urlQueryParams": {"deny": ["a b"]},
                           "frameContextLines": 99},
        "privacy": {"sensitiveFields": ["a b"], "safeFields": ["x", "X"]},
    })}
    assert found["dataCollection.cookies"] == f"must be {pv.COLLECT_RULE}"
    assert found["dataCollection.userInfo"] == "must be a boolean: true or false"
    assert "'incomingRequest'" in found["dataCollection.httpBodies[0]"]
    assert found["dataCollection.bogus"] == "unknown key"
    assert found["dataCollection.httpHeaders"].startswith("request: allow needs at least one term")
    assert "bad term 'a b' in deny" in found["dataCollection.urlQueryParams"]
    assert "less than or equal to 50" in found["dataCollection.frameContextLines"]
    assert "'a b' is not a field name" in found["privacy.sensitiveFields"]
    assert "'X' is listed twice" in found["privacy.safeFields"]


def test_settings_report_privacy_problems_with_the_full_config_key() -> None:
    with pytest.raises(SettingsError) as info:
        settings_for("dev", dataCollection={"cookies": "some"}, privacy={"scrubIPAddress": True})
    text = str(info.value)
    assert 'sentry-stacks:dataCollection.cookies = "some": must be true (all)' in text
    assert "sentry-stacks:privacy.scrubIPAddress = true: unknown key" in text


# --------------------------------------------------------------------------- guardrail


def test_production_refuses_user_info_naming_the_key() -> None:
    (p,) = problems({"dataCollection": {"userInfo": True}, "privacy": {"scrubIPAddresses": True}}, "production")
    assert p.key == "dataCollection.userInfo"
    assert "is production" in p.message and "sentry-stacks:allowPersonalData: true" in p.message


def test_production_refuses_ip_headers_without_ip_scrubbing() -> None:
    (p,) = problems({"dataCollection": {"httpHeaders": True}}, "prod")
    assert p.key == "dataCollection.httpHeaders" and "privacy.scrubIPAddresses" in p.message
    allowed = {"dataCollection": {"httpHeaders": True}, "privacy": {"scrubIPAddresses": True}}
    assert pv.load_stack_privacy(allowed, "prod").production
    (p,) = problems({"dataCollection": {"httpHeaders": {"allow": ["x-real-ip"]}}}, "production")
    assert p.key == "dataCollection.httpHeaders"


def test_production_refuses_the_alias_and_allow_personal_data_accepts_it() -> None:
    keys = {p.key for p in problems({"sendDefaultPii": True}, "production")}
    assert keys == {"sendDefaultPii"}
    sp = pv.load_stack_privacy({"sendDefaultPii": True, "allowPersonalData": True}, "production")
    assert sp.collection.userInfo
    assert pv.load_stack_privacy({"dataCollection": {"userInfo": True}}, "staging").collection.userInfo


def test_the_guardrail_fails_the_settings_of_a_production_stack() -> None:
    with pytest.raises(SettingsError) as info:
        settings_for("prod", dataCollection={"userInfo": True, "cookies": True})
    assert "sentry-stacks:dataCollection.userInfo = true: stack environment 'production' is production" in str(
        info.value
    )


def test_the_default_prod_stack_passes_and_collects_nothing_personal() -> None:
    prod = settings_for("prod")
    dc = prod.privacy.collection
    assert not dc.userInfo and dc.cookies is False and dc.httpBodies == () and not pv.collects_ip_headers(dc)
    assert prod.privacy.privacy.scrubIPAddresses is True and not prod.privacy.warnings


# --------------------------------------------------------------------------- shared projects


def test_a_stack_writes_its_own_asks_and_carries_the_others_for_the_floor() -> None:
    dev = pv.ProjectPrivacy(dataScrubber=False, sensitiveFields=("iban",))
    prod = pv.ProjectPrivacy(dataScrubber=True, scrubIPAddresses=True)
    broken = pv.PrivacyProblem("Pulumi.qa.yaml: sentry-stacks:privacy.scrubIPAdresses", True, "unknown key")
    shared = pv.shared_privacy("dev", dev, {"prod": prod, "qa": broken})
    assert shared.values == {"dataScrubber": False, "sensitiveFields": ["iban"]}  # never raised from files
    assert shared.others == {"prod": {"dataScrubber": True, "scrubIPAddresses": True}, "qa": pv.UNREADABLE}
    [note] = shared.notes
    assert note.startswith("Pulumi.qa.yaml: sentry-stacks:privacy.scrubIPAdresses = true: unknown key. Stack qa "
                           "shares this stack's Sentry projects")
    assert "this stack lowers no scrubbing on its behalf" in note


def test_sibling_stacks_are_read_from_their_stack_files_and_bad_ones_named(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\nconfig:\n  projectMode:\n    default: shared\n")
    def stack(name: str, config: dict[str, Any]) -> None:
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    stack("prod", {"sentry-stacks:privacy": {"scrubIPAddresses": True}, "sentry-stacks:big": "x" * 2_000_000})
    stack("solo", {"sentry-stacks:projectMode": "per-environment", "sentry-stacks:privacy": {"dataScrubber": True}})
    stack("broken", {"sentry-stacks:privacy": {"scrubIPAdresses": True}})
    stack("dev", {"sentry-stacks:privacy": {"scrubIPAddresses": False}})
    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  sentry-stacks:privacy: {scrubIPAddresses: true\n")
    found = pv.sibling_privacy(tmp_path, "sentry-stacks", "dev")
    assert found["prod"] == pv.ProjectPrivacy(scrubIPAddresses=True) and "solo" not in found and "dev" not in found
    broken = found["broken"]
    assert isinstance(broken, pv.PrivacyProblem) and broken.key == "Pulumi.broken.yaml: " \
        "sentry-stacks:privacy.scrubIPAdresses" and broken.message.startswith("unknown key")
    bad = found["bad"]
    assert isinstance(bad, pv.PrivacyProblem) and bad.key == "Pulumi.bad.yaml" and "not valid YAML" in bad.message


def test_dev_settings_carry_prod_asks_without_taking_them() -> None:
    dev = settings_for("dev")
    assert dev.shared_privacy is not None and dev.shared_privacy.values.get("scrubIPAddresses") is False
    assert dev.shared_privacy.others["prod"]["scrubIPAddresses"] is True
    assert not any("asked by stack prod" in n for n in dev.shared_privacy.notes)  # issue 22: no prod stack needed
    solo = settings_for("dev", projectMode="per-environment")
    assert solo.shared_privacy is None and solo.privacy.privacy.scrubIPAddresses is False


def test_rendered_comment_says_what_is_collected_and_what_sentry_keeps() -> None:
    lines = pv.describe(pv.EVERYTHING, {"scrubIPAddresses": True, "sensitiveFields": ["iban"]},
                        kept={"scrubIPAddresses": ["prod"]})
    text = "\n".join(lines)
    assert "user info and IP address: yes; cookies: yes" in text
    assert "IP addresses removed (kept in Sentry for the shared project, asked by stack prod" in text
    assert "Sentry also filters: iban" in text
    assert "HTTP bodies: none" in "\n".join(pv.describe(pv.DataCollection(httpBodies=())))


def test_the_model_describes_itself_for_the_json_schema() -> None:
    schema = pv.StackPrivacy.model_json_schema()
    assert set(schema["properties"]) == {"environment", "dataCollection", "sendDefaultPii", "privacy",
                                         "allowPersonalData"}
    assert schema["properties"]["sendDefaultPii"]["deprecated"] is True
    fields = schema["$defs"]["DataCollection"]["properties"]
    assert fields["userInfo"]["default"] is False and "IP address" in fields["userInfo"]["description"]
    assert fields["httpBodies"]["items"]["enum"] == list(pv.HTTP_BODIES)
    assert set(schema["$defs"]["ProjectPrivacy"]["properties"]) == set(pv.PROJECT_FIELDS)


def test_the_cli_gives_objects_as_json_text() -> None:
    s = settings_for("dev", dataCollection='{"userInfo": false, "cookies": {"allow": ["theme"]}}')
    assert s.privacy.collection.userInfo is False and s.privacy.collection.cookies == pv.Allow(allow=("theme",))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"deny": ["x y"]}, "bad term 'x y' in deny: each must be 1-64 letters, digits, '_', '.', '*' or '-' "
                            "(a name or part of one, e.g. forwarded, -ip, x-request-id)"),
        ({"request": {"allow": ["b@d"]}}, "request: bad term 'b@d' in allow: each must be 1-64 letters"),
        ("sometimes", "must be true (all), false (none), {allow: [terms]} or {deny: [terms]}, or {request: ..., "
                      "response: ...}"),
    ],
)
def test_a_bad_header_term_says_what_a_term_may_contain(value: Any, expected: str) -> None:
    """Issue 22: the message did not say what a term may contain, and showed a doubled brace."""
    with pytest.raises(SettingsError) as info:
        settings_for("dev", dataCollection={"httpHeaders": value})
    [problem] = [str(p) for p in info.value.problems]
    assert problem.startswith("sentry-stacks:dataCollection.httpHeaders = ") and expected in problem, problem
    assert "{{" not in problem and "must be valid" not in problem
