"""The provider's configuration: where Sentry is, the token, how many calls at once, and what to check first.

Declared once, as :class:`ProviderConfig`: the schema's provider inputs and config variables, and what
``configure``/``check_config`` parse. Two ways in, one resolver (:func:`infra.connection.resolve_connection`):

* an explicit provider (the toolkit's program makes one from the stack's ``sentry:baseUrl``, ``sentry:organization``
  and, as a secret, ``sentry:token``, with its settings ``namespace``: infra/provider/resource.py): its inputs arrive
  as ``args`` (a non-string input JSON-encoded); with a ``namespace`` or a ``preflight`` (the toolkit's, before
  the provider was registered ahead of the settings), messages name the toolkit's ``sentry:*`` keys;
* the default provider (YAML or other programs): the stack's ``sentrystacks:*`` config arrives as ``args`` and as
  ``variables`` (``sentrystacks:config:<key>``); messages name those keys.

Either falls back to ``SENTRY_BASE_URL``, ``SENTRY_ORG``, ``SENTRY_AUTH_TOKEN``, then to the embedded localsentry's
``.localsentry/info.json`` in the project folder (the plugin's working directory). The token is read here only; in
state it is the explicit provider's secret input (ciphertext), never plain text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from infra.connection import BASE_URL_KEY, ORG_KEY, TOKEN_KEY, ConnectionValues, resolve_connection
from infra.fields import Bool, TeamSlug, whole
from infra.provider.resource import PACKAGE
from infra.sentry.shape import SentryModel, field, parse_state

#: the provider's own thread pool for Sentry calls, unless configured: Sentry's 25 concurrent requests less one
DEFAULT_WORKERS = 24
WORKERS_ENV = "SENTRY_STACKS_PROVIDER_WORKERS"
#: provider input -> the key of the toolkit's stack config (the explicit provider is made from these)
TOOLKIT_KEYS = {"baseUrl": BASE_URL_KEY, "organization": ORG_KEY, "token": TOKEN_KEY}


class Preflight(SentryModel):
    """What the program will do in Sentry, so what the connection check (the provider's ``checkConnection`` function,
    or ``check_config`` with a ``preflight`` input) checks before anything is changed."""

    team: TeamSlug | None = field("team", None, description="The team that owns the projects (checked to exist)")
    alerts: Bool = field("alerts", False, description="Alerts or monitors: the token needs alerts:write")
    workflows: Bool = field("workflows", False,
                            description="Alerts or metric monitors as workflows and detectors (Sentry 26.7 or later)")
    releases: Bool = field("releases", False, description="Releases and deploys: the token needs project:releases")
    namespace: str = field("namespace", "sentry-stacks",
                           description="The settings namespace the messages name (the program's Pulumi project)")


class ProviderConfig(SentryModel):
    """The ``sentrystacks`` provider's inputs (and the ``sentrystacks:*`` config of a default provider)."""

    base_url: str | None = field(
        "baseUrl", None, description="Sentry URL (https://sentry.example.com) or a sentry.io region (us, de); "
        "default SENTRY_BASE_URL, else the embedded localsentry")
    organization: TeamSlug | None = field("organization", None, description="Organization slug; default SENTRY_ORG")
    token: str | None = field("token", None, secret=True,
                              description="Auth token (a secret); default SENTRY_AUTH_TOKEN")
    upload_token: str | None = field(
        "uploadToken", None, secret=True,
        description="Token of the source-map uploads (a secret; least scope: an organization token, org:ci); "
        "default: token")
    workers: Annotated[int, whole(1, 256)] | None = field(
        "workers", None, description=f"Sentry calls at once (the provider's thread pool); default {DEFAULT_WORKERS}"
        f" or {WORKERS_ENV}; the pacer keeps to what Sentry allows")
    preflight: Preflight | None = field(
        "preflight", None, description="Check the connection when the provider is checked (preview and up): the "
        "organization, the token's scopes, the team, the workflow API (or call checkConnection)")
    namespace: str | None = field(
        "namespace", None, description="The Sentry Stacks settings namespace of the program that made this provider "
        "from its stack's sentry:* config: messages then name those keys")

    def pool_size(self, environ: Mapping[str, str] | None = None) -> int:
        env = os.environ if environ is None else environ
        if self.workers:
            return self.workers
        raw = env.get(WORKERS_ENV, "").strip()
        return int(raw) if raw.isdigit() and 1 <= int(raw) <= 256 else DEFAULT_WORKERS

    def connection(self, environ: Mapping[str, str] | None = None, root: Path | None = None) -> ConnectionValues:
        """The connection: these values, then the environment, then the embedded localsentry."""
        given = {TOOLKIT_KEYS["baseUrl"]: self.base_url, TOOLKIT_KEYS["organization"]: self.organization,
                 TOOLKIT_KEYS["token"]: self.token}
        toolkit = self.preflight is not None or self.namespace is not None
        names = {v: (v if toolkit else f"{PACKAGE}:{k}") for k, v in TOOLKIT_KEYS.items()}
        return resolve_connection(given.get, environ, root, read_token=True, source=lambda key: names[key])


def _decoded(value: Any) -> Any:
    """A non-string provider input arrives JSON-encoded: decode it (a string that is not JSON stays as it is)."""
    if isinstance(value, str) and (value[:1] in ("{", "[") or value in ("true", "false")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def provider_config(args: Mapping[str, Any], variables: Mapping[str, str] | None = None) -> ProviderConfig:
    """The configuration from the provider's inputs (`args`), else the stack config (`variables`)."""
    names = [info.alias or name for name, info in ProviderConfig.model_fields.items()]
    given = {k: _decoded(args[k]) for k in names if args.get(k) is not None}
    for key in names:
        for variable in (f"{PACKAGE}:config:{key}", f"{PACKAGE}:{key}"):
            if key not in given and (variables or {}).get(variable) is not None:
                given[key] = _decoded((variables or {})[variable])
    return parse_state(ProviderConfig, given)


__all__ = ["DEFAULT_WORKERS", "PACKAGE", "WORKERS_ENV", "Preflight", "ProviderConfig", "provider_config"]
