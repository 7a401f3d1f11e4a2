"""Privacy end to end with the real sentry-sdk and a real localsentry: each stack's rendered SENTRY_DATA_COLLECTION
(parsed by sentry-stacks-runtime, the backend's runtime package) decides what the SDK sends, and the project's
privacy settings decide what localsentry stores (scrubbed at ingest, as Sentry's Relay does). prod loses the IP,
cookie and password; dev keeps them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from infra import privacy as pv
from infra.render import service_env
from infra.sampling import derive_rates
from localsentry.ingest.scrub import Rules, scrub_event
from tests.support.localsentry import ROOT, LocalSentry
from tests.unit.settings_support import settings_for

pytestmark = pytest.mark.sentry
IP, FORWARDED = "203.0.113.7", "198.51.100.9"

# One request to a WSGI app under sentry-sdk's WSGI middleware, with the SDK's own request extractor for cookies
# and the body (what its Django integration does), and an error whose context holds a password.
APP = r"""
import json, os, sys, warnings
warnings.simplefilter("always")
caught = []
warnings.showwarning = lambda message, *a, **k: caught.append(str(message))
import sentry_sdk
from sentry_sdk.integrations._wsgi_common import RequestExtractor
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware
from sentry_stacks_runtime import RuntimeConfig
from sentry_stacks_runtime.runtime import build_options

options = build_options(RuntimeConfig.from_env(os.environ), {"default_integrations": False, "integrations": []})
options.pop("traces_sampler")
sentry_sdk.init(**options)
BODY = {"email": "alice@example.com", "password": "hunter2", "sku": "sku-1", "auth_mode": "sso"}

class Extractor(RequestExtractor):
    def env(self): return self.request
    def cookies(self): return {"cart_id": "cart-42", "sessionid": "s3cr3t"}
    def raw_data(self): return json.dumps(BODY)
    def form(self): return {}
    def files(self): return {}
    def is_json(self): return True
    def json(self): return BODY
    def content_length(self): return len(json.dumps(BODY))
    def size_of_file(self, file): return 0

out = {}
def app(environ, start_response):
    scope = sentry_sdk.get_isolation_scope()
    scope.set_user({"id": "u-1"})
    scope.add_event_processor(lambda event, hint: (Extractor(environ).extract_into_event(event), event)[1])
    scope.set_context("signup", {"plan": "pro", "password": "hunter2", "iban": "DE89370400440532013000"})
    out["event"] = sentry_sdk.capture_message("signup failed")
    start_response("500 Internal Server Error", [])
    return [b"x"]

environ = {
    "REQUEST_METHOD": "POST", "PATH_INFO": "/signup", "QUERY_STRING": "page=2", "SERVER_NAME": "shop.example",
    "SERVER_PORT": "443", "wsgi.url_scheme": "https", "REMOTE_ADDR": os.environ["TEST_IP"],
    "HTTP_X_FORWARDED_FOR": os.environ["TEST_FORWARDED"], "HTTP_COOKIE": "cart_id=cart-42; sessionid=s3cr3t",
    "CONTENT_TYPE": "application/json", "wsgi.input": None,
}
list(SentryWsgiMiddleware(app)(environ, lambda *a: None))
sentry_sdk.flush(timeout=10)
out["warnings"] = [w for w in caught if "send_default_pii" in w]
print(json.dumps(out))
"""


def stack_project(ls: LocalSentry, stack: str, **extra: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A project configured as `stack`'s own (per-environment mode) and the backend's rendered environment."""
    settings = settings_for(stack, projectMode="per-environment")
    project = ls.create_project(platform="python-django")
    privacy = {**pv.project_values(settings.privacy, None), **extra}
    assert ls.api("PUT", f"/api/0/projects/{ls.org}/{project['slug']}/", json=privacy).status_code == 200
    env = service_env(settings, settings.service("backend"), {"backend": ls.dsn(project["slug"])},
                      derive_rates(settings.sampling))
    return project, env


