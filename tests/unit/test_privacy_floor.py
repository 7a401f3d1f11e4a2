"""The privacy floor of shared projects (infra/sentry/privacy_floor.py): a stack's `up` never lowers what Sentry
has below another stack's ask, whether that stack's file is invalid, absent from the checkout, or edited."""

from __future__ import annotations

from typing import Any

from infra.privacy import UNREADABLE
from infra.sentry.privacy_floor import describe_kept, key_users, privacy_floor, recorded_asks

STRICT = {"dataScrubber": True, "dataScrubberDefaults": True, "scrubIPAddresses": True,
          "sensitiveFields": ["iban", "ssn"], "safeFields": []}
LAX = {"dataScrubber": False, "dataScrubberDefaults": False, "scrubIPAddresses": False,
       "sensitiveFields": ["iban"], "safeFields": ["order_id"]}


def floor(asked: dict[str, Any] | None, others: dict[str, Any], users: set[str]) -> tuple[dict, dict]:
    calls: list[int] = []

    def who() -> set[str]:
        calls.append(1)
        return users

    result = privacy_floor(LAX, STRICT, asked, others, who)
    assert len(calls) <= 1  # the keys are listed at most once
    return result


def test_another_stacks_scrubbing_stays_whatever_its_file_says() -> None:
    # prod applied STRICT; dev never asked for it: prod's file invalid, absent, or edited to LAX
    for others in ({"prod": UNREADABLE}, {}, {"prod": LAX}):
        settings, kept = floor(LAX, others, {"prod"})
        assert settings == {**STRICT, "sensitiveFields": ["iban", "ssn"], "safeFields": []}, others
        assert set(kept) == set(STRICT)


def test_the_stack_that_asked_may_withdraw_when_the_others_do_not_ask() -> None:
    settings, kept = floor(STRICT, {"prod": LAX}, {"prod"})
    assert settings == LAX and kept == {}
    # ... but not while another user asks for it, or cannot be read, or has no file here
    for others in ({"prod": STRICT}, {"prod": UNREADABLE}, {}):
        _, kept = floor(STRICT, others, {"prod"})
        assert set(kept) == set(STRICT), others


def test_alone_in_the_project_a_stack_sets_what_it_asks() -> None:
    assert floor(None, {}, set()) == (LAX, {})


def test_raising_needs_nobody() -> None:
    calls: list[int] = []
    settings, kept = privacy_floor(STRICT, LAX, None, {}, lambda: calls.append(1) or {"prod"})  # type: ignore[func-returns-value]
    assert settings == {**STRICT, "sensitiveFields": ["iban", "ssn"]} and kept == {} and calls == []


def test_users_come_from_key_names_and_old_states_count_their_agreed_settings() -> None:
    names = ["dev-g1", "dev-g2", "prod-g1", "qa-east-g3", "Default", ""]
    assert key_users(names, "dev", ["prod", "qa-east"]) == {"prod", "qa-east"}
    assert key_users(names, "dev", []) == {"prod", "qa-east"}
    assert recorded_asks({"privacyAsks": {"scrubIPAddresses": True}}) == {"scrubIPAddresses": True}
    assert recorded_asks({"agreedSettings": {"scrubIPAddresses": True, "name": "x"}}) == {"scrubIPAddresses": True}
    assert recorded_asks({}) is None
    [line] = describe_kept({"scrubIPAddresses": True}, ["prod"])
    assert line.startswith("privacy.scrubIPAddresses stays true in Sentry: set there by stack prod")
