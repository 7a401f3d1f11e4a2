"""ClientKey: a Sentry client key (DSN) of a project.

The key is found by its ``name`` within the project, so a create that may have happened is found
again instead of creating a second key. ``dsn``, ``dsnSecret`` and ``secret`` are secret outputs.
``isActive: false`` disables the key (ingest answers 403). A ``rateLimit`` that the organization's plan
silently drops is reported (``rateLimitApplied: false``, ``rateLimitWarning``) rather than diffed on
every run. Moving a key to another project replaces it (a key's DSN never changes project).
"""

from __future__ import annotations

import sys
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from infra.sentry import ids, recovery
from infra.sentry.base import Checker, SentryProvider, declared, is_unknown, split_unknown
from infra.sentry.client import SentryClient
from infra.sentry.client_key_model import (
    COMPUTED,
    INPUT_KEYS,
    LOADER_OPTIONS,
    RATE_LIMIT_WARNING,
    SECRET_OUTPUTS,
    ClientKeyInputs,
    changed_fields,
    inputs_from_outputs,
    norm_rate_limit,
    outputs_from_api,
)
from infra.sentry.errors import SentryStateError

# Create-time hints (inputs never diffed): `lookupFirst` False (SentryApp, whose key names carry the stack's name)
# looks the key up by name only when a killed run may have created it (infra/sentry/recovery.py) or a POST's
# outcome is unknown; absent or True, always (adopting or refusing a same-named key). `reuseDefault` True: the
# project this stack created still holds Sentry's "Default" key, which this key takes over (renamed).
CREATE_HINTS = ("lookupFirst", "reuseDefault")


def find_key(client: SentryClient, org: str, project: str, name: str) -> dict[str, Any] | None:
    """The key of `project` named `name` (the newest if several), or None."""
    for key in client.paginate(f"projects/{org}/{project}/keys/", what=f"keys of project '{project}'"):
        if key.get("name") == name or key.get("label") == name:
            return dict(key)
    return None


