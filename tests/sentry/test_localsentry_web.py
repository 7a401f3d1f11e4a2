"""The web page at `/` in headless Chromium, fed by the real sentry-sdk: projects and keys (secrets masked),
issues per project and environment, an event with its stack trace (in-app frames first, context lines),
breadcrumbs, tags, user and request, a trace as a span waterfall, a live log tail and cron check-ins; every
view updates without a reload.

Each test saves a screenshot in its tmp dir; with `LOCALSENTRY_SCREENSHOTS=DIR` also into DIR (that is how
`localsentry/docs/*.png` for the README are made).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.localsentry import CHROMIUM_ARGS, LocalSentry

pytestmark = [pytest.mark.sentry, pytest.mark.browser]

SHOP = r"""
import logging, sys, time
import sentry_sdk
from sentry_sdk import logger, traces
from sentry_sdk.integrations.stdlib import StdlibIntegration

sentry_sdk.init(trace_lifecycle="stream", traces_sample_rate=1.0, enable_logs=True,
                disabled_integrations=[StdlibIntegration()])
log = logging.getLogger("shop")
log.setLevel(logging.INFO)


def price_of(cart):
    total = 0
    for item in cart:
        total += item["price"] * item["quantity"]
    return total


def checkout(cart, coupon):
    total = price_of(cart)
    discount = total / coupon["percent"]
    return total - discount


def request_data(event, hint):
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)", "Content-Type": "application/json"}
    event["request"] = {"method": "POST", "url": "https://shop.example.com/checkout?step=pay", "headers": headers,
                        "data": {"coupon": "SPRING"}}
    return event


with traces.start_span(name="POST /checkout", attributes={"sentry.op": "http.server"}) as root:
    trace_id = root.trace_id
    with traces.start_span(name="SELECT * FROM carts WHERE id = %s", attributes={"sentry.op": "db"}):
        time.sleep(0.03)
    with traces.start_span(name="GET coupon:SPRING", attributes={"sentry.op": "cache.get"}):
        time.sleep(0.01)
    with traces.start_span(name="price", attributes={"sentry.op": "function"}):
        with traces.start_span(name="tax rules", attributes={"sentry.op": "function"}):
            time.sleep(0.02)
    logger.info("checkout started for cart {cart}", cart=42)
    logger.warning("coupon {code} is expiring", code="SPRING")
    sentry_sdk.add_breadcrumb(category="ui.click", message="button#pay", level="info")
    sentry_sdk.add_breadcrumb(category="http", level="info",  # one long unbroken value: the page must still fit
                              data={"url": "https://shop.example.com/pay?token=" + "a1b2c3" * 60, "status_code": 200})
    log.info("cart 42 has 2 items")
    sentry_sdk.set_tag("payment.provider", "stripe")
    sentry_sdk.set_user({"id": "42", "email": "ada@example.com", "username": "ada"})
    sentry_sdk.get_isolation_scope().add_event_processor(request_data)
    for _ in range(2):
        try:
            checkout([{"price": 20, "quantity": 2}], {"percent": 0})
        except ZeroDivisionError as exc:
            sentry_sdk.capture_exception(exc)
    logger.error("payment failed for cart {cart}", cart=42)
config = {"schedule": {"type": "interval", "value": 1, "unit": "hour"}, "checkin_margin": 5}
with sentry_sdk.monitor(monitor_slug="nightly-invoices", monitor_config=config):
    pass
try:
    with sentry_sdk.monitor(monitor_slug="nightly-invoices"):
        raise RuntimeError("invoice run failed")
except RuntimeError:
    pass
sentry_sdk.flush(timeout=10)
print(trace_id)
"""


@pytest.fixture
def page(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


@pytest.fixture(scope="module")
def shop(localsentry_session: LocalSentry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A project with what the real sentry-sdk sends from a checkout that fails twice (in a file, so frames have
    context lines)."""
    ls = localsentry_session
    project = ls.create_project(name="Web Shop", platform="python")
    script = tmp_path_factory.mktemp("shop") / "shop.py"
    script.write_text(SHOP)
    env = dict(os.environ, SENTRY_DSN=ls.dsn(project["slug"]), SENTRY_ENVIRONMENT="staging",
               SENTRY_RELEASE="shop@4.2.0")  # fmt: skip
    # run from the script's folder: the SDK marks frames under the working directory as in-app
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=90,
                          cwd=script.parent, check=True)  # fmt: skip
    ls.wait_items(project["slug"], 2, type="event")
    return {"project": project, "trace": done.stdout.strip().splitlines()[-1]}


