"""Generic fixtures and the localsentry fixtures shared by every tier.

- `localsentry`: a fresh server per test (function scope).
- `localsentry_session`: one server for the session; use `unique_name` for everything you create.
- `chromium`: the Debian chromium binary; skips locally when missing, fails when CI=true.
- the `schema` marker: tests that need Sentry's published OpenAPI schema (`../shared/sentry-api/` beside the
  repository, or `$SENTRY_API_SCHEMA_DIR`). Without it they all skip with one reason; with CI=true they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

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
