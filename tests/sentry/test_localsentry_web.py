"""The web page at `/` in headless Chromium: orgs, projects, keys (secrets masked), events that appear without
a reload."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.localsentry import CHROMIUM_ARGS, LocalSentry

pytestmark = [pytest.mark.sentry, pytest.mark.browser]


@pytest.fixture
def page(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_page_shows_keys_and_new_events_without_reload(localsentry: LocalSentry, page: Any) -> None:
    ls = localsentry
    project = ls.create_project(name="Web Shop", platform="javascript")
    key = ls.keys(project["slug"])[0]
    page.goto(ls.url + "/")
    row = page.locator(f'tr.key[data-key="{key["public"]}"]')
    row.wait_for(timeout=10_000)
    assert row.locator("code.dsn").inner_text() == key["dsn"]["public"]
    content = page.content()
    assert key["secret"] not in content and key["secret"][:4] + "*" * 28 in content
    assert ls.token not in content

    event_id = uuid.uuid4().hex
    body = json.dumps({"event_id": event_id, "message": "shown live", "environment": "browser-test", "release": "w1"})
    data = f'{{"event_id":"{event_id}"}}\n{{"type":"event"}}\n{body}\n'.encode()
    resp = requests.post(f"{ls.url}/api/{project['id']}/envelope/", params={"sentry_key": key["public"]},
                         data=data, timeout=10)  # fmt: skip
    assert resp.status_code == 200
    event = page.locator(f'table.events[data-environment="browser-test"] tr.event[data-event="{event_id}"]')
    event.wait_for(timeout=10_000)  # the page polls every 2 s; no reload
    assert "shown live" in event.inner_text()