def run(ls: LocalSentry, project: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    run_env = {**os.environ, **env, "ROOT": str(ROOT), "TEST_IP": IP, "TEST_FORWARDED": FORWARDED,
               "SENTRY_STACKS_LOG_EVENTS": "false"}  # the dev stack's environment is development: send  # fmt: skip
    done = subprocess.run([sys.executable, "-c", APP], env=run_env, capture_output=True, text=True, timeout=60,
                          cwd=ROOT, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    sent: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    (item,) = ls.wait_items(project["slug"], 1, type="event", event_id=sent["event"])
    return {"warnings": sent["warnings"], "event": item["payload"]}


def test_dev_keeps_the_ip_cookie_and_password_prod_loses_them(localsentry_session: LocalSentry) -> None:
    ls = localsentry_session
    dev_project, dev_env = stack_project(ls, "dev")
    prod_project, prod_env = stack_project(ls, "prod")
    dev, prod = run(ls, dev_project, dev_env), run(ls, prod_project, prod_env)
    assert dev["warnings"] == [] and prod["warnings"] == []  # no "send_default_pii option is deprecated"

    d = dev["event"]
    assert d["user"]["ip_address"] == FORWARDED and d["request"]["env"]["REMOTE_ADDR"] == IP
    assert d["request"]["cookies"]["cart_id"] == "cart-42"
    assert d["request"]["data"]["password"] == "hunter2" and d["contexts"]["signup"]["password"] == "hunter2"
    assert d["request"]["headers"]["X-Forwarded-For"] == FORWARDED

    p = prod["event"]
    assert "ip_address" not in p["user"] and "REMOTE_ADDR" not in p["request"].get("env", {})
    assert FORWARDED not in json.dumps(p) and IP not in json.dumps(p)
    assert "cookies" not in p["request"] and "data" not in p["request"]  # the SDK sent no cookies, no body
    assert p["contexts"]["signup"]["password"] == "[Filtered]"  # scrubbed at ingest (Sentry's default keys)
    assert p["contexts"]["signup"]["plan"] == "pro"


def test_ingest_scrubs_what_an_sdk_collecting_everything_sends(localsentry_session: LocalSentry) -> None:
    """The dev SDK configuration (collects everything) sending to projects with prod's settings, and with
    configured sensitive and safe fields: the scrubbing is localsentry's, before storage."""
    ls = localsentry_session
    _, dev_env = stack_project(ls, "dev")
    strict, _ = stack_project(ls, "prod", sensitiveFields=["iban"], safeFields=["auth_mode"])
    sent = run(ls, strict, {**dev_env, "SENTRY_DSN": ls.dsn(strict["slug"])})
    e = sent["event"]
    assert "ip_address" not in e["user"] and "REMOTE_ADDR" not in e["request"]["env"]
    assert e["request"]["headers"]["X-Forwarded-For"] == "[ip]"
    assert e["request"]["data"]["password"] == "[Filtered]" and e["request"]["data"]["sku"] == "sku-1"
    assert e["contexts"]["signup"]["iban"] == "[Filtered]"  # a configured sensitive field
    assert e["request"]["data"]["auth_mode"] == "sso"  # a safe field, though "auth" is a default sensitive key
    assert e["request"]["cookies"]["cart_id"] == "cart-42"


def test_relay_rules_on_an_event() -> None:
    event: dict[str, Any] = {
        "user": {"id": "u", "ip_address": IP, "email": "a@example.com"},
        "request": {"cookies": [["sessionid", "abc"], ["theme", "dark"]], "query_string": "token=t&page=2",
                    "headers": {"Authorization": "Bearer x", "Cookie": "csrftoken=1; xsrf=2", "User-Agent": IP},
                    "env": {"REMOTE_ADDR": IP}},
        "extra": {"api_key": "k", "note": f"from {IP}", "nested": {"mysql_pwd": "p", "order_id": "o"}},
        "exception": {"values": [{"value": "password wrong", "stacktrace": {"frames": [
            {"filename": "/home/app/x.py", "vars": {"secret": "s", "n": 1}}]}}]},
        "breadcrumbs": {"values": [{"message": "m", "data": {"auth_header": "x"}}]},
        "sdk": {"name": "sentry.python", "client_ip": IP},
    }
    defaults = Rules(scrub_data=True, scrub_defaults=True, scrub_ip=True, safe=frozenset({"order_id"}))
    assert scrub_event(event, defaults)
    assert "ip_address" not in event["user"] and "client_ip" not in event["sdk"] and event["request"]["env"] == {}
    assert event["request"]["cookies"] == [["sessionid", "[Filtered]"], ["theme", "dark"]]
    assert event["request"]["query_string"] == "token=%5BFiltered%5D&page=2"
    assert event["request"]["headers"]["Authorization"] == "[Filtered]"
    assert event["request"]["headers"]["Cookie"] == "[Filtered]"  # carries xsrf
    assert event["request"]["headers"]["User-Agent"] == IP  # never scrubbed
    assert event["extra"] == {"api_key": "[Filtered]", "note": "from [ip]",
                              "nested": {"mysql_pwd": "[Filtered]", "order_id": "o"}}
    assert event["exception"]["values"][0]["value"] == "password wrong"  # the error value is never scrubbed
    assert event["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"] == {"secret": "[Filtered]", "n": 1}
    assert event["breadcrumbs"]["values"][0]["data"] == {"auth_header": "[Filtered]"}
    off = Rules.of_project({"dataScrubber": False, "dataScrubberDefaults": False, "scrubIPAddresses": False})
    kept: dict[str, Any] = {"extra": {"password": "p"}, "user": {"ip_address": IP}}
    assert not off.active and not scrub_event(kept, off) and kept["extra"]["password"] == "p"
    only_fields = Rules.of_project({"dataScrubber": True, "dataScrubberDefaults": False, "sensitiveFields": ["Card"]})
    custom: dict[str, Any] = {"extra": {"credit_card": "4111", "password": "p"}}
    assert scrub_event(custom, only_fields) and custom["extra"] == {"credit_card": "[Filtered]", "password": "p"}
