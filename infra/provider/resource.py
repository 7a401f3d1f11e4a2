"""The stack's explicit ``sentrystacks`` provider, registered as the program's first step (light to import).

The engine starts a provider plugin only when the program registers its provider, and the Python SDK sends a
registration only when the program lets its event loop run. Registered after the program had imported the toolkit
and loaded its settings, the plugin then started (about 0.5 s: Python, Pulumi's SDK, the Sentry models) while every
Sentry object of the program waited for it. :func:`start` registers the provider before any of that, from the stack's
``sentry:`` config alone, and lets the loop send the registration, so the plugin starts while the program is still
loading (``infra.program`` calls it as it is imported by the program; ``bench/scale.py`` measures it). It does so in
a preview, which changes nothing: an ``up`` of settings that turn out wrong must leave nothing in the stack's state.

What the preflight checks depends on the settings, so it is no longer a provider input the toolkit sets: the program
asks for it once its settings are loaded, by the provider's ``checkConnection`` function (infra/program.py,
:func:`infra.provider.plugin.SentryStacksProvider.invoke`). The provider's inputs name the toolkit's settings namespace
instead, so its messages name the stack's ``sentry:*`` keys (:class:`infra.provider.config.ProviderConfig`).

This module imports Pulumi's SDK and nothing of the toolkit's models.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime.proto import resource_pb2_grpc

PACKAGE = "sentrystacks"
#: the provider's function that checks the Sentry connection for what the program will do (the preflight)
CHECK_CONNECTION = f"{PACKAGE}:index:checkConnection"
#: how long :func:`start` lets the event loop run: the registration is on its way in about 10 ms
DISPATCH_SECONDS = 0.05

_early: list[SentryStacks] = []  # the provider start() registered (one per program)


class SentryStacks(pulumi.ProviderResource):
    """The explicit ``sentrystacks`` provider of a stack: its Sentry connection from the stack's ``sentry:`` config
    (each value as the stack file has it, None when it has none: the provider then takes the environment's, or the
    embedded localsentry's) and the settings namespace its messages name."""

    def __init__(self, resource_name: str, *, base_url: str | None, organization: str | None,
                 token: pulumi.Input[str] | None, workers: int | None = None,
                 upload_token: pulumi.Input[str] | None = None, namespace: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "baseUrl": base_url, "organization": organization,
            "token": pulumi.Output.secret(token) if token is not None else None,
            "uploadToken": pulumi.Output.secret(upload_token) if upload_token is not None else None,
            # non-string provider inputs go JSON-encoded, as Pulumi's generated SDKs send them
            "workers": str(workers) if workers is not None else None,
            "namespace": namespace,
        }
        super().__init__(PACKAGE, resource_name, props, opts)
        self.namespace = namespace


def stack_provider(namespace: str) -> SentryStacks:
    """The stack's provider (``<stack>-sentrystacks``), from its ``sentry:`` config (the token as a secret: only the
    provider reads it): the one :func:`start` registered, if it did."""
    if _early and _early[0].namespace == namespace:
        return _early[0]
    config = pulumi.Config("sentry")
    made = SentryStacks(f"{pulumi.get_stack()}-sentrystacks", base_url=config.get("baseUrl"),
                        organization=config.get("organization"), token=config.get_secret("token"),
                        upload_token=config.get_secret("uploadToken"), namespace=namespace)
    return made


def engine_attached() -> bool:
    """Whether this process is a program run by the engine (not a test with Pulumi's mocks, nor a script)."""
    return isinstance(sdk_settings.get_monitor(), resource_pb2_grpc.ResourceMonitorStub)


def start() -> bool:
    """Register the stack's provider now and let the registration go out, so that the engine starts the plugin while
    the program goes on loading. Only in a preview of a program the engine runs (True when it registered it): an
    update registers it once the settings are known to be valid, so that a stack whose settings are wrong gets
    nothing in its state, not even a provider (tests/e2e/test_settings_cli.py)."""
    if not engine_attached() or _early or not pulumi.runtime.is_dry_run():
        return False
    _early.append(stack_provider(pulumi.get_project()))
    try:  # the SDK's own way to let its loop run from synchronous code (what a synchronous invoke does)
        from pulumi.runtime.sync_await import _sync_await
    except ImportError:  # an SDK without it: the registration goes out when the loop next runs, later
        return True
    _sync_await(asyncio.sleep(DISPATCH_SECONDS))
    return True


__all__ = [
    "CHECK_CONNECTION",
    "DISPATCH_SECONDS",
    "PACKAGE",
    "SentryStacks",
    "engine_attached",
    "stack_provider",
    "start",
]
