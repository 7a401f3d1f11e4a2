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

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from infra.sentry import ids, recovery
from infra.sentry.base import SentryProvider
from infra.sentry.client import SentryClient
from infra.sentry.client_key_model import (
    RATE_LIMIT_WARNING,
    ClientKeyInputs,
    norm_rate_limit,
    outputs_from_api,
)
from infra.sentry.errors import SentryStateError
from infra.sentry.shape import inputs_of_state


def find_key(client: SentryClient, org: str, project: str, name: str) -> dict[str, Any] | None:
    """The key of `project` named `name` (the newest if several), or None."""
    for key in client.paginate(f"projects/{org}/{project}/keys/", what=f"keys of project '{project}'"):
        if key.get("name") == name or key.get("label") == name:
            return dict(key)
    return None


class ClientKeyProvider(SentryProvider[ClientKeyInputs]):
    """CRUD for client keys. Create-time hints (never diffed): ``lookupFirst`` False (SentryApp, whose key names
    carry the stack's name) looks the key up by name only when a killed run may have created it
    (infra/sentry/recovery.py) or a POST's outcome is unknown; absent or True, always (adopting or refusing a
    same-named key). ``reuseDefault`` True: the project this stack created still holds Sentry's "Default" key,
    which this key takes over (renamed)."""

    inputs_type = ClientKeyInputs

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client, org = self.client, self.client.org
        path = f"projects/{org}/{inputs.project}/keys/"
        what = f"client key '{inputs.name}' of project '{inputs.project}'"
        journal = recovery.key("key", client.connection.api_root, org, inputs.project, inputs.name)
        reuse_default = inputs.reuse_default is True
        key: dict[str, Any] | None = None
        if reuse_default or inputs.lookup_first is not False or recovery.may_exist(journal):
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
        inputs = self.inputs(props)
        key = self.client.get_or_none(
            f"projects/{sid.org}/{sid.project}/keys/{sid.object_id}/", what=f"client key '{inputs.name}'"
        )
        if not isinstance(key, dict):
            return ReadResult("", {})
        outs = outputs_from_api(key, inputs, organization=sid.org)
        if props.get("rateLimitApplied") and outs["rateLimitApplied"] is False:
            outs["rateLimit"] = norm_rate_limit(key.get("rateLimit"))  # it was applied: a real change
            outs["rateLimitApplied"], outs["rateLimitWarning"] = None, None
        return ReadResult(id_, outs, inputs_of_state(ClientKeyInputs, outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("key", id_)
        inputs = self.inputs(news)
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


__all__ = ["ClientKeyProvider", "find_key"]
