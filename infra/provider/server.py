"""The gRPC server of the plugin: the SDK's ``ProviderServicer`` with the fixes this provider needs.

``pulumi.provider.experimental`` (SDK 3.272.0) serves a :class:`~pulumi.provider.experimental.provider.Provider`
over gRPC, with gaps found by experiment (../coord/provider-spike.md, section 0); each fix here has a unit test
(tests/unit/test_provider_server.py) that fails if an SDK upgrade changes the behaviour it relies on:

* **errors**: the stock servicer answers any exception with its Python stack trace appended (``_raise_with_traceback``),
  which the CLI prints. :class:`Servicer` answers one line: the message of the errors a provider raises on purpose
  (:class:`~infra.sentry.errors.SentryError`), and for anything else one line naming the exception, its traceback
  written to ``.sentry-stacks/provider-errors.log`` (:mod:`infra.provider_errors`).
* **Read of an object that is gone**: the stock ``Read`` always sends a (possibly empty) property map, which the
  engine takes for "exists, with no properties": a ``pulumi import`` of an id that does not exist succeeds with an
  empty resource. Here an empty id is answered with no properties at all.
* **DiffConfig**: the stock ``DiffConfig`` puts the Python bool into the enum (``True`` -> 1 = DIFF_NONE, ``False`` ->
  0 = DIFF_UNKNOWN) and reads ``inputDiff`` of a detailed diff (the attribute is ``input_diff``). Here the enum is
  mapped as the resource ``Diff`` maps it, and no detailed diff is sent (the engine shows the inputs' difference).
* **the serve loop**: ``server.main`` hard-codes ``ProviderServicer``; :func:`serve` is the same loop with ours.
* **the shutdown**: the engine ends a plugin with SIGINT (then SIGKILL 5 s later). The stock loop lets the
  KeyboardInterrupt tear ``asyncio.run`` down with the gRPC server still running, whose ``__del__`` then schedules
  its shutdown on the closed loop: a ``RuntimeError: Event loop is closed`` traceback on the plugin's stderr (the
  engine's verbose log), and the calls in flight are dropped. :func:`serve` takes SIGINT/SIGTERM on the loop
  instead, stops the server (the calls in flight have :data:`GRACE` seconds to answer), then awaits the provider's
  ``close()`` (the plugin's requests still running on its thread pool finish and write their create journal lines)
  before the loop closes.

Unknown values are never answered with ``PropertyValue.computed()`` (it cannot be marshalled: ``ValueError:
Unsupported value type``): the plugin sends the wire sentinel instead (:mod:`infra.provider.values`). Blocking calls
run on the provider's own thread pool (the server is ``grpc.aio``, with no pool for handlers).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable
from typing import Any, TypeVar

import grpc
import grpc.aio
from google.protobuf import empty_pb2
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from infra.provider_errors import expect, one_line
from infra.sentry.errors import SentryError

T = TypeVar("T")
#: seconds the calls in flight have to answer once the engine ends the plugin (it kills it 5 s after its SIGINT)
GRACE = 4.0
_unmarshal = PropertyValue.unmarshal_map
_marshal = PropertyValue.marshal_map


def diff_changes(changes: bool | None) -> Any:
    """The engine's DiffResponse.changes enum for a provider's answer (None: it cannot tell)."""
    if changes is None:
        return proto.DiffResponse.DIFF_UNKNOWN
    return proto.DiffResponse.DIFF_SOME if changes else proto.DiffResponse.DIFF_NONE


def _failures(failures: list[p.CheckFailure] | None) -> list[Any]:
    return [proto.CheckFailure(property=f.property, reason=f.reason) for f in failures or []]


class DiffRequest(p.DiffRequest):
    """The SDK's DiffRequest with the resource's old inputs, which the engine sends and the SDK drops (an imported
    resource's inputs hold what the import supplied beside what Sentry gave)."""

    def __init__(self, urn: str, resource_id: str, old_state: dict[str, PropertyValue],
                 new_inputs: dict[str, PropertyValue], ignore_changes: list[str], *,
                 old_inputs: dict[str, PropertyValue] | None = None) -> None:
        super().__init__(urn, resource_id, old_state, new_inputs, ignore_changes)
        self.old_inputs = old_inputs or {}


class Servicer(ProviderServicer):
    """The SDK's servicer with one-line errors, a Read that can say "gone", and a DiffConfig that answers right."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        expect((SentryError,))  # their message is the one line; anything else is a bug, said as such

    async def _answer(self, context: Any, call: Awaitable[T]) -> T:
        try:
            return await call
        except Exception as exc:
            await context.abort(grpc.StatusCode.UNKNOWN, one_line(exc))
            raise  # not reached: abort raises

    async def GetSchema(self, request: Any, context: Any) -> Any:
        resp = await self._answer(context, self._provider.get_schema(p.GetSchemaRequest(request.version)))
        return proto.GetSchemaResponse(schema=resp.schema or "")

    async def _checked(self, check: Any, request: Any, context: Any) -> Any:
        resp = await self._answer(context, check(p.CheckRequest(
            request.urn, _unmarshal(request.olds), _unmarshal(request.news), request.randomSeed)))
        return proto.CheckResponse(inputs=_marshal(resp.inputs) if resp.inputs is not None else None,
                                   failures=_failures(resp.failures))

    async def _diffed(self, diff: Any, request: Any, context: Any) -> Any:
        resp = await self._answer(context, diff(p.DiffRequest(
            request.urn, request.id, _unmarshal(request.olds), _unmarshal(request.news), list(request.ignoreChanges))))
        return proto.DiffResponse(replaces=resp.replaces, stables=resp.stables, changes=diff_changes(resp.changes),
                                  deleteBeforeReplace=resp.delete_before_replace, diffs=resp.diffs)

    async def CheckConfig(self, request: Any, context: Any) -> Any:
        return await self._checked(self._provider.check_config, request, context)

    async def DiffConfig(self, request: Any, context: Any) -> Any:
        return await self._diffed(self._provider.diff_config, request, context)

    async def Configure(self, request: Any, context: Any) -> Any:
        resp = await self._answer(context, self._provider.configure(p.ConfigureRequest(
            dict(request.variables), _unmarshal(request.args), request.acceptSecrets, request.acceptResources)))
        return proto.ConfigureResponse(acceptSecrets=resp.accept_secrets, acceptResources=resp.accept_resources,
                                       acceptOutputs=resp.accept_outputs, supportsPreview=resp.supports_preview)

    async def Check(self, request: Any, context: Any) -> Any:
        return await self._checked(self._provider.check, request, context)

    async def Diff(self, request: Any, context: Any) -> Any:
        resp = await self._answer(context, self._provider.diff(DiffRequest(
            request.urn, request.id, _unmarshal(request.olds), _unmarshal(request.news), list(request.ignoreChanges),
            old_inputs=_unmarshal(request.old_inputs))))
        return proto.DiffResponse(replaces=resp.replaces, stables=resp.stables, changes=diff_changes(resp.changes),
                                  deleteBeforeReplace=resp.delete_before_replace, diffs=resp.diffs)

    async def Invoke(self, request: Any, context: Any) -> Any:
        resp = await self._answer(context, self._provider.invoke(p.InvokeRequest(request.tok,
                                                                                 _unmarshal(request.args))))
        return proto.InvokeResponse(**{"return": _marshal(resp.return_value or {})},
                                    failures=_failures(resp.failures))

    async def Create(self, request: Any, context: Any) -> Any:
        resp = await self._answer(context, self._provider.create(p.CreateRequest(
            request.urn, _unmarshal(request.properties), request.timeout, request.preview)))
        return proto.CreateResponse(id=resp.resource_id or "", properties=_marshal(resp.properties))

    async def Read(self, request: Any, context: Any) -> Any:
        resp = await self._answer(context, self._provider.read(p.ReadRequest(
            request.urn, request.id, _unmarshal(request.properties), _unmarshal(request.inputs))))
        if not resp.resource_id:
            return proto.ReadResponse()  # gone: no properties at all (an empty map would mean "exists")
        return proto.ReadResponse(id=resp.resource_id, properties=_marshal(resp.properties),
                                  inputs=_marshal(resp.inputs))

    async def Update(self, request: Any, context: Any) -> Any:
        resp = await self._answer(context, self._provider.update(p.UpdateRequest(
            request.urn, request.id, _unmarshal(request.olds), _unmarshal(request.news), timeout=request.timeout,
            ignore_changes=list(request.ignoreChanges), preview=request.preview)))
        return proto.UpdateResponse(properties=_marshal(resp.properties))

    async def Delete(self, request: Any, context: Any) -> Any:
        await self._answer(context, self._provider.delete(p.DeleteRequest(
            request.urn, request.id, _unmarshal(request.properties), timeout=request.timeout)))
        return empty_pb2.Empty()


async def start(provider: p.Provider, version: str, engine: str) -> tuple[grpc.aio.Server, int]:
    """A started server for `provider` on a free local port."""
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(
        Servicer(sys.argv[1:], version, provider, engine_address=engine), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


def _on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set `stop` (on the loop: no KeyboardInterrupt)."""
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    except (NotImplementedError, RuntimeError):  # not Unix, or not the main thread: asyncio.run's KeyboardInterrupt
        pass  # (it cancels run(), whose finally still shuts down on the loop)


async def shut_down(server: grpc.aio.Server, provider: p.Provider, grace: float = GRACE) -> None:
    """Stop `server` (no new calls; those in flight have `grace` seconds to answer, the rest are cancelled), then
    the provider's own ``close()``: all of it on the running loop, so nothing is left to schedule on a closed one."""
    await server.stop(grace)
    close = getattr(provider, "close", None)
    if close is not None:
        await close()


def serve(provider: p.Provider, version: str, argv: list[str] | None = None) -> None:
    """Serve `provider` to the engine whose address is the first argument; the port goes to stdout (the engine
    reads it from there). SIGINT or SIGTERM (how the engine ends a plugin) shuts down cleanly (:func:`shut_down`)."""
    parser = argparse.ArgumentParser(description="the sentrystacks Pulumi provider plugin")
    parser.add_argument("engine", help="the Pulumi engine's address")
    engine = parser.parse_known_args(argv)[0].engine

    async def run() -> None:
        stop = asyncio.Event()
        _on_signals(asyncio.get_running_loop(), stop)
        server, port = await start(provider, version, engine)
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        try:
            await stop.wait()  # nothing else ends the server
        finally:
            await shut_down(server, provider)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:  # a signal before the loop took them, or where it cannot
        pass


__all__ = ["GRACE", "DiffRequest", "Servicer", "diff_changes", "serve", "shut_down", "start"]
