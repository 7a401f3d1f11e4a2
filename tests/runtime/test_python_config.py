"""sentry-stacks-runtime: reading the rendered environment (every variable, every bad value named), the env file
format (exactly what the toolkit renders), the contract shared with the toolkit, and the check command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import infra.contract as infra_contract
from infra.render import dotenv_quote, parse_dotenv, service_env
from infra.sampling import derive_rates
from sentry_stacks_runtime import ConfigError, EnvFileError, RuntimeConfig
from sentry_stacks_runtime import __main__ as check
from sentry_stacks_runtime import contract as ct
from sentry_stacks_runtime.config import parse_rate
from sentry_stacks_runtime.envfile import effective_env, parse_env
from tests.unit.settings_support import DSNS, settings_for

RATE_VARS = ["SENTRY_SAMPLE_RATE", "SENTRY_TRACES_SAMPLE_RATE", "SENTRY_PROFILES_SAMPLE_RATE",
             "SENTRY_PROFILE_SESSION_SAMPLE_RATE"]  # fmt: skip
DSN = "http://publickey@127.0.0.1:9/42"


def test_defaults_when_nothing_is_set() -> None:
    config = RuntimeConfig.from_env({})
    assert config.dsn is None
    assert config.environment == "development"  # not the SDK's "production"
    assert (config.sample_rate, config.traces_sample_rate) == (1.0, 0.0)
    assert (config.profiles_sample_rate, config.profile_session_sample_rate) == (0, 0)
    assert config.profile_lifecycle == "trace"
    assert config.send_default_pii is None and config.data_collection is None and config.debug is False
    assert config.log_events is True, "development: events are logged unless asked otherwise"
    assert (config.env_file, config.reload_interval) == (None, 1.0)


def test_every_variable_is_read() -> None:
    config = RuntimeConfig.from_env(
        {
            "SENTRY_DSN": f" {DSN} ", "SENTRY_ENVIRONMENT": "prod", "SENTRY_RELEASE": "shop@1.2.3",
            "SENTRY_SAMPLE_RATE": "0.9", "SENTRY_TRACES_SAMPLE_RATE": "0.05", "SENTRY_PROFILES_SAMPLE_RATE": "",
            "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "1e-1", "SENTRY_PROFILE_LIFECYCLE": "Manual",
            "SENTRY_SEND_DEFAULT_PII": "TRUE", "SENTRY_DEBUG": "no", "SENTRY_STACKS_ENV_FILE": "/run/x.env",
            "SENTRY_STACKS_RELOAD_INTERVAL": "0.5",
        }
    )  # fmt: skip
    assert config.dsn == DSN
    assert (config.environment, config.release) == ("prod", "shop@1.2.3")
    assert (config.sample_rate, config.traces_sample_rate) == (0.9, 0.05)
    assert (config.profiles_sample_rate, config.profile_session_sample_rate) == (0.0, 0.1)
    assert config.profile_lifecycle == "manual"
    assert config.send_default_pii is True and config.debug is False and config.user_info
    assert config.log_events is False, "outside development events are sent"
    assert (config.env_file, config.reload_interval) == ("/run/x.env", 0.5)


@pytest.mark.parametrize(("environment", "value", "expected"), [
    ("development", None, True), ("Dev", None, True), ("local", None, True), ("staging", None, False),
    ("production", None, False), ("development", "false", False), ("production", "true", True),
])  # fmt: skip
def test_the_development_switch(environment: str, value: str | None, expected: bool) -> None:
    env = {"SENTRY_ENVIRONMENT": environment, **({"SENTRY_STACKS_LOG_EVENTS": value} if value else {})}
    assert RuntimeConfig.from_env(env).log_events is expected


def test_data_collection_is_checked_and_kept() -> None:
    dc = {"user_info": False, "cookies": {"mode": "off"}, "http_headers": {"request": {"mode": "denylist"}},
          "http_bodies": [], "stack_frame_variables": {"mode": "allowlist", "terms": ["x"]}}  # fmt: skip
    config = RuntimeConfig.from_env({"SENTRY_DATA_COLLECTION": json.dumps(dc), "SENTRY_SEND_DEFAULT_PII": "true"})
    assert config.data_collection == dc and not config.user_info


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "must be a JSON object"),
        ("[1]", "must be a JSON object"),
        ('{"userinfo": true}', "unknown key(s) userinfo; allowed: user_info"),
        ('{"userInfo": true}', "unknown key(s) userInfo"),  # the JavaScript shape on a Python service
        ('{"user_info": "yes"}', "user_info must be true or false"),
        ('{"cookies": {"mode": "some"}}', "cookies must be"),
        ('{"http_bodies": ["incoming_response"]}', "http_bodies must be a list of incoming_request"),
        ('{"frame_context_lines": -1}', "frame_context_lines must be a whole number"),
        ('{"graphql": {"document": 1}}', "graphql must be an object of true/false flags"),
    ],
)
def test_a_bad_data_collection_names_the_variable(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        RuntimeConfig.from_env({"SENTRY_DATA_COLLECTION": value})
    assert "SENTRY_DATA_COLLECTION" in str(error.value) and message in str(error.value)


def test_the_rendered_dev_and_prod_values_parse() -> None:
    for stack, user_info in (("dev", True), ("prod", False)):
        s = settings_for(stack)
        env = service_env(s, s.service("backend"), DSNS, derive_rates(s.sampling))
        config = RuntimeConfig.from_env(env)
        assert config.user_info is user_info and config.data_collection is not None


@pytest.mark.parametrize("name", RATE_VARS)
@pytest.mark.parametrize("value", ["abc", "1.5", "-0.1", "nan", "inf", "50%"])
def test_a_bad_rate_names_the_variable_and_the_value(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        RuntimeConfig.from_env({name: value})
    assert name in str(error.value) and repr(value) in str(error.value) and "between 0 and 1" in str(error.value)


@pytest.mark.parametrize("name", RATE_VARS)
@pytest.mark.parametrize(("value", "expected"), [("0", 0.0), ("1", 1.0), ("0.25", 0.25), (" 1.0 ", 1.0)])
def test_rate_bounds_are_inclusive(name: str, value: str, expected: float) -> None:
    assert parse_rate({name: value}, name, 0.5) == expected


@pytest.mark.parametrize("name", ["SENTRY_SEND_DEFAULT_PII", "SENTRY_DEBUG", "SENTRY_STACKS_LOG_EVENTS"])
def test_a_bad_boolean_names_the_variable(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        RuntimeConfig.from_env({name: "maybe"})


@pytest.mark.parametrize("value", ["0", "-1", "x", "7200"])
def test_a_bad_reload_interval_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=r"SENTRY_STACKS_RELOAD_INTERVAL must be a number of seconds from 0.05"):
        RuntimeConfig.from_env({"SENTRY_STACKS_RELOAD_INTERVAL": value})


def test_a_bad_profile_lifecycle_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"SENTRY_PROFILE_LIFECYCLE must be one of trace, manual"):
        RuntimeConfig.from_env({"SENTRY_PROFILE_LIFECYCLE": "always"})


def test_both_profiling_modes_at_once_is_an_error() -> None:
    with pytest.raises(ConfigError) as error:
        RuntimeConfig.from_env({"SENTRY_PROFILES_SAMPLE_RATE": "0.5", "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "0.5"})
    assert "SENTRY_PROFILES_SAMPLE_RATE" in str(error.value)
    assert "SENTRY_PROFILE_SESSION_SAMPLE_RATE" in str(error.value)


def test_describe_never_shows_the_dsn() -> None:
    text = RuntimeConfig.from_env({"SENTRY_DSN": DSN, "SENTRY_TRACES_SAMPLE_RATE": "0.5"}).describe()
    assert "publickey" not in text and "dsn=set" in text and "traces=0.5" in text and "delivery=log" in text


def test_the_check_command_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "2")
    assert check.main([]) == 2
    assert "SENTRY_TRACES_SAMPLE_RATE" in capsys.readouterr().err
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "0.2")
    assert check.main([]) == 0
    monkeypatch.setenv("SENTRY_STACKS_ENV_FILE", str(tmp_path / "gone.env"))
    assert check.main([]) == 2
    assert "SENTRY_STACKS_ENV_FILE=" in capsys.readouterr().err


# --- the env file ------------------------------------------------------------------------------------------

VALUES = {
    "SENTRY_DSN": "http://0123456789abcdef0123456789abcdef@127.0.0.1:9000/2", "QUOTE": "it's \"quoted\"",
    "BACKSLASH": "a\\b\\\\c", "DOLLAR": "${not} $expanded", "LINES": "one\ntwo\r\tthree", "EMPTY": "",
    "UNICODE": "ünïcödé ✓",
}  # fmt: skip


def test_parse_env_reads_what_the_toolkit_renders() -> None:
    text = "# header\n\n" + "".join(f"{k}={dotenv_quote(v)}\n" for k, v in VALUES.items())
    assert parse_env(text) == VALUES == parse_dotenv(text)


@pytest.mark.parametrize("line", ["SENTRY_DSN=unquoted", "SENTRY_DSN='open", "1BAD='x'", "no equals sign"])
def test_parse_env_rejects_what_the_toolkit_never_writes(line: str) -> None:
    with pytest.raises(EnvFileError) as err:
        parse_env(line + "\n")
    assert "line 1" in str(err.value) and "unquoted" not in str(err.value).replace("not quoted", "")


def test_effective_env_takes_only_sentry_values_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "backend.env"
    path.write_text("SENTRY_DSN='file-dsn'\nPORT='9999'\n")
    env = effective_env({"SENTRY_STACKS_ENV_FILE": str(path), "SENTRY_DSN": "env-dsn", "PORT": "8000"})
    assert env["SENTRY_DSN"] == "file-dsn" and env["PORT"] == "8000"
    assert effective_env({"SENTRY_DSN": "env-dsn"}) == {"SENTRY_DSN": "env-dsn"}


def test_a_missing_env_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EnvFileError, match=r"SENTRY_STACKS_ENV_FILE=.*/gone.env cannot be read"):
        effective_env({"SENTRY_STACKS_ENV_FILE": str(tmp_path / "gone.env")})


# --- the contract ------------------------------------------------------------------------------------------


def test_the_contract_lists_what_the_toolkit_renders_today() -> None:
    """Every SENTRY_* name the toolkit renders for a backend and a SvelteKit frontend is in the contract, and the
    public list under SvelteKit's prefix is exactly the renderer's."""
    names = set(ct.variable_names())
    for stack in ("dev", "prod"):
        s = settings_for(stack)
        for service in ("backend", "frontend"):
            env = service_env(s, s.service(service), DSNS, derive_rates(s.sampling))
            sentry = {k.removeprefix("PUBLIC_") for k in env if k.removeprefix("PUBLIC_").startswith("SENTRY_")}
            assert sentry <= names, sorted(sentry - names)
            rendered = {v["name"] for v in ct.contract()["variables"] if v["rendered"]}
            assert {k.removeprefix("PUBLIC_") for k in env if k.startswith("PUBLIC_SENTRY_")} <= rendered
    assert set(ct.public_names("PUBLIC_")) == {f"PUBLIC_{n}" for n in infra_contract.public_names()}
    assert not any("TOKEN" in n or "SECRET" in n for n in ct.public_names("NEXT_PUBLIC_"))


def test_the_wheel_carries_the_contract() -> None:
    assert ct.contract()["version"] == 1 and ct.contract()["publicPrefixes"]["nextjs"] == "NEXT_PUBLIC_"
    assert ct.development_environments() == {"development", "dev", "local"}
