"""The one connection resolver: stack config, then the environment, then the embedded localsentry; the settings
and the providers' configure() read the connection through it and agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.dynamic import Config

from infra.connection import normalize_base_url, resolve_connection
from infra.sentry.client import connection_from_config
from infra.sentry.errors import SentryConfigError
from infra.settings import load_settings
from tests.unit.settings_support import RELEASE, settings_for, stack_config


def test_config_wins_then_environment_then_localsentry(tmp_path: Path) -> None:
    env = {"SENTRY_BASE_URL": "https://env.example.com", "SENTRY_ORG": "env-org", "SENTRY_AUTH_TOKEN": "tok-env"}
    values = resolve_connection({"sentry:organization": "cfg-org"}.get, env, tmp_path)
    assert (values.base_url, values.base_url_source) == ("https://env.example.com", "SENTRY_BASE_URL")
    assert (values.organization, values.organization_source) == ("cfg-org", "sentry:organization")
    assert values.token_source == "SENTRY_AUTH_TOKEN" and "tok-env" not in repr(values)
    (tmp_path / ".localsentry").mkdir()
    (tmp_path / "tok").write_text("tok-local\n")
    info = {"url": "http://127.0.0.1:9", "organization": "lo", "team": "lt", "token_file": "tok"}
    (tmp_path / ".localsentry" / "info.json").write_text(json.dumps(info))
    local = resolve_connection({}.get, {}, tmp_path, read_token=True)
    assert local.localsentry and (local.base_url, local.organization, local.team) == ("http://127.0.0.1:9", "lo", "lt")
    assert local.token == "tok-local"
    assert resolve_connection({}.get, {}, tmp_path).token is None  # the settings never read the token


@pytest.mark.parametrize("url", ["not a url", "https://exa mple.com", "http://sentry.example.com:99999", "ftp://x.y",
                                 "https://user:pw@sentry.example.com", "https://-bad-.example.com"])
def test_base_urls_that_are_not_urls(url: str) -> None:
    with pytest.raises(SentryConfigError):
        normalize_base_url(url)


@pytest.mark.parametrize(("url", "root"), [
    ("us", "https://us.sentry.io/api/0/"),
    ("sentry.example.com/api/0", "https://sentry.example.com/api/0/"),
    ("http://127.0.0.1:9000/", "http://127.0.0.1:9000/api/0/"),
    ("https://[::1]:8443/sentry/api/", "https://[::1]:8443/sentry/api/0/"),
])
def test_base_urls_as_users_write_them(url: str, root: str) -> None:
    assert normalize_base_url(url) == root


def test_settings_and_provider_resolve_the_same_connection(tmp_path: Path) -> None:
    env = {"SENTRY_BASE_URL": "https://sentry.example.com", "SENTRY_ORG": "acme", "SENTRY_AUTH_TOKEN": "tok-123456"}
    cfg = stack_config("dev", **{"sentry:baseUrl": None, "sentry:organization": None})
    settings = load_settings(cfg, stack="dev", git_release=lambda: RELEASE, environ=env, root=tmp_path)
    conn = connection_from_config(Config({}, "sentry-stacks"), environ=env, root=tmp_path)
    assert settings.sentry.base_url == "https://sentry.example.com" and settings.sentry.organization == "acme"
    assert conn.api_root == normalize_base_url(settings.sentry.base_url) and conn.organization == "acme"
    assert settings_for("dev").sentry.base_url == "https://sentry.example.com"
