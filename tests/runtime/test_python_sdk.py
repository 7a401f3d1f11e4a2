"""sentry-stacks-runtime with the real sentry-sdk in this process (an in-memory transport, no socket): the options
it builds (the app's win), the traces sampler, the noise filter, the development log transport, the client swap
of a reload (the old client delivers what it holds, then closes), and the user helpers."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware
from sentry_sdk.transport import Transport

import sentry_stacks_runtime as rt
from sentry_stacks_runtime import envwatch as rl
from sentry_stacks_runtime import runtime
from sentry_stacks_runtime.envwatch import EnvFileWatcher
from sentry_stacks_runtime.filters import DEVELOPMENT_NOISE_LOGGERS, make_before_send
from sentry_stacks_runtime.sampling import make_traces_sampler
from sentry_stacks_runtime.transport import LogTransport
from tests.runtime.support import write_env_file

DSN = "http://publickey@127.0.0.1:9/42"
DSN2 = "http://otherkey@127.0.0.1:9/42"


class CaptureTransport(Transport):
    """Keeps envelopes in memory: the SDK never opens a socket."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []
        self.killed = False

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def kill(self) -> None:
        self.killed = True

    def items(self, kind: str) -> list[dict[str, Any]]:
        payloads = [item.payload.json for env in self.envelopes for item in env.items if item.type == kind]
        return [p for p in payloads if p is not None]


@pytest.fixture
def fresh() -> Iterator[None]:
    runtime._reset_for_tests()
    yield
    runtime._reset_for_tests()


def options(env: dict[str, str], **app: Any) -> dict[str, Any]:
    return runtime.build_options(rt.RuntimeConfig.from_env(env), app)


# --- options -----------------------------------------------------------------------------------------------


def test_the_environment_becomes_sdk_options() -> None:
    opts = options({"SENTRY_DSN": DSN, "SENTRY_ENVIRONMENT": "prod", "SENTRY_RELEASE": "r1", "SENTRY_SAMPLE_RATE":
                    "0.5", "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "0.2", "SENTRY_PROFILE_LIFECYCLE": "manual",
                    "SENTRY_DATA_COLLECTION": '{"user_info": false}', "SENTRY_SEND_DEFAULT_PII": "true"})  # fmt: skip
    assert (opts["dsn"], opts["environment"], opts["release"], opts["sample_rate"]) == (DSN, "prod", "r1", 0.5)
    assert (opts["profile_session_sample_rate"], opts["profile_lifecycle"]) == (0.2, "manual")
    assert "profiles_sample_rate" not in opts
    if runtime._has_option("data_collection"):  # sentry-sdk >= 2.7x
        assert opts["data_collection"] == {"user_info": False} and "send_default_pii" not in opts  # no warning
    else:  # an older 2.x: the nearest older options
        assert opts["send_default_pii"] is False and "data_collection" not in opts
    assert "transport" not in opts, "production sends"
    assert any(i.identifier == "celery" and i.monitor_beat_tasks for i in opts["integrations"])


def test_the_apps_own_options_win() -> None:
    def mine(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        return None if event.get("message") == "drop me" else {**event, "tags": {"mine": "1"}}

    opts = options({"SENTRY_DSN": DSN, "SENTRY_ENVIRONMENT": "development", "SENTRY_TRACES_SAMPLE_RATE": "1"},
                   environment="qa", sample_rate=0.1, traces_sample_rate=0.0, before_send=mine,
                   transport=CaptureTransport)  # fmt: skip
    assert (opts["environment"], opts["sample_rate"], opts["transport"]) == ("qa", 0.1, CaptureTransport)
    assert opts["traces_sampler"]({"parent_sampled": None}) == 0.0, "the app's rate, still through the sampler"
    assert opts["before_send"]({"message": "drop me"}, {}) is None
    assert opts["before_send"]({"message": "x"}, {})["tags"] == {"mine": "1"}
    assert options({}, traces_sampler=len)["traces_sampler"] is len


def test_legacy_sdk_options_when_the_sdk_has_no_data_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "_has_option", lambda name: name != "data_collection")
    opts = options({"SENTRY_DATA_COLLECTION": '{"user_info": true, "stack_frame_variables": false, "http_bodies": []}'})
    assert "data_collection" not in opts
    assert (opts["send_default_pii"], opts["include_local_variables"], opts["max_request_body_size"]) == (
        True, False, "never")  # fmt: skip


# --- sampler and filter ------------------------------------------------------------------------------------


def wsgi(path: str) -> dict[str, Any]:
    return {"wsgi_environ": {"PATH_INFO": path, "REQUEST_METHOD": "GET"}}


@pytest.mark.parametrize("rate", [0.0, 0.37, 1.0])
def test_sampler_keeps_the_configured_rate_without_a_parent(rate: float) -> None:
    sampler = make_traces_sampler(rate)
    assert sampler({"parent_sampled": None, **wsgi("/api/core/hello/")}) == rate
    assert sampler({"parent_sampled": None, "celery_job": {"task": "demoapp.add"}}) == rate


