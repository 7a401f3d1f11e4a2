"""The reference app's Sentry settings: env parsing, traces_sampler, before_send, user context.

demo/backend/demoapp/sentry_config.py is loaded by path (it is not part of the installed packages) and
needs neither Django, Celery nor a running server; the frontend's config module has Node tests
(demo/frontend/test), run here when node is installed.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware
from sentry_sdk.transport import Transport

ROOT = Path(__file__).resolve().parents[2]


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(ROOT / "demo" / "backend"))  # sentry_config imports demoapp.dsn_reload (stdlib only)
sc = load("demo_backend_sentry_config", ROOT / "demo/backend/demoapp/sentry_config.py")

RATE_VARS = [
    "SENTRY_SAMPLE_RATE",
    "SENTRY_TRACES_SAMPLE_RATE",
    "SENTRY_PROFILES_SAMPLE_RATE",
    "SENTRY_PROFILE_SESSION_SAMPLE_RATE",
]
DSN = "http://publickey@127.0.0.1:9/42"


# --- environment parsing -------------------------------------------------------------------------


def test_defaults_when_nothing_is_set() -> None:
    config = sc.SentryConfig.from_env({})
    assert config.dsn is None
    assert config.environment == "development"  # not the SDK's "production"
    assert (config.sample_rate, config.traces_sample_rate) == (1.0, 0.0)
    assert (config.profiles_sample_rate, config.profile_session_sample_rate) == (0.0, 0.0)
    assert config.profile_lifecycle == "trace"
    assert config.send_default_pii is None and config.data_collection is None and config.debug is False
    assert not config.user_info and "send_default_pii" not in config.sdk_options()  # no deprecation warning


def test_every_variable_is_read() -> None:
    config = sc.SentryConfig.from_env(
        {
            "SENTRY_DSN": f" {DSN} ",
            "SENTRY_ENVIRONMENT": "prod",
            "SENTRY_RELEASE": "shop@1.2.3",
            "SENTRY_SAMPLE_RATE": "0.9",
            "SENTRY_TRACES_SAMPLE_RATE": "0.05",
            "SENTRY_PROFILES_SAMPLE_RATE": "",  # empty means unset
            "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "1e-1",
            "SENTRY_PROFILE_LIFECYCLE": "Manual",
            "SENTRY_SEND_DEFAULT_PII": "TRUE",
            "SENTRY_DEBUG": "no",
        }
    )
    assert config.dsn == DSN
    assert (config.environment, config.release) == ("prod", "shop@1.2.3")
    assert (config.sample_rate, config.traces_sample_rate) == (0.9, 0.05)
    assert (config.profiles_sample_rate, config.profile_session_sample_rate) == (0.0, 0.1)
    assert config.profile_lifecycle == "manual"
    assert config.send_default_pii is True and config.debug is False and config.user_info


def test_data_collection_is_passed_and_wins_over_send_default_pii() -> None:
    dc = {"user_info": False, "cookies": {"mode": "off"}, "http_headers": {"request": {"mode": "denylist"}},
          "http_bodies": [], "stack_frame_variables": {"mode": "allowlist", "terms": ["x"]}}
    config = sc.SentryConfig.from_env({"SENTRY_DATA_COLLECTION": json.dumps(dc), "SENTRY_SEND_DEFAULT_PII": "true"})
    options = config.sdk_options()
    assert options["data_collection"] == dc and "send_default_pii" not in options and not config.user_info


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "must be a JSON object"),
        ("[1]", "must be a JSON object"),
        ('{"userinfo": true}', "unknown key(s) userinfo; allowed: user_info"),
        ('{"user_info": "yes"}', "user_info must be true or false"),
        ('{"cookies": {"mode": "some"}}', "cookies must be"),
        ('{"http_bodies": ["incoming_response"]}', "http_bodies must be a list of incoming_request"),
        ('{"frame_context_lines": -1}', "frame_context_lines must be a whole number"),
    ],
)
def test_a_bad_data_collection_names_the_variable(value: str, message: str) -> None:
    with pytest.raises(sc.ConfigError) as error:
        sc.SentryConfig.from_env({"SENTRY_DATA_COLLECTION": value})
    assert "SENTRY_DATA_COLLECTION" in str(error.value) and message in str(error.value)


def test_the_rendered_dev_and_prod_values_parse() -> None:
    from infra.render import service_env
    from infra.sampling import derive_rates
    from tests.unit.settings_support import DSNS, settings_for

    for stack, user_info in (("dev", True), ("prod", False)):
        s = settings_for(stack)
        env = service_env(s, s.service("backend"), DSNS, derive_rates(s.sampling))
        config = sc.SentryConfig.from_env(env)
        assert config.user_info is user_info and "send_default_pii" not in config.sdk_options()


@pytest.mark.parametrize("name", RATE_VARS)
@pytest.mark.parametrize("value", ["abc", "1.5", "-0.1", "nan", "inf", "50%"])
def test_a_bad_rate_names_the_variable_and_the_value(name: str, value: str) -> None:
    with pytest.raises(sc.ConfigError) as error:
        sc.SentryConfig.from_env({name: value})
    assert name in str(error.value)
    assert repr(value) in str(error.value)
    assert "between 0 and 1" in str(error.value)


@pytest.mark.parametrize("name", RATE_VARS)
@pytest.mark.parametrize(("value", "expected"), [("0", 0.0), ("1", 1.0), ("0.25", 0.25), (" 1.0 ", 1.0)])
def test_rate_bounds_are_inclusive(name: str, value: str, expected: float) -> None:
    assert sc.parse_rate({name: value}, name, 0.5) == expected


@pytest.mark.parametrize("name", ["SENTRY_SEND_DEFAULT_PII", "SENTRY_DEBUG"])
def test_a_bad_boolean_names_the_variable(name: str) -> None:
    with pytest.raises(sc.ConfigError, match=name):
        sc.SentryConfig.from_env({name: "maybe"})


def test_a_bad_profile_lifecycle_lists_the_choices() -> None:
    with pytest.raises(sc.ConfigError, match=r"SENTRY_PROFILE_LIFECYCLE must be one of trace, manual"):
        sc.SentryConfig.from_env({"SENTRY_PROFILE_LIFECYCLE": "always"})


def test_both_profiling_modes_at_once_is_an_error() -> None:
    with pytest.raises(sc.ConfigError) as error:
        sc.SentryConfig.from_env({"SENTRY_PROFILES_SAMPLE_RATE": "0.5", "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "0.5"})
    assert "SENTRY_PROFILES_SAMPLE_RATE" in str(error.value)
    assert "SENTRY_PROFILE_SESSION_SAMPLE_RATE" in str(error.value)


def test_sdk_options_pass_only_the_chosen_profiling_mode() -> None:
    transaction_based = sc.SentryConfig.from_env({"SENTRY_PROFILES_SAMPLE_RATE": "0.3"}).sdk_options()
    assert transaction_based["profiles_sample_rate"] == 0.3
    assert "profile_session_sample_rate" not in transaction_based
    continuous = sc.SentryConfig.from_env(
        {"SENTRY_PROFILE_SESSION_SAMPLE_RATE": "0.2", "SENTRY_PROFILE_LIFECYCLE": "manual"}
    ).sdk_options()
    assert (continuous["profile_session_sample_rate"], continuous["profile_lifecycle"]) == (0.2, "manual")
    assert "profiles_sample_rate" not in continuous


def test_describe_never_shows_the_dsn() -> None:
    text = sc.SentryConfig.from_env({"SENTRY_DSN": DSN, "SENTRY_TRACES_SAMPLE_RATE": "0.5"}).describe()
    assert "publickey" not in text and "dsn=set" in text and "traces=0.5" in text


def test_the_validation_command_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "2")
    assert sc.main() == 2
    assert "SENTRY_TRACES_SAMPLE_RATE" in capsys.readouterr().err
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "0.2")
    assert sc.main() == 0


# --- traces_sampler ------------------------------------------------------------------------------


def wsgi(path: str) -> dict[str, Any]:
    return {"wsgi_environ": {"PATH_INFO": path, "REQUEST_METHOD": "GET"}}


@pytest.mark.parametrize("rate", [0.0, 0.37, 1.0])
def test_sampler_keeps_the_configured_rate_without_a_parent(rate: float) -> None:
    sampler = sc.make_traces_sampler(rate)
    assert sampler({"parent_sampled": None, **wsgi("/api/core/hello/")}) == rate
    assert sampler({"parent_sampled": None, "celery_job": {"task": "demoapp.add"}}) == rate


@pytest.mark.parametrize(("parent", "expected"), [(True, 1.0), (False, 0.0)])
def test_sampler_honours_the_parent_decision(parent: bool, expected: float) -> None:
    assert sc.make_traces_sampler(0.5)({"parent_sampled": parent, **wsgi("/api/core/hello/")}) == expected


@pytest.mark.parametrize(
    "context",
    [
        wsgi("/api/health/"),
        wsgi("/health"),
        {"asgi_scope": {"path": "/api/health/"}},
        {"transaction_context": {"name": "/api/health/", "op": "http.server"}},
        {"transaction_context": {"name": "GET /healthz", "op": "http.server"}},
    ],
)
def test_sampler_never_samples_health_checks_even_with_a_sampled_parent(context: dict[str, Any]) -> None:
    sampler = sc.make_traces_sampler(1.0)
    assert sampler({"parent_sampled": None, **context}) == 0.0
    assert sampler({"parent_sampled": True, **context}) == 0.0


def test_sampler_rejects_a_rate_outside_0_1() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        sc.make_traces_sampler(1.01)


class CaptureTransport(Transport):
    """Keeps envelopes in memory: the SDK never opens a socket."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def items(self, kind: str) -> list[dict[str, Any]]:
        payloads = [item.payload.json for env in self.envelopes for item in env.items if item.type == kind]
        return [p for p in payloads if p is not None]


