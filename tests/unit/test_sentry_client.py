"""Pure logic of infra/sentry/client.py, errors.py and ids.py (no server)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import Config

from infra.sentry import ids
from infra.sentry.client import (
    Pacer,
    connection_from_config,
    is_sentry_io,
    next_page_url,
    normalize_base_url,
)
from infra.sentry.errors import (
    SentryApiError,
    SentryAuthError,
    SentryBadRequest,
    SentryConfigError,
    SentryConflict,
    SentryNotFound,
    SentryServerError,
    api_error,
    detail_from_body,
    register_secret,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("us", "https://us.sentry.io/api/0/"),
        ("de", "https://de.sentry.io/api/0/"),
        ("sentry.io", "https://sentry.io/api/0/"),
        ("https://sentry.io", "https://sentry.io/api/0/"),
        ("https://de.sentry.io/api/0/", "https://de.sentry.io/api/0/"),
        ("https://sentry.example.com/", "https://sentry.example.com/api/0/"),
        ("https://sentry.example.com/api/", "https://sentry.example.com/api/0/"),
        ("https://Example.com/sentry/api/0", "https://example.com/sentry/api/0/"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/api/0/"),
        ("  sentry.internal:8443  ", "https://sentry.internal:8443/api/0/"),
    ],
)
def test_base_url_normalisation(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [("", "empty"), ("ftp://x", "not an http"), ("https://u:p@host", "credentials"), ("https://h/?a=1", "query")],
)
def test_bad_base_urls(given: str, message: str) -> None:
    with pytest.raises(SentryConfigError, match=message):
        normalize_base_url(given)


def test_sentry_io_detection() -> None:
    assert is_sentry_io("https://us.sentry.io/api/0/")
    assert is_sentry_io("https://acme.sentry.io/api/0/")
    assert not is_sentry_io("https://sentry.example.com/api/0/")
    assert not is_sentry_io("https://notsentry.io/api/0/")


def test_link_header_pagination() -> None:
    header = (
        '<https://sentry.io/api/0/organizations/acme/members/?&cursor=100:-1:1>; rel="previous"; results="false"; '
        'cursor="100:-1:1", <https://sentry.io/api/0/organizations/acme/members/?&cursor=100:1:0>; rel="next"; '
        'results="true"; cursor="100:1:0"'
    )
    assert next_page_url(header) == "https://sentry.io/api/0/organizations/acme/members/?&cursor=100:1:0"
    assert next_page_url(header.replace('results="true"', 'results="false"')) is None
    assert next_page_url(None) is None


def _cfg(values: dict[str, str]) -> Config:
    return Config(values, "sentry-stacks")


def test_connection_from_stack_config_wins(tmp_path: Path) -> None:
    conn = connection_from_config(
        _cfg({"sentry:baseUrl": "de", "sentry:organization": "acme", "sentry:token": "tok-config-123"}),
        environ={"SENTRY_BASE_URL": "https://other", "SENTRY_AUTH_TOKEN": "tok-env-123", "SENTRY_ORG": "x"},
        root=tmp_path,
    )
    assert (conn.api_root, conn.organization, conn.token) == ("https://de.sentry.io/api/0/", "acme", "tok-config-123")
    assert "tok-config-123" not in repr(conn)


def test_connection_from_environment(tmp_path: Path) -> None:
    conn = connection_from_config(
        _cfg({}),
        environ={"SENTRY_BASE_URL": "https://sentry.example.com", "SENTRY_AUTH_TOKEN": "tok-env-456",
                 "SENTRY_ORG": "o"},
        root=tmp_path,
    )
    assert (conn.api_root, conn.organization, conn.token, conn.source) == (
        "https://sentry.example.com/api/0/", "o", "tok-env-456", "environment")


def test_connection_falls_back_to_localsentry_info(tmp_path: Path) -> None:
    (tmp_path / ".localsentry").mkdir()
    (tmp_path / "tok").write_text("tok-local-789\n")
    info = {"url": "http://127.0.0.1:1234", "organization": "localsentry", "token_file": str(tmp_path / "tok")}
    (tmp_path / ".localsentry" / "info.json").write_text(json.dumps(info))
    conn = connection_from_config(_cfg({}), environ={}, root=tmp_path)
    assert (conn.api_root, conn.organization, conn.token) == ("http://127.0.0.1:1234/api/0/", "localsentry",
                                                               "tok-local-789")
    assert "localsentry" in conn.source


@pytest.mark.parametrize(
    ("values", "environ", "message"),
    [
        ({}, {}, "no Sentry connection: set sentry:baseUrl"),
        ({"sentry:baseUrl": "us", "sentry:token": "t-123456"}, {}, "no Sentry organization"),
        ({"sentry:baseUrl": "us", "sentry:organization": "acme"}, {}, "pulumi config set --secret sentry:token"),
    ],
)
def test_missing_connection_settings(tmp_path: Path, values: dict[str, str], environ: dict[str, str],
                                     message: str) -> None:
    with pytest.raises(SentryConfigError, match=message):
        connection_from_config(_cfg(values), environ=environ, root=tmp_path)


def test_error_messages_name_action_object_status_detail() -> None:
    err = api_error("create", "project 'backend' in organization 'acme'", 409,
                    {"detail": "A project with this slug already exists."})
    assert isinstance(err, SentryConflict)
    assert str(err) == ("create project 'backend' in organization 'acme': HTTP 409 Conflict: "
                        "A project with this slug already exists.")
    bad = api_error("update", "key 'k'", 400, {"rateLimit": {"window": ["Ensure this value is <= 86400."]}})
    assert isinstance(bad, SentryBadRequest) and bad.fields["rateLimit"]
    assert '"rateLimit"' in str(bad)
    assert isinstance(api_error("read", "x", 401, {"detail": "Invalid token"}), SentryAuthError)
    assert isinstance(api_error("read", "x", 403), SentryAuthError)
    assert isinstance(api_error("read", "x", 404), SentryNotFound)
    assert isinstance(api_error("read", "x", 502), SentryServerError)
    limited = api_error("list", "keys", 429, "You are attempting to use this endpoint too frequently.", attempts=3)
    assert "too frequently" in str(limited) and "after 3 attempts" in str(limited)


def test_registered_secrets_never_appear_in_errors() -> None:
    token = "sntryu_" + "ab" * 32
    register_secret(token)
    err = api_error("read", f"thing {token}", 400, {"detail": f"bad token {token}"})
    assert token not in str(err) and "[redacted]" in str(err)
    assert isinstance(err, SentryApiError) and token not in err.detail


def test_detail_from_body_shapes() -> None:
    assert detail_from_body({"detail": "x"}) == "x"
    assert detail_from_body({"message": "This API no longer exists."}) == "This API no longer exists."
    assert detail_from_body("bare string") == "bare string"
    assert detail_from_body(["msg"]) == '["msg"]'
    moved = {"detail": {"code": "resource-moved", "message": "Resource has been moved", "extra": {}}}
    assert detail_from_body(moved) == "Resource has been moved"


def test_pacer_learns_limits_from_headers() -> None:
    pacer = Pacer()
    pacer.acquire()
    reset = str(int(time.time()) + 1)
    pacer.release({"X-Sentry-Rate-Limit-Limit": "40", "X-Sentry-Rate-Limit-Remaining": "39",
                   "X-Sentry-Rate-Limit-Reset": reset, "X-Sentry-Rate-Limit-ConcurrentLimit": "25",
                   "X-Sentry-Rate-Limit-ConcurrentRemaining": "24"}, 200)
    assert pacer.learned and pacer.concurrency == 24
    assert pacer.rate is not None and 30 <= pacer.rate < 40
    assert pacer.in_flight == 0


def test_pacer_blocks_after_429_until_reset() -> None:
    pacer = Pacer()
    pacer.acquire()
    pacer.release({"X-Sentry-Rate-Limit-Limit": "10", "X-Sentry-Rate-Limit-Remaining": "0",
                   "X-Sentry-Rate-Limit-Reset": str(int(time.time()) + 2)}, 429,
                  "You are attempting to use this endpoint too frequently. Limit is 10 requests in 1 seconds")
    assert pacer.throttled == 1
    assert pacer._blocked_until > time.monotonic()


def test_pacer_without_advertised_limits_and_retry_after() -> None:
    pacer = Pacer()
    pacer.acquire()
    pacer.release({}, 200)  # self-hosted Sentry sends no rate-limit headers
    assert pacer.concurrency == 16 and pacer.rate is None and not pacer.learned
    pacer.acquire()
    pacer.release({"Retry-After": "3"}, 503)
    assert pacer._blocked_until > time.monotonic() + 2


def test_pacer_caps_concurrency() -> None:
    import threading

    pacer = Pacer()
    pacer.concurrency = 2
    peak, lock, current = [0], threading.Lock(), [0]

    def worker() -> None:
        pacer.acquire()
        with lock:
            current[0] += 1
            peak[0] = max(peak[0], current[0])
        time.sleep(0.01)
        with lock:
            current[0] -= 1
        pacer.release(None, None)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


@pytest.mark.parametrize(
    ("kind", "text", "project", "obj"),
    [
        ("project", "acme/42", "", "42"),
        ("key", "acme/backend/" + "a" * 32, "backend", "a" * 32),
        ("filter", "acme/web/legacy-browsers", "web", "legacy-browsers"),
        ("workflow", "acme/7", "", "7"),
        ("detector", "acme/8", "", "8"),
    ],
)
def test_ids_round_trip(kind: Any, text: str, project: str, obj: str) -> None:
    parsed = ids.parse(kind, text)
    assert (parsed.org, parsed.project, parsed.object_id) == ("acme", project, obj)
    assert str(parsed) == text


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [("project", "acme/backend", "numeric project id"), ("key", "acme/x", "org/project/id"),
     ("workflow", "a/b/c", "org/id"), ("detector", "acme/../x", "org/id")],
)
def test_bad_ids(kind: Any, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ids.parse(kind, text)


def test_ids_from_urls() -> None:
    key = "b" * 32
    assert str(ids.from_url(f"https://sentry.io/api/0/projects/acme/web/keys/{key}/")) == f"acme/web/{key}"
    assert ids.from_url(f"https://acme.sentry.io/settings/projects/web/keys/{key}/").org == "acme"
    assert ids.from_url(f"https://sentry.io/settings/acme/projects/web/keys/{key}/").kind == "key"
    assert str(ids.from_url("https://sentry.io/api/0/organizations/acme/workflows/12/")) == "acme/12"
    assert ids.from_url("http://127.0.0.1:9/api/0/organizations/o/detectors/3/").kind == "detector"
    assert ids.from_url("https://x/api/0/projects/o/p/filters/localhost/").kind == "filter"
    with pytest.raises(ValueError, match="not a URL"):
        ids.from_url("https://sentry.io/organizations/acme/issues/")


def test_rate_limit_stated_by_every_429_body_shape() -> None:
    from infra.sentry.client import rate_limit_from_body

    text = "You are attempting to use this endpoint too frequently. Limit is 40 requests in 60 seconds"
    assert rate_limit_from_body({"detail": text}) == (40, 60.0)  # current Sentry
    assert rate_limit_from_body(text) == (40, 60.0)  # older releases: a bare JSON string
    assert rate_limit_from_body({"message": "Limit is 5 requests in 1 seconds"}) == (5, 1.0)
    assert rate_limit_from_body({"detail": "Concurrency limit is 25"}) is None
    assert rate_limit_from_body(None) is None and rate_limit_from_body(["x"]) is None


def _headers(limit: int, remaining: int, reset_in: float, concurrent: int = 25) -> dict[str, str]:
    return {"X-Sentry-Rate-Limit-Limit": str(limit), "X-Sentry-Rate-Limit-Remaining": str(remaining),
            "X-Sentry-Rate-Limit-Reset": str(time.time() + reset_in),
            "X-Sentry-Rate-Limit-ConcurrentLimit": str(concurrent),
            "X-Sentry-Rate-Limit-ConcurrentRemaining": str(concurrent - 1)}


@pytest.mark.parametrize("body", [
    {"detail": "You are attempting to use this endpoint too frequently. Limit is 100 requests in 60 seconds"},
    "You are attempting to use this endpoint too frequently. Limit is 100 requests in 60 seconds",
])
def test_pacer_keeps_a_longer_window_after_later_successes(body: Any) -> None:
    pacer = Pacer()
    pacer.acquire()
    pacer.release(_headers(100, 0, 0.5), 429, body)
    assert pacer.window == 60.0 and pacer.limit == 100 and pacer.throttled == 1
    assert pacer.rate is not None and pacer.rate <= 100 / 60
    assert pacer._blocked_until > time.monotonic()
    pacer._blocked_until = 0.0
    pacer.acquire()
    pacer.release(_headers(100, 99, 0.9), 200)  # a 2xx whose reset is near: the window stays 60 s
    assert pacer.window == 60.0 and pacer.rate is not None and pacer.rate <= 100 / 60


def test_pacer_learns_the_window_from_a_distant_reset_header() -> None:
    pacer = Pacer()
    pacer.acquire()
    pacer.release(_headers(300, 299, 42.3), 200)
    assert pacer.window == 43.0 and pacer.budget == 299


def test_pacer_spends_the_budget_then_waits_for_the_reset() -> None:
    pacer = Pacer()
    pacer.acquire()
    pacer.release(_headers(40, 3, 0.3), 200)
    assert pacer.budget == 3
    started = time.monotonic()
    for _ in range(3):
        pacer.acquire()
        pacer.release(None, None)
    assert pacer.budget == 0 and time.monotonic() - started < 0.25  # the advertised budget goes at once
    pacer.acquire()  # the fourth waits for the window's reset, then the full limit is available again
    assert time.monotonic() - started >= 0.25
    assert pacer.budget == 39
    pacer.release(None, None)


def test_pacer_concurrency_refusal_is_not_a_rate_refusal() -> None:
    pacer = Pacer()
    pacer.acquire()
    headers = _headers(40, 30, 0.8)
    headers["X-Sentry-Rate-Limit-ConcurrentRemaining"] = "0"
    pacer.release(headers, 429, {"detail": "You are attempting to go above the allowed concurrency for this "
                                           "endpoint. Concurrency limit is 25"})
    assert pacer.budget is not None and pacer.budget > 0  # the window's budget is kept
    assert pacer._blocked_until - time.monotonic() < 0.3  # only a short pause