class ClientKeyProvider(SentryProvider):
    """CRUD for client keys."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        c = Checker(news)
        c.slug("project")
        c.str_("name", required=True, max_len=64)
        c.bool_("isActive")
        c.bool_("adopt")
        c.str_("browserSdkVersion", max_len=32)
        limit = news.get("rateLimit")
        if limit is not None and not is_unknown(limit):
            if not isinstance(limit, dict):
                c.fail("rateLimit", "rateLimit must be an object {count, window} or null")
            else:
                sub = Checker(limit)
                sub.int_("count", required=True, minimum=1)
                sub.int_("window", required=True, minimum=1, maximum=86400)
                for failure in sub.failures:
                    c.fail("rateLimit", f"rateLimit.{failure.reason}")
        loader = news.get("dynamicSdkLoaderOptions")
        if loader is not None and not is_unknown(loader):
            if not isinstance(loader, dict):
                c.fail("dynamicSdkLoaderOptions", "dynamicSdkLoaderOptions must be an object")
            else:
                for key, value in loader.items():
                    if key not in LOADER_OPTIONS:
                        c.fail("dynamicSdkLoaderOptions",
                               f"unknown loader option {key!r}; allowed: {', '.join(LOADER_OPTIONS)}")
                    elif not isinstance(value, bool):
                        c.fail("dynamicSdkLoaderOptions", f"loader option {key} must be true or false")
        return CheckResult(declared(news), c.failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        known, unknown = split_unknown(olds, news, INPUT_KEYS)
        changed = {*changed_fields(olds, known), *unknown}
        replaces = ["project"] if "project" in changed else []
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = ClientKeyInputs.from_props(props)
        client, org = self.client, self.client.org
        path = f"projects/{org}/{inputs.project}/keys/"
        what = f"client key '{inputs.name}' of project '{inputs.project}'"
        journal = recovery.key("key", client.connection.api_root, org, inputs.project, inputs.name)
        reuse_default = props.get("reuseDefault") is True
        key: dict[str, Any] | None = None
        if reuse_default or props.get("lookupFirst") is not False or recovery.may_exist(journal):
            keys = list(client.paginate(path, what=f"keys of project '{inputs.project}'"))
            key = next((dict(k) for k in keys if k.get("name") == inputs.name or k.get("label") == inputs.name), None)
            if key is not None and not inputs.adopt:
                raise SentryStateError(
                    f"{what} already exists in organization '{org}' and this stack did not create it: set "
                    "adoptExisting to manage it from this stack, or give the key another name"
                )
            if key is None and reuse_default:
                # the project this stack just created still has Sentry's "Default" key: make it this key
                key = next((dict(k) for k in keys if k.get("label") == "Default" or k.get("name") == "Default"), None)
        created = key is None
        if key is None:
            with recovery.creating(journal):
                key = client.create(path, inputs.create_body(), what=what,
                                    find=lambda: find_key(client, org, inputs.project, inputs.name))
        else:
            recovery.settled(journal)
        assert isinstance(key, dict)
        try:
            key = self._apply(client, path, what, inputs, key)
        except Exception:
            if created:
                client.delete(f"{path}{key['id']}/", what=what)  # all or nothing: no orphaned key
            raise
        outs = outputs_from_api(key, inputs, organization=org)
        self._warn(outs, what)
        return CreateResult(ids.make("key", org, inputs.project, str(key["id"])), outs)

    @staticmethod
    def _apply(
        client: SentryClient, path: str, what: str, inputs: ClientKeyInputs, live: dict[str, Any]
    ) -> dict[str, Any]:
        body = inputs.to_body(live)
        if not body:
            return live
        updated = client.put(f"{path}{live['id']}/", body, what=what)
        return updated if isinstance(updated, dict) else live

    @staticmethod
    def _warn(outs: dict[str, Any], what: str) -> None:
        if outs.get("rateLimitApplied") is False:
            print(f"warning: {what}: {RATE_LIMIT_WARNING}", file=sys.stderr)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        sid = ids.parse("key", id_)
        inputs = ClientKeyInputs.from_props(props)
        key = self.client.get_or_none(
            f"projects/{sid.org}/{sid.project}/keys/{sid.object_id}/", what=f"client key '{inputs.name}'"
        )
        if not isinstance(key, dict):
            return ReadResult("", {})
        outs = outputs_from_api(key, inputs, organization=sid.org)
        if props.get("rateLimitApplied") and outs["rateLimitApplied"] is False:
            outs["rateLimit"] = norm_rate_limit(key.get("rateLimit"))  # it was applied: a real change
            outs["rateLimitApplied"], outs["rateLimitWarning"] = None, None
        return ReadResult(id_, outs, inputs_from_outputs(outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("key", id_)
        inputs = ClientKeyInputs.from_props(news)
        path = f"projects/{sid.org}/{sid.project}/keys/"
        what = f"client key '{inputs.name}' of project '{sid.project}'"
        live = self.client.get(f"{path}{sid.object_id}/", what=what)
        key = self._apply(self.client, path, what, inputs, live)
        outs = outputs_from_api(key, inputs, organization=sid.org)
        self._warn(outs, what)
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        sid = ids.parse("key", id_)
        self.client.delete(
            f"projects/{sid.org}/{sid.project}/keys/{sid.object_id}/",
            what=f"client key '{props.get('name')}' of project '{sid.project}'",
        )


class ClientKey(Resource, module="sentry", name="ClientKey"):
    """A Sentry client key (``pulumi-python:dynamic/sentry:ClientKey``); ``dsn`` is a secret output."""

    dsn: pulumi.Output[str]
    dsnSecret: pulumi.Output[str]
    secret: pulumi.Output[str]
    keyId: pulumi.Output[str]
    public: pulumi.Output[str]
    isActive: pulumi.Output[bool]
    rateLimitApplied: pulumi.Output[bool | None]
    rateLimitWarning: pulumi.Output[str | None]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        full: dict[str, Any] = {k: None for k in (*INPUT_KEYS, *COMPUTED, *CREATE_HINTS)}
        full.update(props)
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(ClientKeyProvider(), resource_name, full, pulumi.ResourceOptions.merge(opts, secret_opts))


__all__ = ["ClientKey", "ClientKeyProvider", "find_key"]
