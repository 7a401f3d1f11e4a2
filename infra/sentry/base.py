"""What every Sentry resource's provider shares: the client, check() and diff() from the typed inputs, and
the watch on the `pulumi` CLI that started the provider process.

A provider instance carries no state when pickled (``__getstate__`` returns an empty dict): stacks made with the
dynamic providers hold the same small by-reference pickle for every resource of a class, and nothing read in
``configure()`` (the token above all) can ever reach the state file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ResourceProvider

from infra import cli_watch, provider_errors
from infra.sentry import recovery
from infra.sentry.client import SentryClient, connection_from_config
from infra.sentry.errors import SentryConfigError, SentryError
from infra.sentry.shape import SentryModel, changes, check_props, fields_of, parse_state
from infra.unknown import is_unknown, split_unknown

I = TypeVar("I", bound=SentryModel)  # noqa: E741

PROVIDER_KEY = "__provider"


def declared(props: Mapping[str, Any]) -> dict[str, Any]:
    """`props` without ``__provider`` and without None values."""
    return {k: v for k, v in props.items() if k != PROVIDER_KEY and v is not None}


def watch_cli(interval: float = 0.25) -> None:
    """End this provider process as soon as the `pulumi` CLI that started it is gone (:mod:`infra.cli_watch`).

    A CLI killed with SIGKILL cannot stop its plugins: the provider would go on creating Sentry objects that no
    state will ever record (seen: up to 20 requests after the kill). Stopping within `interval` keeps what the
    engine journalled as pending close to what happened in Sentry, which the rerun's idempotent creates then
    pick up: under the CLI the create journal is on, and the creates in flight are marked when the CLI dies.
    """
    cli_watch.watch(on_start=recovery.enable, on_gone=recovery.cli_died, interval=interval)


class SentryProvider(ResourceProvider, Generic[I]):
    """Base of the Sentry resources' providers: the client, and check/diff from the typed inputs.

    Each subclass names its typed inputs (``inputs_type``, a :class:`~infra.sentry.shape.SentryModel`) and
    implements create/read/update/delete on Sentry. The same object serves the provider plugin
    (:mod:`infra.provider`, which gives it a client) and, for one release, the state of stacks made with the dynamic
    providers (``pulumi-python:dynamic/sentry:*``, which pickled the class by reference: its module path and name
    must stay).
    """

    inputs_type: type[I]
    #: the token source-map uploads use, when it is not the Sentry token (the plugin sets it from its config)
    upload_token: str | None = None
    #: with a replace, delete the old object before creating the new one (None: whenever it is replaced)
    delete_before_replace: bool | None = False

    # The serialized provider (`__provider` in every dynamic resource's state) holds nothing but the class
    # reference: __getstate__ returns {}, the token reaches configure() from the stack config.
    serialize_as_secret_always = False

    def __init__(self, client: SentryClient | None = None) -> None:
        self._client = client
        self._config_error: SentryConfigError | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def configure(self, req: ConfigureRequest) -> None:
        """The dynamic provider's configure (stacks made before the provider plugin)."""
        provider_errors.install((SentryError,))  # errors reach the CLI as their one-line message
        watch_cli()
        try:
            self._client, self._config_error = SentryClient(connection_from_config(req.config)), None
        except SentryConfigError as exc:
            self._client, self._config_error = None, exc

    @property
    def client(self) -> SentryClient:
        client: SentryClient | None = getattr(self, "_client", None)
        if client is None:
            error = getattr(self, "_config_error", None)
            raise error or SentryConfigError("the Sentry provider was used before it was configured")
        return client

    @property
    def configured_for_sentry_io(self) -> bool | None:
        """True/False when the connection is known, None when it is not configured."""
        client: SentryClient | None = getattr(self, "_client", None)
        return None if client is None else client.connection.is_sentry_io

    # ------------------------------------------------------------------- typed inputs

    def inputs(self, props: Mapping[str, Any]) -> I:
        """`props` (checked inputs, or a stored state) as the typed inputs."""
        return parse_state(self.inputs_type, props)

    def problems(self, inputs: I) -> list[tuple[str, str]]:
        """What only this provider can tell about valid inputs (e.g. the Sentry it talks to); default none."""
        return []

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """The declared inputs, checked against their types (a value unknown in preview is not checked)."""
        names = {key for _n, key, _i, _m in fields_of(self.inputs_type)}
        inputs = {k: v for k, v in news.items() if k in names and v is not None}
        failures = check_props(self.inputs_type, inputs)
        if not failures:
            failures = self.problems(self.inputs(inputs))
        return CheckResult(inputs, [CheckFailure(prop, reason) for prop, reason in failures])

    def changed(self, olds: dict[str, Any], news: dict[str, Any], found: list[str],
                replaces: list[str]) -> tuple[list[str], list[str]]:
        """Rules of this resource's diff beyond comparing each declared field (default: none)."""
        return found, replaces

    def changes(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[list[str], list[str]]:
        """(changed, replaced) properties: each declared field of `news` against the stored state, as its
        declaration compares it, then this resource's own rules."""
        found, replaces = changes(self.inputs_type, olds, news)
        return self.changed(olds, news, found, replaces)

    def replaces_first(self, replaces: list[str]) -> bool:
        """Whether a replacement deletes the old object before creating the new one."""
        return bool(replaces) if self.delete_before_replace is None else self.delete_before_replace

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        found, replaces = self.changes(olds, news)
        return DiffResult(changes=bool(found), replaces=replaces, delete_before_replace=self.replaces_first(replaces))

__all__ = ["PROVIDER_KEY", "SentryProvider", "declared", "is_unknown", "split_unknown"]
