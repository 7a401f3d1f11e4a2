"""infra/sdk_debug.py: the SDK's debug messages reach the engine only when SENTRY_STACKS_SDK_DEBUG asks for them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi import log
from pulumi.runtime import settings
from pulumi.runtime.proto import engine_pb2

from infra.sdk_debug import DEBUG_ENV, SDK_DEBUG, _dropped, quiet, wanted


class Engine:
    """The engine's Log endpoint, keeping what the program sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    def Log(self, request: Any) -> None:
        self.sent.append((request.severity, request.message))


@pytest.fixture
def engine() -> Iterator[Engine]:
    original_debug, original_engine = log.debug, settings.SETTINGS.engine
    if log.debug is _dropped:  # a program test of this process ran quiet() already: start from the SDK's own
        log.debug = SDK_DEBUG[0]
    fake = Engine()
    settings.SETTINGS.engine = fake
    try:
        yield fake
    finally:
        log.debug, settings.SETTINGS.engine = original_debug, original_engine


def test_debug_messages_are_dropped_and_the_others_sent(engine: Engine) -> None:
    log.debug("before")
    assert quiet({}) and quiet({}), "a second call changes nothing"
    log.debug("Registering resource: t=sentrystacks:index:Project")
    log.info("an info")
    log.warn("a warning")
    assert engine.sent == [(engine_pb2.DEBUG, "before"), (engine_pb2.INFO, "an info"),
                           (engine_pb2.WARNING, "a warning")]  # fmt: skip


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_debug_messages_are_kept_when_asked_for(engine: Engine, value: str) -> None:
    assert wanted({DEBUG_ENV: value})
    assert not quiet({DEBUG_ENV: value})
    log.debug("Registering resource")
    assert engine.sent == [(engine_pb2.DEBUG, "Registering resource")]


def test_other_values_do_not_ask_for_them() -> None:
    assert not wanted({}) and not wanted({DEBUG_ENV: "0"}) and not wanted({DEBUG_ENV: "no"})