@pytest.fixture
def sdk() -> Iterator[CaptureTransport]:
    transport = CaptureTransport()
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to a disabled client for the other tests


def init_sdk(transport: CaptureTransport, env: dict[str, str]) -> None:
    config = sc.SentryConfig.from_env({"SENTRY_DSN": DSN, **env})
    sentry_sdk.init(**config.sdk_options(), transport=transport, default_integrations=False)


def call(app: Any, path: str, headers: dict[str, str] | None = None) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "wsgi.url_scheme": "http",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()},
    }
    body = app(environ, lambda status, response_headers, exc_info=None: None)
    b"".join(body)


def wsgi_app() -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return SentryWsgiMiddleware(app)


def test_real_sdk_samples_requests_but_never_health_checks(sdk: CaptureTransport) -> None:
    init_sdk(sdk, {"SENTRY_TRACES_SAMPLE_RATE": "1.0", "SENTRY_ENVIRONMENT": "prod", "SENTRY_RELEASE": "r1"})
    app = wsgi_app()
    for _ in range(3):
        call(app, "/api/health/")
        call(app, "/api/core/hello/")
    sentry_sdk.flush()
    transactions = sdk.items("transaction")
    assert len(transactions) == 3
    assert all(t["request"]["url"].endswith("/api/core/hello/") for t in transactions)
    assert {(t["environment"], t["release"]) for t in transactions} == {("prod", "r1")}