def screenshot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("LOCALSENTRY_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def send(ls: LocalSentry, project: dict[str, Any], header: dict[str, Any], payload: dict[str, Any]) -> None:
    key = ls.keys(str(project["slug"]))[0]
    data = "\n".join(json.dumps(p) for p in ({}, header, payload)).encode()
    resp = requests.post(f"{ls.url}/api/{project['id']}/envelope/", params={"sentry_key": key["public"]},
                         data=data, timeout=10)  # fmt: skip
    assert resp.status_code == 200, resp.text


def test_page_shows_keys_and_new_events_without_reload(
    localsentry_session: LocalSentry, shop: dict[str, Any], page: Any, tmp_path: Path
) -> None:
    ls, project = localsentry_session, shop["project"]
    key = ls.keys(project["slug"])[0]
    page.goto(ls.url + "/")
    row = page.locator(f'tr.key[data-key="{key["public"]}"]')
    row.wait_for(timeout=10_000)
    assert row.locator("code.dsn").inner_text() == key["dsn"]["public"]
    content = page.content()
    assert key["secret"] not in content and key["secret"][:4] + "*" * 28 in content
    assert ls.token not in content
    event_id = uuid.uuid4().hex
    send(ls, project, {"type": "event"}, {"event_id": event_id, "message": "shown live", "environment": "browser-test"})
    event = page.locator(f'table.events[data-environment="browser-test"] tr.event[data-event="{event_id}"]')
    event.wait_for(timeout=10_000)  # the page polls every 2 s; no reload
    assert "shown live" in event.inner_text()
    headers = page.locator('table.events[data-environment="browser-test"] th').all_inner_texts()
    assert [h.strip() for h in headers] == ["Received", "Type", "Event", "Release"]
    screenshot(page, tmp_path, "projects")


def test_issues_per_project_and_environment(
    localsentry_session: LocalSentry, shop: dict[str, Any], page: Any, tmp_path: Path
) -> None:
    ls, project = localsentry_session, shop["project"]
    page.goto(f"{ls.url}/#/issues/{ls.org}/{project['slug']}?environment=staging")
    row = page.locator("tr.issue", has_text="ZeroDivisionError")
    row.wait_for(timeout=10_000)
    assert row.locator("td.count").inner_text() == "2" and row.locator("td.users").inner_text() == "1"
    assert page.locator('.environments a.active[data-environment="staging"]').count() == 1
    screenshot(page, tmp_path, "issues")
    page.goto(f"{ls.url}/#/issues/{ls.org}/{project['slug']}?environment=production")
    page.locator("main[data-view=issues]").wait_for(timeout=10_000)
    page.wait_for_function("document.querySelectorAll('tr.issue').length === 0", timeout=10_000)
    send(ls, project, {"type": "event"}, {"event_id": uuid.uuid4().hex, "environment": "production", "level": "warning",
                                          "message": "arrives while you look"})  # fmt: skip
    page.locator("tr.issue", has_text="arrives while you look").wait_for(timeout=10_000)  # live


def test_event_with_stack_trace_breadcrumbs_tags_user_request(
    localsentry_session: LocalSentry, shop: dict[str, Any], page: Any, tmp_path: Path
) -> None:
    ls, project = localsentry_session, shop["project"]
    issues = ls.api("GET", f"/api/0/projects/{ls.org}/{project['slug']}/issues/",
                    params={"query": "ZeroDivisionError"}).json()  # fmt: skip
    page.goto(f"{ls.url}/#/issue/{ls.org}/{issues[0]['id']}")
    frames = page.locator(".exception .frames > details.frame")
    frames.first.wait_for(timeout=10_000)
    names = [s.inner_text() for s in page.locator(".exception .frames > details.frame > summary").all()]
    assert names[0].startswith("__main__ in checkout") and names[1].startswith("__main__ in <module>")
    assert page.locator(".exception .frames > details.frame.in-app").count() == len(names)  # in-app frames first
    hit = frames.first.locator(".context .hit")
    assert 'discount = total / coupon["percent"]' in hit.inner_text()
    assert frames.first.locator(".context div").count() > 3  # context lines around it
    crumbs = page.locator("table.breadcrumbs tr.breadcrumb")
    assert any("button#pay" in c.inner_text() for c in crumbs.all())
    assert any("cart 42 has 2 items" in c.inner_text() for c in crumbs.all())
    tags = page.locator("table.tags").inner_text()
    assert "payment.provider" in tags and "stripe" in tags and "shop@4.2.0" in tags
    assert "ada@example.com" in page.locator("table.user").inner_text()
    assert "https://shop.example.com/checkout?step=pay" in page.locator("table.request").inner_text()
    summary = page.locator("main > div.muted").first.inner_text()
    assert "2 events · 1 user · first seen" in summary, summary  # one user, not "1 users"
    assert any("a1b2c3a1b2c3" in c.inner_text() for c in crumbs.all())
    for width in (1280, 800):  # the long breadcrumb wraps: nothing is wider than the window
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, tmp_path, "event")
    page.locator("a.trace-link").click()
    page.locator("main[data-view=trace]").wait_for(timeout=10_000)


