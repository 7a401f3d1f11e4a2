"""Generic fixtures and the localsentry fixtures shared by every tier.

- `localsentry`: a fresh server per test (function scope).
- `localsentry_session`: one server for the session; use `unique_name` for everything you create.
- `chromium`: the Debian chromium binary; skips locally when missing, fails when CI=true.
- every test: it leaves no sentry-sdk client active in the test process (`_no_sentry_client_left`).
- the `schema` marker: tests that need Sentry's published OpenAPI schema (`../shared/sentry-api/` beside the
  repository, or `$SENTRY_API_SCHEMA_DIR`). Without it they all skip with one reason; with CI=true they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sentry_sdk

from localsentry import contract
from tests.support.localsentry import LocalSentry, chromium_path, unique

SCHEMA_MISSING = (
    "Sentry's published OpenAPI schema is not beside the repository (../shared/sentry-api, or set "
    "SENTRY_API_SCHEMA_DIR): the schema contract tests need it"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every `schema`-marked test skips with one reason when the schema is absent (fails in CI instead)."""
    if contract.schema_dir() is not None or _in_ci():
        return
    skip = pytest.mark.skip(reason=SCHEMA_MISSING)
    for item in items:
        if item.get_closest_marker("schema"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _schema_present(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("schema") and contract.schema_dir() is None:
        pytest.fail(f"CI requires it. {SCHEMA_MISSING}")


@pytest.fixture(autouse=True)
def _no_sentry_client_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that makes a sentry-sdk client active in the test process removes it again. A client left behind
    instruments the rest of the session: its stdlib integration adds its own `sentry-trace` and `baggage` headers to
    every request later tests send, so an app under test gets two `sentry-trace` headers where a test set one, and
    the SDK there continues the first (the Django runtime test's sampled parent was ignored). The leaking test fails
    at teardown, and the client is removed so that the tests after it run as they would alone."""
    active_before = sentry_sdk.get_client().is_active()
    yield
    client = sentry_sdk.get_client()
    if active_before or not client.is_active():
        return
    for scope in (sentry_sdk.get_current_scope(), sentry_sdk.get_isolation_scope(), sentry_sdk.get_global_scope()):
        scope.set_client(None)
    client.close()
    pytest.fail(f"{request.node.nodeid} left a sentry-sdk client active in the test process (sentry_sdk.init "
                "without removing it): later tests' requests would carry its trace headers")


@pytest.fixture
def unique_name() -> str:
    return unique("t")


@pytest.fixture
def localsentry(tmp_path: Path) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def localsentry_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentry]:
    server = LocalSentry.start(tmp_path_factory.mktemp("localsentry-session"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "headless Chromium not found: install Debian's package with `apt-get install chromium`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