def test_real_sdk_follows_the_incoming_sentry_trace_header(sdk: CaptureTransport) -> None:
    init_sdk(sdk, {"SENTRY_TRACES_SAMPLE_RATE": "0.0"})
    app = wsgi_app()
    trace_id = "771a43a4192642f0b136d5159a501700"
    call(app, "/api/core/hello/")  # rate 0, no parent: dropped
    call(app, "/api/core/hello/", {"sentry-trace": f"{trace_id}-b7ad6b7169203331-1"})  # parent sampled: kept
    call(app, "/api/health/", {"sentry-trace": f"{trace_id}-b7ad6b7169203331-1"})  # health: dropped anyway
    sentry_sdk.flush()
    transactions = sdk.items("transaction")
    assert [t["contexts"]["trace"]["trace_id"] for t in transactions] == [trace_id]


def test_real_sdk_parent_not_sampled_wins_over_rate_1(sdk: CaptureTransport) -> None:
    init_sdk(sdk, {"SENTRY_TRACES_SAMPLE_RATE": "1.0"})
    call(wsgi_app(), "/api/core/hello/", {"sentry-trace": "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-0"})
    sentry_sdk.flush()
    assert sdk.items("transaction") == []


# --- before_send ---------------------------------------------------------------------------------


class DisallowedHost(Exception):
    """Same class name as django.core.exceptions.DisallowedHost (the filter matches by name)."""


