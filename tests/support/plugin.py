"""The sentrystacks provider plugin as the engine runs it: the real process (the venv's console script), over gRPC.

:class:`Plugin` starts ``pulumi-resource-sentrystacks``, reads the port it prints and calls its ResourceProvider
methods with plain values (marshalled as the engine marshals them), so the sentry tier drives the very code the
CLI drives. A call the plugin refuses raises :class:`PluginError` with the gRPC details (what the CLI would show).
``Plugin(..., under_cli=True)`` starts it below a process named ``pulumi`` (a shell), as the CLI does: the plugin
then keeps its create journal (infra/cli_watch.py finds its CLI by that name); :meth:`Plugin.interrupt` ends it as
the engine does (SIGINT) and :meth:`Plugin.finish` gives its exit code and stderr.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime import proto
from pulumi.runtime.proto import provider_pb2_grpc

from infra.provider.values import plain_map, to_map
from tests.support.localsentry import LocalSentry

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "venv" / "bin" / "pulumi-resource-sentrystacks"


class PluginError(Exception):
    """The plugin answered a call with an error: `details` is what the CLI would print."""

    def __init__(self, code: Any, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


def urn(kind: str, name: str, stack: str = "test") -> str:
    return f"urn:pulumi:{stack}::plugin-test::sentrystacks:index:{kind}::{name}"


def _marshal(values: dict[str, Any], secrets: tuple[str, ...] = ()) -> Any:
    return PropertyValue.marshal_map(to_map(values, secrets))


class Plugin:
    """One plugin process and a stub on its port."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None, *, under_cli: bool = False) -> None:
        argv = [str(PLUGIN), "127.0.0.1:1"]
        if under_cli:  # `pulumi -c '"$@"; exit $?' pulumi <plugin>`: a shell named pulumi waits for the plugin
            cli = cwd / "cli" / "pulumi"
            cli.parent.mkdir(parents=True, exist_ok=True)
            cli.symlink_to(shutil.which("sh") or "/bin/sh")
            argv = [str(cli), "-c", '"$@"; exit $?', "pulumi", *argv]
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        port = self.proc.stdout.readline().strip()
        if not port.isdigit():
            self.proc.kill()
            error = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"the plugin printed no port: {port!r} {error}")
        #: the plugin's own process (the shell's child under the "CLI")
        self.pid = self.proc.pid
        if under_cli:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children", encoding="ascii") as handle:
                self.pid = int(handle.read().split()[0])
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def interrupt(self) -> None:
        """End the plugin as the engine ends it at the end of a command: SIGINT."""
        os.kill(self.pid, signal.SIGINT)

    def finish(self, timeout: float = 15) -> tuple[int, str]:
        """Wait for the plugin to exit: its exit code and what it wrote to stderr."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        finally:
            self.channel.close()
        return self.proc.returncode, err

    def close(self) -> None:
        self.channel.close()
        if self.pid != self.proc.pid and self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.kill()
        self.proc.wait(timeout=10)

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as exc:
            raise PluginError(exc.code(), exc.details()) from None

    def version(self) -> str:
        from google.protobuf import empty_pb2

        return str(self._call("GetPluginInfo", empty_pb2.Empty()).version)

    def schema(self) -> str:
        return str(self._call("GetSchema", proto.GetSchemaRequest(version=0)).schema)

    def check_config(self, news: dict[str, Any]) -> list[tuple[str, str]]:
        answer = self._call("CheckConfig", proto.CheckRequest(
            urn="urn:pulumi:test::plugin-test::pulumi:providers:sentrystacks::p", olds=_marshal({}),
            news=_marshal(news)))
        return [(f.property, f.reason) for f in answer.failures]

    def diff_config(self, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        return self._call("DiffConfig", proto.DiffRequest(
            urn="urn:pulumi:test::plugin-test::pulumi:providers:sentrystacks::p", id="p", olds=_marshal(olds),
            news=_marshal(news)))

    def invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        """A provider function's answer as plain values (``return``; failures raise as an error would)."""
        answer = self._call("Invoke", proto.InvokeRequest(tok=token, args=_marshal(args)))
        assert not answer.failures, answer.failures
        return plain_map(PropertyValue.unmarshal_map(getattr(answer, "return")))

    def configure(self, args: dict[str, Any]) -> Any:
        return self._call("Configure", proto.ConfigureRequest(args=_marshal(args, ("token", "uploadToken")),
                                                              acceptSecrets=True))

    def check(self, kind: str, news: dict[str, Any], olds: dict[str, Any] | None = None) -> tuple[dict[str, Any],
                                                                                                 list[tuple[str, str]]]:
        answer = self._call("Check", proto.CheckRequest(urn=urn(kind, "x"), olds=_marshal(olds or {}),
                                                        news=_marshal(news)))
        failures = [(f.property, f.reason) for f in answer.failures]
        return plain_map(PropertyValue.unmarshal_map(answer.inputs)), failures

    def diff(self, kind: str, id_: str, olds: dict[str, Any], news: dict[str, Any],
             old_inputs: dict[str, Any] | None = None) -> Any:
        return self._call("Diff", proto.DiffRequest(urn=urn(kind, "x"), id=id_, olds=_marshal(olds),
                                                    news=_marshal(news), old_inputs=_marshal(old_inputs or {})))

    def create(self, kind: str, news: dict[str, Any]) -> tuple[str, dict[str, PropertyValue]]:
        answer = self._call("Create", proto.CreateRequest(urn=urn(kind, "x"), properties=_marshal(news)))
        return answer.id, PropertyValue.unmarshal_map(answer.properties)

    def read(self, kind: str, id_: str, state: dict[str, Any]) -> Any:
        return self._call("Read", proto.ReadRequest(urn=urn(kind, "x"), id=id_, properties=_marshal(state)))

    def update(self, kind: str, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, PropertyValue]:
        answer = self._call("Update", proto.UpdateRequest(urn=urn(kind, "x"), id=id_, olds=_marshal(olds),
                                                          news=_marshal(news)))
        return PropertyValue.unmarshal_map(answer.properties)

    def delete(self, kind: str, id_: str, state: dict[str, Any]) -> None:
        self._call("Delete", proto.DeleteRequest(urn=urn(kind, "x"), id=id_, properties=_marshal(state)))


@pytest.fixture
def plugin_on_localsentry(localsentry: LocalSentry, tmp_path: Path) -> Iterator[Plugin]:
    """A plugin process configured for the test's localsentry (use as ``plugin = plugin_on_localsentry``)."""
    running = Plugin(tmp_path)
    running.configure({"baseUrl": localsentry.url, "organization": localsentry.org, "token": localsentry.token})
    try:
        yield running
    finally:
        running.close()


__all__ = ["PLUGIN", "Plugin", "PluginError", "plugin_on_localsentry", "urn"]
