"""The plugin's gRPC servicer against the SDK's stock one: one test per gap of `pulumi.provider.experimental` (SDK
3.272.0) that infra/provider/server.py works around. Each pair shows the stock behaviour (so an SDK upgrade that
fixes or changes it makes that test fail, and the work-around can go) and ours."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime.proto import provider_pb2_grpc

from infra.provider.plugin import SentryStacksProvider
from infra.provider.server import Servicer
from infra.provider.values import plain, to_map, to_value
from infra.sentry.errors import SentryStateError
from tests.support.plugin import PLUGIN

T = TypeVar("T")
URN = "urn:pulumi:dev::proj::sentry-stacks:index:SentryApp$sentrystacks:index:{kind}::dev-{name}"


class Aborted(Exception):
    def __init__(self, code: Any, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


class Context:
    """What a gRPC handler gets as `context`: here, abort() raises what it was given."""

    async def abort(self, code: Any, details: str) -> None:
        raise Aborted(code, details)


class Stub(p.Provider):
    """A provider with canned answers."""

    def __init__(self, *, changes: bool = True, read_id: str = "", error: Exception | None = None) -> None:
        self.changes, self.read_id, self.error = changes, read_id, error

    async def diff_config(self, request: p.DiffRequest) -> p.DiffResponse:
        return p.DiffResponse(changes=self.changes)

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        return p.ReadResponse(resource_id=self.read_id)

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        assert self.error is not None
        raise self.error


def servicers(provider: p.Provider) -> tuple[ProviderServicer, Servicer]:
    return (ProviderServicer([], "1.0.0", provider, engine_address="127.0.0.1:1"),
            Servicer([], "1.0.0", provider, engine_address="127.0.0.1:1"))


def run(call: Awaitable[T]) -> T:
    """`call` on a loop of its own, leaving the thread's current loop alone (asyncio.run would unset it, and the
    program tier's Pulumi mocks, later in the same process, need one)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(call)
    finally:
        loop.close()


@pytest.mark.filterwarnings("ignore:Field pulumirpc.DiffResponse.changes")  # the stock servicer's bool
@pytest.mark.parametrize(("changes", "stock", "ours"), [
    (True, proto.DiffResponse.DIFF_NONE, proto.DiffResponse.DIFF_SOME),
    (False, proto.DiffResponse.DIFF_UNKNOWN, proto.DiffResponse.DIFF_NONE),
])
def test_diff_config_answers_the_enum_the_engine_reads(changes: bool, stock: int, ours: int) -> None:
    """Stock: the Python bool goes into the enum (True = 1 = DIFF_NONE: a changed config reads as unchanged)."""
    request = proto.DiffRequest(urn="urn:pulumi:dev::p::pulumi:providers:sentrystacks::x", id="1")
    theirs, mine = servicers(Stub(changes=changes))
    assert run(theirs.DiffConfig(request, Context())).changes == stock
    assert run(mine.DiffConfig(request, Context())).changes == ours


def test_read_of_a_gone_object_sends_no_properties() -> None:
    """Stock: an empty property map even for "gone", which `pulumi import` takes for an object that exists."""
    request = proto.ReadRequest(id="acme/404", urn=URN.format(kind="Project", name="x"))
    theirs, mine = servicers(Stub(read_id=""))
    assert run(theirs.Read(request, Context())).HasField("properties")
    answer = run(mine.Read(request, Context()))
    assert not answer.HasField("properties") and not answer.id


def test_errors_reach_the_engine_as_one_line() -> None:
    """Stock: the message with the Python stack appended, which the CLI prints; ours: the message alone for errors
    raised on purpose, and one line for a bug (its traceback in .sentry-stacks/provider-errors.log)."""
    request = proto.CreateRequest(urn=URN.format(kind="Project", name="x"))
    error = SentryStateError("project 'web' already exists in organization 'acme' and this stack did not create it")
    theirs, mine = servicers(Stub(error=error))
    with pytest.raises(Exception) as stock:
        run(theirs.Create(request, Context()))
    assert 'File "' in str(stock.value)
    with pytest.raises(Aborted) as ours:
        run(mine.Create(request, Context()))
    assert ours.value.details == str(error) and "\n" not in ours.value.details


