"""The SvelteKit frontend's Sentry flow in Chromium, shared by the image test and the stack test.

`check_login_flow()` logs in as the backend's demo user (a Django session), then checks in the given
localsentry: the button's error arrives in the frontend project with the logged-in user, environment and
release; a backend error reached through the page carries the page's trace id; the error flushes a
replay (the stacks' replaysOnErrorSampleRate is 1.0); a failing server `load` arrives from Node with the
same user; after logout the backend forgets the session and the page's events carry no username; the
page's and the server's `Sentry.logger` lines arrive (enableLogs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.localsentry import CHROMIUM_ARGS, DESKTOP_UA, LocalSentry

ME = "fetch(window.__sentryStacks.backendUrl + '/api/auth/me/', {credentials: 'include'}).then(r => r.json())"


@dataclass
class FrontendTarget:
    url: str
    sentry: LocalSentry
    project: str
    backend_project: str
    environment: str
    release: str
    user_info: bool  # dataCollection userInfo: the username goes to Sentry only then
    logs: Callable[[], str]


def wait_for(predicate: Callable[[], Any], what: str, target: FrontendTarget, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what} did not arrive\n{target.logs()}")


def _events(target: FrontendTarget, project: str) -> list[dict[str, Any]]:
    items = target.sentry.items(project, type="event", environment=target.environment)
    return [i["payload"] for i in items]


def _exception_type(event: dict[str, Any]) -> str | None:
    values = (event.get("exception") or {}).get("values") or []
    return str(values[-1]["type"]) if values else None


def check_login_flow(playwright: Any, chromium: str, target: FrontendTarget, run: str) -> None:
    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(user_agent=DESKTOP_UA)
        page.goto(f"{target.url}/?user={run}")
        page.wait_for_selector("body[data-ready=true]")
        # a real login: the backend's Django session, the page's and the Node server's Sentry user
        page.fill("#username", "demo")
        page.fill("#password", "demo-password")
        page.click("#login-submit")
        page.wait_for_selector("#logged-in")
        assert page.text_content("#logged-in") == "demo"
        me = page.evaluate(ME)
        assert me["user"]["username"] == "demo", me
        demo_id = me["user"]["id"]

        # a backend error reached through the page, then the page's own error: one trace
        page.click("#backend-error")
        page.wait_for_function("document.getElementById('status').textContent.includes('500')")
        page.click("#test-sentry")
        front = wait_for(
            lambda: [e for e in _events(target, target.project)
                     if (e.get("user") or {}).get("id") == demo_id
                     and "Sentry Stacks frontend test error" in str(e.get("exception"))],
            "the logged-in button error", target,
        )[-1]  # fmt: skip
        assert (front["environment"], front["release"]) == (target.environment, target.release)
        assert front["user"].get("username") == ("demo" if target.user_info else None), front["user"]
        trace_id = front["contexts"]["trace"]["trace_id"]
        back = wait_for(
            lambda: [e for e in _events(target, target.backend_project)
                     if _exception_type(e) == "ZeroDivisionError" and e["contexts"]["trace"]["trace_id"] == trace_id],
            "the backend error in the page's trace", target,
        )  # fmt: skip
        assert back[0]["user"]["id"] == demo_id  # the backend's user: from its session

        # replaysOnErrorSampleRate 1.0: the error flushes the buffered replay
        replays = wait_for(
            lambda: [r for r in target.sentry.items(target.project, type="replay_event")
                     if r["payload"].get("environment") == target.environment],
            "a replay of the page", target, timeout=60,
        )  # fmt: skip
        assert replays

        # a server load that fails: an event from Node, with the user the server saw (cookies)
        response = page.goto(f"{target.url}/fail?tag={run}")
        assert response is not None and response.status == 500
        server = wait_for(
            lambda: [e for e in _events(target, target.project)
                     if f"server load error {run}" in str(e.get("exception"))],
            "the failing server load", target,
        )[0]  # fmt: skip
        assert server.get("platform") == "node", server.get("platform")
        assert server["user"]["id"] == demo_id
        assert server["user"].get("username") == ("demo" if target.user_info else None), server["user"]
        assert (server["environment"], server["release"]) == (target.environment, target.release)

        # logout: the session ends on the backend, and the page's user is anonymous again
        page.goto(f"{target.url}/")
        page.wait_for_selector("body[data-ready=true]")
        page.click("#logout")
        page.wait_for_selector("#login")
        assert page.evaluate(ME) == {"user": None}
        message_id = str(page.evaluate(f"window.__sentryStacks.captureMessage('{run}-after-logout')"))
        anonymous = wait_for(
            lambda: [e for e in _events(target, target.project)
                     if (e.get("event_id") or "").replace("-", "") == message_id.replace("-", "")],
            "the message after logout", target,
        )[0]  # fmt: skip
        assert anonymous["user"]["id"] == run and "username" not in anonymous["user"]
    finally:
        browser.close()
    # enableLogs on both sides: the page's login line and the server load's line arrive as log items
    def logs(text: str) -> list[dict[str, Any]]:
        return [i for i in target.sentry.items(target.project, type="log") if text in str(i["payload"])]

    wait_for(lambda: logs("demo login"), "the page's log", target)
    wait_for(lambda: [i for i in logs("demo server load fails on purpose") if run in str(i["payload"])],
             "the server's log", target)
