"""localsentry ingest: Relay's auth forms, encodings, answers (401/400/403/429), CORS, storage by item type."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
import zlib
from typing import Any

import brotli
import pytest
import requests

from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.sentry
REJECTED = {"detail": "event submission rejected with_reason: ProjectId"}


def envelope(*items: tuple[dict[str, Any], Any], header: dict[str, Any] | None = None) -> bytes:
    lines = [json.dumps(header if header is not None else {"event_id": uuid.uuid4().hex}).encode()]
    for item_header, payload in items:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        lines += [json.dumps(dict(item_header, length=len(data))).encode(), data]
    return b"\n".join(lines) + b"\n"


def event(**fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"type": "event"}, {"event_id": uuid.uuid4().hex, "message": "m", "environment": "prod", **fields}


@pytest.fixture
def target(localsentry_session: LocalSentry) -> dict[str, Any]:
    ls = localsentry_session
    project = ls.create_project()
    key = ls.keys(project["slug"])[0]
    return {"ls": ls, "project": project, "key": key, "url": f"{ls.url}/api/{project['id']}/envelope/"}


def post(url: str, body: bytes, **kw: Any) -> requests.Response:
    return requests.post(url, data=body, timeout=10, **kw)


def test_every_relay_auth_form(target: dict[str, Any]) -> None:
    ls, key, url = target["ls"], target["key"]["public"], target["url"]
    forms = {
        "x-sentry-auth": {
            "headers": {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7, sentry_client=t/1"}
        },
        "authorization": {"headers": {"Authorization": f"Sentry sentry_key={key}, sentry_version=7"}},
        "basic": {"headers": {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}},
        "query": {"params": {"sentry_key": key, "sentry_version": "7"}},
    }
    for source, kw in forms.items():
        resp = post(url, envelope(event(tags={"form": source})), **kw)
        assert resp.status_code == 200, (source, resp.text)
    dsn = target["key"]["dsn"]["public"]
    assert post(url, envelope(event(), header={"event_id": uuid.uuid4().hex, "dsn": dsn})).status_code == 200
    sources = sorted(i["headers"]["auth"] for i in ls.items(target["project"]["slug"], type="event"))
    assert sources == sorted([*forms, "envelope"])


def test_auth_failures(target: dict[str, Any]) -> None:
    key, url = target["key"]["public"], target["url"]
    both = post(
        url, envelope(event()), params={"sentry_key": key}, headers={"X-Sentry-Auth": f"Sentry sentry_key={key}"}
    )
    assert (both.status_code, both.json()) == (401, {"detail": "multiple authorization payloads detected"})
    none = post(url, envelope(event()))
    assert (none.status_code, none.json()) == (401, {"detail": "missing authorization information"})
    short = post(url, envelope(event()), params={"sentry_key": "abc"})
    assert (short.status_code, short.json()) == (400, {"detail": "bad sentry DSN public key"})
    future = post(url, envelope(event()), params={"sentry_key": key, "sentry_version": "8"})
    assert future.json() == {"detail": "unsupported protocol version (8)"}


def test_compressed_bodies(target: dict[str, Any]) -> None:
    ls, key, url = target["ls"], target["key"]["public"], target["url"]
    codecs = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}
    for name, encode in codecs.items():
        body = envelope(event(message=f"via {name}"))
        resp = post(url, encode(body), params={"sentry_key": key}, headers={"Content-Encoding": name})
        assert resp.status_code == 200, (name, resp.text)
    messages = {i["payload"]["message"] for i in ls.items(target["project"]["slug"], type="event")}
    assert messages == {f"via {name}" for name in codecs}
    broken = post(url, b"not gzip", params={"sentry_key": key}, headers={"Content-Encoding": "gzip"})
    assert broken.status_code == 400


def test_rejections_answer_403(target: dict[str, Any]) -> None:
    ls, project, key = target["ls"], target["project"], target["key"]
    unknown = post(target["url"], envelope(event()), params={"sentry_key": uuid.uuid4().hex})
    assert (unknown.status_code, unknown.json()) == (403, REJECTED)
    other = ls.create_project()
    mismatch = post(f"{ls.url}/api/{other['id']}/envelope/", envelope(event()), params={"sentry_key": key["public"]})
    assert (mismatch.status_code, mismatch.json()) == (403, REJECTED)
    keys = f"/api/0/projects/{ls.org}/{project['slug']}/keys/{key['id']}/"
    ls.api("PUT", keys, json={"isActive": False})
    disabled = post(target["url"], envelope(event()), params={"sentry_key": key["public"]})
    assert (disabled.status_code, disabled.json()) == (403, REJECTED)
    ls.api("DELETE", keys)
    deleted = post(target["url"], envelope(event()), params={"sentry_key": key["public"]})
    assert (deleted.status_code, deleted.json()) == (403, REJECTED)
    other_key = ls.keys(other["slug"])[0]["public"]
    ls.api("DELETE", f"/api/0/projects/{ls.org}/{other['slug']}/")
    gone = post(f"{ls.url}/api/{other['id']}/envelope/", envelope(event()), params={"sentry_key": other_key})
    assert (gone.status_code, gone.json()) == (403, REJECTED)


def test_malformed_requests_answer_400(target: dict[str, Any]) -> None:
    key, url = target["key"]["public"], target["url"]
    auth = {"params": {"sentry_key": key}}
    bad = post(url, b"{not json\n", **auth)
    assert (bad.status_code, bad.json()) == (
        400,
        {"detail": "invalid event envelope", "causes": ["invalid envelope header"]},
    )
    short = post(url, b'{}\n{"type":"event","length":100}\n{}', **auth)
    assert short.json() == {"detail": "invalid event envelope", "causes": ["unexpected end of file"]}
    assert post(url, b"", **auth).json() == {"detail": "empty request body"}
    path = url.replace(f"/api/{target['project']['id']}/", "/api/abc/")
    assert post(path, envelope(event()), **auth).json() == {"detail": "bad project path parameter"}


def test_store_endpoint(target: dict[str, Any]) -> None:
    ls, project, key = target["ls"], target["project"], target["key"]["public"]
    url = f"{ls.url}/api/{project['id']}/store/"
    event_id = uuid.uuid4().hex
    resp = post(url, json.dumps({"event_id": event_id, "message": "stored", "release": "r9"}).encode(),
                headers={"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"})  # fmt: skip
    assert (resp.status_code, resp.json()) == (200, {"id": event_id})
    detail = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/events/{event_id}/").json()
    assert detail["message"] == "stored"
    invalid = post(url, b"{oops", headers={"X-Sentry-Auth": f"Sentry sentry_key={key}"})
    assert invalid.status_code == 400 and invalid.json()["detail"] == "invalid JSON data"


def test_key_rate_limit_answers_429_with_headers(localsentry: LocalSentry) -> None:
    ls = localsentry
    ls.set_features(None, {"projects:rate-limits": True})
    project = ls.create_project()
    keys = f"/api/0/projects/{ls.org}/{project['slug']}/keys/"
    key = ls.api("POST", keys, json={"rateLimit": {"window": 3600, "count": 2}}).json()
    url = f"{ls.url}/api/{project['id']}/envelope/"
    answers = [post(url, envelope(event()), params={"sentry_key": key["public"]}) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    limited = answers[2]
    retry = int(limited.headers["Retry-After"])
    assert 0 < retry <= 3600
    assert limited.headers["X-Sentry-Rate-Limits"] == f"{retry}:default;error;security:key:key_quota"
    assert "quota" in limited.json()["detail"]
    transaction = ({"type": "transaction"}, {"event_id": uuid.uuid4().hex, "type": "transaction", "transaction": "t"})
    assert post(url, envelope(transaction), params={"sentry_key": key["public"]}).status_code == 200
    stats = ls.api("GET", f"{keys}{key['id']}/stats/", params={"resolution": "1d"}).json()
    assert sum(b["accepted"] for b in stats) == 2 and sum(b["dropped"] for b in stats) == 1
    assert set(stats[0]) == {"ts", "total", "dropped", "accepted", "filtered"}


def test_cors(target: dict[str, Any]) -> None:
    ls, project, key, url = target["ls"], target["project"], target["key"]["public"], target["url"]
    pre = requests.options(url, headers={"Origin": "https://app.example.com",
                                         "Access-Control-Request-Method": "POST"}, timeout=10)  # fmt: skip
    assert pre.status_code == 200 and "x-sentry-auth" in pre.headers["Access-Control-Allow-Headers"]
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    ok = post(url, envelope(event()), params={"sentry_key": key}, headers={"Origin": "https://evil.example"})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == "*"
    ls.api("PUT", f"/api/0/projects/{ls.org}/{project['slug']}/", json={"allowedDomains": ["https://app.example.com"]})
    denied = post(url, envelope(event()), params={"sentry_key": key}, headers={"Origin": "https://evil.example"})
    assert (denied.status_code, denied.json()) == (403, {"detail": "event submission rejected with_reason: Cors"})
    assert "x-sentry-error" in denied.headers["Access-Control-Expose-Headers"]
    allowed = post(url, envelope(event()), params={"sentry_key": key}, headers={"Origin": "https://app.example.com"})
    assert allowed.status_code == 200


def test_items_stored_by_type(target: dict[str, Any]) -> None:
    ls, project, key = target["ls"], target["project"], target["key"]["public"]
    sid = uuid.uuid4().hex
    attrs = {"release": "r1", "environment": "e1"}
    items = [
        ({"type": "session"}, {"sid": sid, "init": True, "status": "ok", "attrs": attrs}),
        ({"type": "sessions"}, {"aggregates": [{"started": "2026-01-01T00:00:00Z", "exited": 3}], "attrs": attrs}),
        ({"type": "replay_event"}, {"replay_id": uuid.uuid4().hex, **attrs}),
        ({"type": "replay_recording"}, b"\x00\x01binary"),
        ({"type": "profile"}, {"event_id": uuid.uuid4().hex, "platform": "python", **attrs}),
        ({"type": "check_in"}, {"check_in_id": uuid.uuid4().hex, "monitor_slug": "cron", "environment": "e1"}),
        ({"type": "client_report"}, {"discarded_events": [{"reason": "sample_rate", "category": "error"}]}),
        ({"type": "attachment", "filename": "a.txt"}, b"plain text"),
        ({"type": "log"}, {"items": [{"body": "hello"}]}),
    ]
    resp = post(target["url"], envelope(*items), params={"sentry_key": key})
    assert resp.status_code == 200, resp.text
    stored = {i["type"]: i for i in ls.items(project["slug"])}
    assert set(stored) == {h["type"] for h, _ in items}
    assert (stored["session"]["environment"], stored["session"]["release"]) == ("e1", "r1")
    assert base64.b64decode(stored["replay_recording"]["payload"]["raw_base64"]) == b"\x00\x01binary"
    assert stored["attachment"]["headers"]["filename"] == "a.txt"
    assert all(i["key"] == key for i in stored.values())
    detail = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/").json()
    assert detail["hasSessions"] and detail["hasReplays"] and detail["hasProfiles"] and detail["hasMonitors"]


def test_inbound_filters_drop_and_count(target: dict[str, Any]) -> None:
    ls, project, key = target["ls"], target["project"], target["key"]
    filters = f"/api/0/projects/{ls.org}/{project['slug']}/filters/"
    assert ls.api("PUT", filters + "localhost/", json={"active": True}).status_code == 204
    local = event(request={"url": "http://localhost:8000/checkout"})
    remote = event(request={"url": "https://shop.example.com/checkout"})
    health = ({"type": "transaction"}, {"event_id": uuid.uuid4().hex, "type": "transaction", "transaction": "/healthz"})
    resp = post(target["url"], envelope(local, remote, health), params={"sentry_key": key["public"]})
    assert resp.status_code == 200
    stored = ls.items(project["slug"])
    assert [i["payload"]["request"]["url"] for i in stored] == ["https://shop.example.com/checkout"]
    stats = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/keys/{key['id']}/stats/").json()
    assert sum(b["filtered"] for b in stats) == 1 and sum(b["accepted"] for b in stats) == 1
    everything = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/keys/{key['id']}/stats/",
                        params={"category": "all"}).json()  # fmt: skip
    assert sum(b["filtered"] for b in everything) == 3  # the error, and the transaction with its root span
    spans = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/keys/{key['id']}/stats/",
                   params={"category": "span"}).json()  # fmt: skip
    assert sum(b["filtered"] for b in spans) == 1


def test_custom_inbound_filters_need_the_feature(localsentry: LocalSentry) -> None:
    ls = localsentry
    project = ls.create_project()
    path = f"/api/0/projects/{ls.org}/{project['slug']}/"
    options = {"options": {"filters:error_messages": "*ConnectionResetError*", "filters:releases": "0.*"}}
    assert ls.api("PUT", path, json=options).json() == {"detail": "You do not have that feature enabled"}
    ls.set_features(None, {"projects:custom-inbound-filters": True})
    assert ls.api("PUT", path, json=options).status_code == 200
    key = ls.keys(project["slug"])[0]["public"]
    noisy = event(exception={"values": [{"type": "ConnectionResetError", "value": "peer reset"}]})
    old = event(release="0.9")
    kept = event(release="1.0", message="kept")
    resp = post(f"{ls.url}/api/{project['id']}/envelope/", envelope(noisy, old, kept), params={"sentry_key": key})
    assert resp.status_code == 200
    assert [i["payload"]["message"] for i in ls.items(project["slug"])] == ["kept"]
