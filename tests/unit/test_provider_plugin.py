"""The plugin's own pieces without a server: wire values, the schema from the typed declarations, the config."""

from __future__ import annotations

import json
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN
from pydantic import BaseModel

from infra.components.sentry_app import shared
from infra.provider import schema
from infra.provider.config import ProviderConfig, provider_config
from infra.provider.kinds import KINDS
from infra.provider.plugin import kind_of
from infra.provider.values import plain, plain_map, secret_keys, to_map
from infra.sentry.bodies import body_of, live_of
from infra.sentry.project_model import ProjectInputs
from infra.sentry.shape import SentryModel, changes, check_props, field, parse, props_of


def test_wire_values_are_the_dynamic_hosts_plain_values() -> None:
    wire = {"name": PropertyValue("web"), "resolveAge": PropertyValue(24.0), "token": PropertyValue("t", True),
            "teams": PropertyValue([PropertyValue("a")]), "slug": PropertyValue(Computed()),
            "__provider": PropertyValue("blob")}
    assert plain_map(wire) == {"name": "web", "resolveAge": 24.0, "token": "t", "teams": ["a"], "slug": UNKNOWN}
    assert secret_keys(wire) == {"token"}
    back = to_map({"dsn": "https://k@h/1", "count": 3, "gone": None, "rate": {"count": 1}}, secrets=["dsn"])
    assert set(back) == {"dsn", "count", "rate"} and back["dsn"].is_secret and not back["count"].is_secret
    assert back["count"].value == 3.0 and plain(back["rate"]) == {"count": 1.0}


def test_the_schema_comes_from_the_declarations() -> None:
    generated = schema.schema("1.2.3")
    assert generated["version"] == "1.2.3" and set(generated["resources"]) == {k.token for k in KINDS.values()}
    key = generated["resources"]["sentrystacks:index:ClientKey"]
    assert {name for name, prop in key["properties"].items() if prop.get("secret")} == {"dsn", "dsnSecret", "secret"}
    assert key["requiredInputs"] == ["name", "project"]
    assert key["inputProperties"]["rateLimit"] == {"$ref": "#/types/sentrystacks:index:RateLimit",
                                                   "description": "Per-key event rate limit"}
    assert generated["types"]["sentrystacks:index:RateLimit"]["required"] == ["count", "window"]
    assert generated["provider"]["inputProperties"]["token"]["secret"] is True
    project = generated["resources"]["sentrystacks:index:Project"]
    assert project["inputProperties"]["resolveAge"]["type"] == "integer"
    assert "projectId" in project["properties"] and "projectId" not in project["inputProperties"]


def test_the_checked_in_schema_is_current() -> None:
    assert (schema.ROOT / schema.SCHEMA_PATH).read_text(encoding="utf-8") == schema.text(), (
        "run python -m infra.provider.schema")


class Settings(SentryModel):
    """A Sentry object with one field more, declared once."""

    slug: str = field("slug")
    retention_days: int | None = field("retentionDays", None, body="config.retention", compare=lambda v: v or 30,
                                       description="Days Sentry keeps events")


def test_a_new_field_is_one_declaration() -> None:
    """Its check, request body, value read back, drift comparison and schema property come from the field."""
    assert check_props(Settings, {"slug": "a", "retentionDays": "x"}) == [
        ("retentionDays", "retentionDays: must be a whole number")]
    inputs = parse(Settings, {"slug": "a", "retentionDays": 60})
    assert body_of(inputs) == {"slug": "a", "config": {"retention": 60}}
    assert live_of(Settings, {"slug": "a", "config": {"retention": 60}}) == {"slug": "a", "retentionDays": 60}
    assert changes(Settings, {"slug": "a", "retentionDays": 60}, props_of(inputs)) == ([], [])
    assert changes(Settings, {"slug": "a", "retentionDays": None}, {"slug": "a", "retentionDays": 30}) == ([], [])
    assert changes(Settings, {"slug": "a", "retentionDays": 90}, props_of(inputs)) == (["retentionDays"], [])
    found: dict[str, Any] = {}
    assert schema._object(Settings, found)["properties"]["retentionDays"] == {
        "type": "integer", "description": "Days Sentry keeps events"}
    # the settings model declares it under the same name: SentryApp's one copy carries it over, untouched
    assert shared(StackFileSection(retention_days=60, other=1), Settings, slug="a") == inputs