def test_unknowns_go_back_as_the_wire_sentinel() -> None:
    """PropertyValue.computed() cannot be marshalled (stock); an unknown input comes back as the sentinel the
    engine reads as unknown, so check() can return what preview gave it."""
    with pytest.raises(ValueError, match="Unsupported value type"):
        PropertyValue.computed().marshal()
    unknown = plain(PropertyValue.computed())
    marshalled = to_value(unknown).marshal()
    assert marshalled.string_value == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_delete_works_from_the_outputs_alone() -> None:
    """The SDK's DeleteRequest carries no old inputs: a provider decides from the stored outputs (which hold the
    inputs): a shared project is kept on destroy, without any request."""
    provider = SentryStacksProvider()
    outputs = to_map({"slug": "web", "teams": ["t"], "shared": True, "projectId": "1", "organization": "acme"})
    run(provider.delete(p.DeleteRequest(URN.format(kind="Project", name="web"), "acme/1", outputs, timeout=0)))


class Slow:
    """A stand-in for a resource type's provider whose create blocks like a Sentry request."""

    inflight = peak = 0
    lock = threading.Lock()

    def __init__(self, _client: Any = None) -> None:
        self._config_error = None

    def create(self, props: dict[str, Any]) -> Any:
        with Slow.lock:
            Slow.inflight += 1
            Slow.peak = max(Slow.peak, Slow.inflight)
        time.sleep(0.2)
        with Slow.lock:
            Slow.inflight -= 1
        return type("Created", (), {"id": "x", "outs": dict(props)})()


def test_calls_run_on_the_providers_own_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """grpc.aio has no pool for handlers: blocking calls go to the provider's own, `workers` wide (not four, not
    asyncio.to_thread's cpu+4)."""
    from infra.provider import plugin

    kind = plugin.BY_TOKEN["sentrystacks:index:Project"]
    monkeypatch.setitem(plugin.BY_TOKEN, kind.token, type(kind)(kind.name, Slow, kind.state, kind.description))  # type: ignore[arg-type]
    provider = SentryStacksProvider()
    run(provider.configure(p.ConfigureRequest({}, {"baseUrl": PropertyValue("http://127.0.0.1:9"),
                                                   "organization": PropertyValue("acme"),
                                                   "token": PropertyValue("tok-unit", is_secret=True),
                                                   "workers": PropertyValue("12")}, True, False)))

    async def creates() -> None:
        await asyncio.gather(*(provider.create(p.CreateRequest(URN.format(kind="Project", name=str(i)), {}, 0,
                                                               False)) for i in range(30)))

    Slow.peak = 0
    run(creates())
    assert Slow.peak == 12


STOCK_PLUGIN = """
import sys
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.server import main
main(sys.argv[1:], "1.0.0", p.Provider())
"""


def _ended(argv: list[str], sig: int) -> tuple[int, str]:
    """A plugin process that answered one call, ended with `sig`: its exit code and stderr."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), proc.stderr.read() if proc.stderr else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            assert provider_pb2_grpc.ResourceProviderStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=10).version
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
        proc.wait()
    return proc.returncode, err


def test_the_stock_serve_loop_ends_with_event_loop_is_closed() -> None:
    """Stock: the engine's SIGINT (how it ends a plugin after every command) unwinds asyncio.run with the gRPC server
    running; its __del__ then schedules the shutdown on the closed loop, a traceback on stderr."""
    code, err = _ended([sys.executable, "-c", STOCK_PLUGIN, "127.0.0.1:1"], signal.SIGINT)
    assert code == 0 and "RuntimeError: Event loop is closed" in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_plugin_ends_cleanly_on_the_engines_signal(sig: int) -> None:
    """Ours (the real console script): the server is stopped on the loop, exit 0, nothing on stderr."""
    assert _ended([str(PLUGIN), "127.0.0.1:1"], sig) == (0, "")
