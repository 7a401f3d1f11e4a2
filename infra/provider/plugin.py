"""The ``sentrystacks`` resource provider: every Sentry object the toolkit manages, served as a Pulumi plugin.

``pulumi-resource-sentrystacks`` (a console script of this package, found by the engine through ``Pulumi.yaml``'s
``plugins: providers: [{name: sentrystacks, path: venv/bin}]``) runs :func:`main`. Each resource type
(:mod:`infra.provider.kinds`) is served by the same provider object the sentry tier tests drive
(:mod:`infra.sentry`), given plain values (:mod:`infra.provider.values`):

* ``check`` and ``diff`` are pure (no request), answered at once;
* ``create``, ``read``, ``update`` and ``delete`` send Sentry requests: they run on the provider's own thread pool,
  as many at once as the engine sends (``--parallel``) up to the pool's size (``workers``, default 24), and the
  pacer (:mod:`infra.sentry.client`) keeps all of them within what Sentry allows;
* ``invoke`` of ``checkConnection`` runs the preflight of :mod:`infra.sentry.preflight` for what the program will do
  (the toolkit's program asks for it once its settings are loaded, before it declares any Sentry object): one read of
  the organization (and one of the workflow API), in preview and up only; ``check_config`` runs the same check when
  the provider's inputs carry a ``preflight`` (a program that knows what it will do before it makes its provider);
* ``diff_config`` never replaces (a new token or URL is the same Sentry objects), also against the inputs of the
  ``pulumi-python`` provider of a stack made by the dynamic providers;
* ``close`` (at the plugin's shutdown, :func:`infra.provider.server.shut_down`, once the server answers no more
  calls): the requests still running on the pool finish before the event loop closes, so their create journal
  lines are written (:mod:`infra.sentry.recovery`); a create that returns then stays pending, being unanswered.

The token is read in ``configure`` only (explicit provider input, stack config, environment, or the localsentry info
file) and kept in memory; the provider answers with secrets marked secret (DSNs, key secrets).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

from pulumi.provider.experimental import provider as p

from infra.provider.config import Preflight, ProviderConfig, provider_config
from infra.provider.imports import import_read, provider_choices
from infra.provider.kinds import BY_TOKEN, Kind
from infra.provider.resource import CHECK_CONNECTION
from infra.provider.schema import schema
from infra.provider.server import serve
from infra.provider.values import plain, plain_map, secret_keys, to_map
from infra.sentry import recovery
from infra.sentry.base import SentryProvider, watch_cli
from infra.sentry.client import SentryClient, connection_from_values
from infra.sentry.errors import SentryConfigError, SentryError, register_secret
from infra.sentry.preflight import Needs, check_connection
from infra.sentry.shape import check_props, parse_state, secret_outputs

T = TypeVar("T")
#: provider inputs whose change is a change of the provider (never a replacement of its resources)
COMPARED = ("baseUrl", "organization", "token", "uploadToken", "workers")


def plugin_version() -> str:
    try:
        return version("sentry-stacks")
    except PackageNotFoundError:
        return "0.0.0"


def kind_of(urn: str) -> Kind:
    """The resource type of a URN (``urn:pulumi:<stack>::<project>::<parent types$>type::<name>``)."""
    token = urn.split("::")[2].rsplit("$", 1)[-1] if urn.count("::") >= 3 else urn
    kind = BY_TOKEN.get(token)
    if kind is None:
        raise SentryConfigError(f"the sentrystacks provider has no resource type {token!r}")
    return kind


class SentryStacksProvider(p.Provider):
    """The provider plugin: dispatch to the resource types' providers, a thread pool for their requests."""

    def __init__(self) -> None:
        self._client: SentryClient | None = None
        self._config = ProviderConfig()
        self._error: SentryConfigError | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._retired: list[ThreadPoolExecutor] = []  # the pools of earlier configures, closed with the last one
        self._providers: dict[str, SentryProvider[Any]] = {}
        self._upload_token: str | None = None

    # ------------------------------------------------------------------- the provider itself

    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        return p.GetSchemaResponse(schema=json.dumps(schema(plugin_version())))

    async def check_config(self, request: p.CheckRequest) -> p.CheckResponse:
        news = plain_map(request.new_inputs)
        failures = [p.CheckFailure(prop, reason) for prop, reason in check_props(ProviderConfig, {
            k: v for k, v in provider_config(news).model_dump(by_alias=True).items() if v is not None})]
        config = provider_config(news)
        if not failures and config.preflight is not None:
            problem = await asyncio.get_running_loop().run_in_executor(None, self._preflight, config, config.preflight)
            if problem:
                failures.append(p.CheckFailure("", problem))
        return p.CheckResponse(inputs=request.new_inputs, failures=failures)

    @staticmethod
    def _preflight(config: ProviderConfig, flight: Preflight) -> str | None:
        """One read of the organization (and of the workflow API when asked): None, or the one-line problem."""
        try:
            values = config.connection()
            check_connection(connection_from_values(values), values, Needs(
                team=flight.team, alerts=flight.alerts, releases=flight.releases, workflows=flight.workflows,
                namespace=flight.namespace))
        except SentryError as exc:
            return str(exc)
        return None

    async def invoke(self, request: p.InvokeRequest) -> p.InvokeResponse:
        """``checkConnection`` (the preflight a program asks for once it knows what it will do): ``problem``, the
        one-line problem, or nothing when Sentry can take the program's objects."""
        if request.tok != CHECK_CONNECTION:
            raise SentryConfigError(f"the sentrystacks provider has no function {request.tok!r} (it has"
                                    f" {CHECK_CONNECTION})")
        args = plain_map(request.args)
        wrong = check_props(Preflight, args)
        if wrong:
            raise SentryConfigError(f"{CHECK_CONNECTION}: " + "; ".join(f"{prop}: {reason}" for prop, reason in wrong))
        flight = parse_state(Preflight, args)
        problem = await asyncio.get_running_loop().run_in_executor(None, self._preflight, self._config, flight)
        return p.InvokeResponse(return_value=to_map({"problem": problem}))

    async def diff_config(self, request: p.DiffRequest) -> p.DiffResponse:
        olds, news = plain_map(request.old_state), plain_map(request.new_inputs)
        changed = [k for k in COMPARED if olds.get(k) != news.get(k)]
        return p.DiffResponse(changes=bool(changed), diffs=changed)  # never replaces

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        watch_cli()  # under the CLI: the create journal, and stop at once when a killed CLI leaves us behind
        config = self._config = provider_config(plain_map(request.args), request.variables)
        try:
            self._client, self._error = SentryClient(connection_from_values(config.connection())), None
        except SentryConfigError as exc:  # said on the first use: a refresh of nothing needs no Sentry
            self._client, self._error = None, exc
        self._upload_token = (config.upload_token or "").strip() or None
        register_secret(self._upload_token)
        if self._pool is not None:
            self._retired.append(self._pool)
        self._pool = ThreadPoolExecutor(max_workers=config.pool_size(), thread_name_prefix="sentry")
        self._providers = {}
        return p.ConfigureResponse(accept_secrets=True, supports_preview=False, accept_resources=False)

    def provider(self, kind: Kind) -> SentryProvider[Any]:
        found = self._providers.get(kind.name)
        if found is None:
            found = self._providers[kind.name] = kind.provider(self._client)
            found._config_error = self._error
            found.upload_token = self._upload_token
        return found

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        except asyncio.CancelledError:  # the engine gets no answer, but the request goes on in its thread
            recovery.unanswered()
            raise

    async def close(self) -> None:
        """The plugin answers no more calls: wait for the requests still running on the pools (their journal lines
        written while the event loop is open); a create that returns from now on stays pending."""
        recovery.unanswered()
        pools = [*self._retired, *([self._pool] if self._pool is not None else [])]
        self._pool, self._retired = None, []
        loop = asyncio.get_running_loop()
        for pool in pools:
            await loop.run_in_executor(None, functools.partial(pool.shutdown, wait=True, cancel_futures=True))

    # ------------------------------------------------------------------- resources

    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        kind = kind_of(request.urn)
        result = self.provider(kind).check(plain_map(request.old_inputs), plain_map(request.new_inputs))
        failures = [p.CheckFailure(f.property, f.reason) for f in result.failures]
        return p.CheckResponse(inputs=to_map(result.inputs, secret_keys(request.new_inputs)), failures=failures)

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        kind = kind_of(request.urn)
        provider = self.provider(kind)
        olds, news = plain_map(request.old_state), plain_map(request.new_inputs)
        # an imported resource's state lacks the provider's own choices: the import's supplied inputs, else defaults
        old_inputs = plain_map(getattr(request, "old_inputs", {}))
        for key, default in provider_choices(kind.inputs).items():
            if key not in olds:
                olds[key] = old_inputs.get(key, default)
        found, replaces = provider.changes(olds, news)
        return p.DiffResponse(changes=bool(found), replaces=replaces, diffs=found,
                              delete_before_replace=provider.replaces_first(replaces))

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        kind = kind_of(request.urn)
        result = await self._blocking(self.provider(kind).create, plain_map(request.properties))
        return p.CreateResponse(resource_id=result.id, properties=to_map(result.outs or {}, secret_outputs(kind.state)))

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        kind = kind_of(request.urn)
        state = plain_map(request.properties) or plain_map(request.inputs)
        if not state:  # pulumi import: only the id
            result = await self._blocking(self._imported, kind, request.resource_id)
        else:
            result = await self._blocking(self.provider(kind).read, request.resource_id, state)
        if not result.id:
            return p.ReadResponse(resource_id="")
        return p.ReadResponse(resource_id=result.id, properties=to_map(result.outs or {}, secret_outputs(kind.state)),
                              inputs=to_map(result.inputs or {}, secret_keys(request.inputs)))

    def _imported(self, kind: Kind, import_id: str) -> Any:
        provider = self.provider(kind)
        return import_read(kind, provider, provider.client, import_id)

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        kind = kind_of(request.urn)
        result = await self._blocking(self.provider(kind).update, request.resource_id, plain_map(request.olds),
                                      plain_map(request.news))
        return p.UpdateResponse(properties=to_map(result.outs or {}, secret_outputs(kind.state)))

    async def delete(self, request: p.DeleteRequest) -> None:
        provider = self.provider(kind_of(request.urn))
        await self._blocking(provider.delete, request.resource_id, plain_map(request.properties))


def main() -> None:
    """The ``pulumi-resource-sentrystacks`` console script."""
    serve(SentryStacksProvider(), plugin_version())


__all__ = ["COMPARED", "SentryStacksProvider", "kind_of", "main", "plain", "plugin_version"]