@pytest.mark.parametrize(("parent", "expected"), [(True, 1.0), (False, 0.0)])
def test_sampler_honours_the_parent_decision(parent: bool, expected: float) -> None:
    assert make_traces_sampler(0.5)({"parent_sampled": parent, **wsgi("/api/core/hello/")}) == expected


@pytest.mark.parametrize("context", [
    wsgi("/api/health/"), wsgi("/health"), {"asgi_scope": {"path": "/healthz"}},
    {"transaction_context": {"name": "/api/health/"}}, {"transaction_context": {"name": "GET /healthz"}},
])  # fmt: skip
def test_sampler_never_samples_health_checks_even_with_a_sampled_parent(context: dict[str, Any]) -> None:
    sampler = make_traces_sampler(1.0)
    assert sampler({"parent_sampled": None, **context}) == 0.0
    assert sampler({"parent_sampled": True, **context}) == 0.0
    assert make_traces_sampler(1.0, ["/ping"])({"parent_sampled": None, **wsgi("/health")}) == 1.0


def test_sampler_rejects_a_rate_outside_0_1() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        make_traces_sampler(1.01)


class DisallowedHost(Exception):
    """Same class name as django.core.exceptions.DisallowedHost (the filter matches by name)."""


@pytest.mark.parametrize("environment", ["development", "production"])
def test_disallowed_host_is_dropped_everywhere(environment: str) -> None:
    before_send = make_before_send(environment)
    exc = DisallowedHost("x")
    hint = {"exc_info": (DisallowedHost, exc, None)}
    assert before_send({"exception": {"values": [{"type": "ValueError"}]}}, hint) is None
    assert before_send({"logger": "django.security.DisallowedHost", "level": "error"}, {}) is None


@pytest.mark.parametrize("logger", [*sorted(DEVELOPMENT_NOISE_LOGGERS), "myapp.noise"])
def test_noise_loggers_are_dropped_in_development_only(logger: str) -> None:
    event = {"logger": logger, "level": "error", "message": "noise"}
    for environment in ("development", "dev", "Local"):
        assert make_before_send(environment, ["myapp.noise"])(dict(event), {}) is None
    for environment in ("production", "staging"):
        assert make_before_send(environment, ["myapp.noise"])(dict(event), {}) == event


# --- the real SDK ------------------------------------------------------------------------------------------


def call(app: Any, path: str, headers: dict[str, str] | None = None) -> None:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
               "wsgi.url_scheme": "http", **extra}  # fmt: skip
    b"".join(app(environ, lambda status, response_headers, exc_info=None: None))


def wsgi_app() -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return SentryWsgiMiddleware(app)


def test_init_samples_requests_but_never_health_checks_and_follows_parents(fresh: None) -> None:
    transport = CaptureTransport()
    rt.init(env={"SENTRY_DSN": DSN, "SENTRY_TRACES_SAMPLE_RATE": "0.0", "SENTRY_ENVIRONMENT": "prod",
                 "SENTRY_RELEASE": "r1"}, transport=transport, default_integrations=False)  # fmt: skip
    app, trace = wsgi_app(), "771a43a4192642f0b136d5159a501700"
    call(app, "/api/core/hello/")  # rate 0, no parent: dropped
    call(app, "/api/core/hello/", {"sentry-trace": f"{trace}-b7ad6b7169203331-1"})  # parent sampled: kept
    call(app, "/api/health/", {"sentry-trace": f"{trace}-b7ad6b7169203331-1"})  # health: dropped anyway
    sentry_sdk.flush()
    kept = transport.items("transaction")
    assert [(t["contexts"]["trace"]["trace_id"], t["environment"], t["release"]) for t in kept] == [
        (trace, "prod", "r1")]  # fmt: skip
    assert rt.init(env={}) is rt.current_config(), "init runs once per process"