def exc_hint(exc: BaseException) -> dict[str, Any]:
    return {"exc_info": (type(exc), exc, None)}


@pytest.mark.parametrize("environment", ["development", "production"])
def test_disallowed_host_is_dropped_everywhere(environment: str) -> None:
    before_send = sc.make_before_send(environment)
    assert before_send({"exception": {"values": [{"type": "ValueError"}]}}, exc_hint(DisallowedHost("x"))) is None
    assert before_send({"exception": {"values": [{"type": "DisallowedHost"}]}}, {}) is None
    assert before_send({"logger": "django.security.DisallowedHost", "level": "error"}, {}) is None


@pytest.mark.parametrize("logger", sorted(sc.DEVELOPMENT_NOISE_LOGGERS))
def test_noise_loggers_are_dropped_in_development_only(logger: str) -> None:
    event = {"logger": logger, "level": "error", "message": "noise"}
    for environment in ("development", "dev", "Local"):
        assert sc.make_before_send(environment)(dict(event), {}) is None
    for environment in ("production", "prod", "staging"):
        assert sc.make_before_send(environment)(dict(event), {}) == event


def test_real_errors_are_sent_in_development() -> None:
    event = {"exception": {"values": [{"type": "ZeroDivisionError"}]}, "logger": "django.request"}
    assert sc.make_before_send("development")(event, exc_hint(ZeroDivisionError("x"))) is event


def test_real_sdk_applies_before_send(sdk: CaptureTransport) -> None:
    init_sdk(sdk, {"SENTRY_ENVIRONMENT": "development"})
    try:
        raise DisallowedHost("Invalid HTTP_HOST header: 'evil.example'")
    except DisallowedHost:
        sentry_sdk.capture_exception()
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    events = sdk.items("event")
    assert [e["exception"]["values"][-1]["type"] for e in events] == ["ZeroDivisionError"]
    assert events[0]["environment"] == "development"


# --- user context --------------------------------------------------------------------------------


def test_user_comes_from_the_header_then_the_cookie() -> None:
    assert sc.user_from_request({"X-User-Id": "alice"}, {"demo_user_id": "bob"}, False) == {"id": "alice"}
    assert sc.user_from_request({}, {"demo_user_id": "bob"}, False) == {"id": "bob"}
    assert sc.user_from_request({}, {}, False) is None


@pytest.mark.parametrize("bad", ["", " ", "a b", "x" * 129, "<script>", "ä"])
def test_unusable_user_ids_are_ignored(bad: str) -> None:
    assert sc.user_from_request({"X-User-Id": bad}, {}, False) is None


def test_email_and_ip_only_with_user_info() -> None:
    headers = {"X-User-Id": "alice", "X-User-Email": "alice@example.com"}
    assert sc.user_from_request(headers, {}, False) == {"id": "alice"}
    assert sc.user_from_request(headers, {}, True) == {
        "id": "alice",
        "email": "alice@example.com",
        "ip_address": "{{auto}}",
    }


# --- frontend runtime config ---------------------------------------------------------------------


def test_frontend_runtime_config_node_tests_pass() -> None:
    """demo/frontend/src/lib/sentry-config.js (what the SvelteKit server and browser read) under node --test."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH (Debian 13: apt-get install nodejs)")
    result = subprocess.run([node, "--test", "test/"], cwd=ROOT / "demo" / "frontend", capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout
