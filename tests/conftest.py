"""Generic fixtures and the localsentry fixtures shared by every tier.

- `localsentry`: a fresh server per test (function scope).
- `localsentry_session`: one server for the session; use `unique_name` for everything you create.
- `chromium`: the Debian chromium binary; skips locally when missing, fails when CI=true.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.localsentry import LocalSentry, chromium_path, unique


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