def test_development_logs_events_instead_of_sending(fresh: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sentry_stacks_runtime.events")
    rt.init(env={"SENTRY_DSN": DSN, "SENTRY_ENVIRONMENT": "development"}, default_integrations=False)
    assert isinstance(sentry_sdk.get_client().transport, LogTransport)
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        event_id = sentry_sdk.capture_exception()
    sentry_sdk.capture_message("hello there")
    lines = [r.getMessage() for r in caplog.records if r.name == "sentry_stacks_runtime.events"]
    assert any(f"error event {event_id}: ZeroDivisionError: division by zero" in line for line in lines), lines
    assert any("info event" in line and "hello there" in line for line in lines), lines
    assert not any("publickey" in line for line in lines)


def test_a_reload_binds_the_new_client_then_retires_the_old_one(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = CaptureTransport(), CaptureTransport()
    transports = iter([first, second])
    monkeypatch.setattr(rl, "RETIRE_GRACE", 2.0)  # long enough for the steps below on a busy machine
    rt.init(env={"SENTRY_DSN": DSN, "SENTRY_ENVIRONMENT": "staging"}, default_integrations=False,
            transport=CaptureTransport)  # replaced below per client  # fmt: skip
    runtime._State.app_options["transport"] = next(transports)
    rt.reload({"SENTRY_DSN": DSN, "SENTRY_ENVIRONMENT": "staging"})  # the first real client
    old = sentry_sdk.get_client()
    held = old.capture_event({"message": "captured on the old client just before the swap"})
    runtime._State.app_options["transport"] = next(transports)
    config = rt.reload({"SENTRY_DSN": DSN2, "SENTRY_ENVIRONMENT": "staging", "SENTRY_RELEASE": "r2"})
    assert config.release == "r2" and sentry_sdk.get_client() is not old and sentry_sdk.get_client().dsn == DSN2
    after = sentry_sdk.capture_message("after the swap")
    assert old.transport is not None, "the old client stays open for its grace period"
    late = old.capture_event({"message": "a thread still holding the old client"})
    deadline = time.monotonic() + 10
    while old.transport is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert old.transport is None and first.killed and rl.retiring_count() == 0
    assert [e["event_id"] for e in first.items("event")] == [held, late]
    assert [e["event_id"] for e in second.items("event")] == [after]


def test_a_bad_reload_keeps_the_running_client(fresh: None) -> None:
    rt.init(env={"SENTRY_DSN": DSN, "SENTRY_ENVIRONMENT": "staging"}, transport=CaptureTransport,
            default_integrations=False)  # fmt: skip
    client = sentry_sdk.get_client()
    with pytest.raises(rt.ConfigError, match="SENTRY_TRACES_SAMPLE_RATE"):
        rt.reload({"SENTRY_DSN": DSN2, "SENTRY_TRACES_SAMPLE_RATE": "7"})
    assert sentry_sdk.get_client() is client and rt.current_config().dsn == DSN  # type: ignore[union-attr]


def test_the_watcher_applies_a_changed_file_once(tmp_path: Path) -> None:
    path = tmp_path / "svc.env"
    write_env_file(path, {"SENTRY_DSN": DSN, "OTHER": "1"})
    applied: list[dict[str, str]] = []
    watcher = EnvFileWatcher({"PORT": "80"}, str(path), 60.0, applied.append)
    assert watcher.check() is False, "unchanged"
    write_env_file(path, {"SENTRY_DSN": DSN, "OTHER": "2"})
    assert watcher.check() is False, "a non-SENTRY_ change is not applied"
    write_env_file(path, {"SENTRY_DSN": DSN2})
    assert watcher.check() is True and applied == [{"PORT": "80", "SENTRY_DSN": DSN2}]
    path.write_text("SENTRY_DSN=broken\n")
    assert watcher.check() is False and len(applied) == 1


def test_user_details_only_with_user_info() -> None:
    assert rt.sentry_user("alice", email="a@example.com", username="al", user_info=False) == {"id": "alice"}
    assert rt.sentry_user(42, email="a@example.com", username="al", ip_address="{{auto}}", user_info=True) == {
        "id": "42", "username": "al", "email": "a@example.com", "ip_address": "{{auto}}"}  # fmt: skip
    for bad in ["", " ", "a b", "x" * 129, "<script>", "ä", None]:
        assert rt.sentry_user(bad, user_info=True) is None
    assert rt.sentry_user("bob", email="not-an-email", user_info=True) == {"id": "bob"}


def test_django_request_user_from_the_account_then_header_then_cookie(settings_module: None) -> None:
    from django.test import RequestFactory

    from sentry_stacks_runtime.django import request_user

    opts = {"USER_ID_HEADER": "X-User-Id", "USER_EMAIL_HEADER": None, "USER_ID_COOKIE": "visitor",
            "REQUEST_ID_HEADER": None, "EVENT_ID_HEADER": None}  # fmt: skip
    anonymous = type("Anonymous", (), {"is_authenticated": False})()
    request = RequestFactory().get("/", HTTP_X_USER_ID="hdr")
    request.user, request.COOKIES["visitor"] = anonymous, "cookie"
    assert request_user(request, opts) == {"id": "hdr"}
    request = RequestFactory().get("/")
    request.user, request.COOKIES["visitor"] = anonymous, "cookie"
    assert request_user(request, opts) == {"id": "cookie"}

    class Account:
        pk, email, is_authenticated = 7, "u@example.com", True

        def get_username(self) -> str:
            return "user7"

    request.user = Account()
    assert request_user(request, opts) == {"id": "7"}, "no user info collected before init"


@pytest.fixture
def settings_module() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(SENTRY_STACKS={})