class StackFileSection(BaseModel):
    """A settings object (the stack file's side) with the same field."""

    retention_days: int | None = None
    other: int = 0


def test_project_settings_body_and_compare_come_from_the_fields() -> None:
    inputs = parse(ProjectInputs, {"slug": "web", "teams": ["t"], "resolveAge": 24, "scrubIPAddresses": True})
    assert inputs.settings() == {"resolveAge": 24, "scrubIPAddresses": True}
    live = {"slug": "web", "resolveAge": None, "scrubIPAddresses": True, "teams": [{"slug": "t"}]}
    assert inputs.to_body(live) == {"resolveAge": 24}  # null is Sentry's 0


def test_provider_config_from_inputs_or_stack_config() -> None:
    explicit = provider_config({"baseUrl": "https://sentry.example.com", "organization": "acme", "token": "t",
                                "workers": "16", "preflight": json.dumps({"team": "ops", "workflows": True})})
    assert explicit.workers == 16 and explicit.pool_size({}) == 16
    assert explicit.preflight is not None and explicit.preflight.team == "ops" and explicit.preflight.workflows
    values = explicit.connection(environ={})
    assert (values.base_url, values.token_source) == ("https://sentry.example.com", "sentry:token")
    default = provider_config({}, {"sentrystacks:config:baseUrl": "https://s.example",
                                   "sentrystacks:config:token": "x"})
    assert default.base_url == "https://s.example" and default.pool_size({"SENTRY_STACKS_PROVIDER_WORKERS": "8"}) == 8
    assert default.connection(environ={"SENTRY_ORG": "o"}).token_source == "sentrystacks:token"
    assert ProviderConfig().pool_size({}) == 24


def test_kind_of_a_urn() -> None:
    urn = "urn:pulumi:dev::p::sentry-stacks:index:SentryApp$sentrystacks:index:ClientKey::dev-web-key-g1"
    assert kind_of(urn).name == "ClientKey"


def test_source_maps_and_webhook_urls_are_declared_fields() -> None:
    """SourceMaps: identity fields replace, a moved folder updates, an unset dist is none; the upload token is a
    secret provider input, from an explicit provider or `sentrystacks:uploadToken`; an alert's webhook URLs are
    compared as a set and never sent in the workflow body."""
    generated = schema.schema("1.0.0")
    assert generated["provider"]["inputProperties"]["uploadToken"]["secret"] is True
    assert generated["config"]["variables"]["uploadToken"]["secret"] is True
    assert provider_config({}, {"sentrystacks:config:uploadToken": "u"}).upload_token == "u"
    maps = KINDS["SourceMaps"].provider()
    state = {"project": "web", "release": "1.0", "path": "/a", "bundleHash": "a" * 64, "urlPrefix": "~/",
             "dist": None, "bundleId": "b", "files": 2, "organization": "o", "__provider": "blob"}
    same = {k: state[k] for k in ("project", "release", "path", "bundleHash")}
    assert maps.changes(state, same) == ([], [])
    assert maps.changes(state, {**same, "path": "/b"}) == (["path"], [])
    assert maps.changes(state, {**same, "bundleHash": "b" * 64, "dist": "web"}) == (
        ["dist", "bundleHash"], ["dist", "bundleHash"])
    failures = maps.check({}, {**same, "bundleHash": "xyz", "urlPrefix": "/static"}).failures
    assert {f.property for f in failures} == {"bundleHash", "urlPrefix"}
    alert = KINDS["Alert"].provider()
    olds = {"name": "a", "projects": ["web"], "webhookUrls": ["https://h/1", "https://h/2"], "actionFilters": []}
    assert alert.changes(olds, {**olds, "webhookUrls": ["https://h/2", "https://h/1"]}) == ([], [])
    assert alert.changes(olds, {**olds, "webhookUrls": None}) == (["webhookUrls"], [])
    assert "webhookUrls" not in alert.inputs(olds).to_body({})