def test_trace_as_a_span_waterfall(
    localsentry_session: LocalSentry, shop: dict[str, Any], page: Any, tmp_path: Path
) -> None:
    ls = localsentry_session
    page.goto(f"{ls.url}/#/trace/{ls.org}/{shop['trace']}")
    rows = page.locator(".waterfall .row.span")
    rows.first.wait_for(timeout=10_000)
    assert rows.count() == 5
    assert rows.first.locator(".name").inner_text().startswith("http.server POST /checkout")
    # read the geometry in one go: the page re-renders every 2 s
    layout = page.evaluate("""() => [...document.querySelectorAll('.waterfall .row.span')].map(row => ({
        width: row.querySelector('.bar').getBoundingClientRect().width,
        pad: getComputedStyle(row.querySelector('.name')).paddingLeft}))""")
    widths = [float(r["width"]) for r in layout]
    pads = [r["pad"] for r in layout]
    assert widths[0] == max(widths) and min(widths) > 0  # the root spans the whole trace
    assert pads[0] == "0px" and len(set(pads)) == 3  # root, children, grandchild
    assert page.locator("table.trace-errors tr").count() == 2  # the two errors raised inside the trace
    screenshot(page, tmp_path, "trace")


def test_live_log_tail(localsentry_session: LocalSentry, shop: dict[str, Any], page: Any, tmp_path: Path) -> None:
    ls, project = localsentry_session, shop["project"]
    page.goto(f"{ls.url}/#/logs/{ls.org}/{project['slug']}")
    lines = page.locator(".logs .line.log")
    lines.first.wait_for(timeout=10_000)
    # sentry_sdk.logger lines and the stdlib logger's record (the logging integration sends it as a log too)
    assert [line.locator(".sev").inner_text() for line in lines.all()] == ["info", "warn", "info", "error"]
    assert "payment failed for cart 42" in lines.last.inner_text()
    send(ls, project, {"type": "log", "item_count": 1, "content_type": "application/vnd.sentry.items.log+json"},
         {"version": 2, "items": [{"timestamp": time.time(), "level": "info", "body": "tailed live",
                                   "trace_id": uuid.uuid4().hex}]})  # fmt: skip
    page.locator(".logs .line.log", has_text="tailed live").wait_for(timeout=10_000)
    assert lines.count() == 5
    screenshot(page, tmp_path, "logs")


def test_cron_checkins(localsentry_session: LocalSentry, shop: dict[str, Any], page: Any, tmp_path: Path) -> None:
    ls = localsentry_session
    page.goto(f"{ls.url}/#/crons")
    row = page.locator('tr.monitor[data-monitor="nightly-invoices"]')
    row.wait_for(timeout=10_000)
    assert [c.get_attribute("class") for c in row.locator(".checkins span").all()] == ["checkin error", "checkin ok"]
    assert "staging" in row.inner_text() and "error" in row.inner_text()
    screenshot(page, tmp_path, "crons")
