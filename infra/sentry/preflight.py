"""One cheap read before a preview or an `up` declares anything: is the Sentry connection usable?

``pulumi preview`` sends no other request to Sentry (the providers' check() and diff() work from the stack's state),
so without this a wrong token, a token without the scopes, an organization or team that does not exist, or a base
URL that is not a Sentry at all would pass preview and fail only in `up`, after other objects were created. The
provider plugin calls :func:`check_connection` from its ``check_config`` (once per run, before any resource; never
in a refresh or destroy, which do not check the provider's config) with the connection it will use: only the
provider reads the token. It reads the organization's details once: they say whether the answer is Sentry's (JSON
of an organization), whether the token is valid (401) and may read it (403), whether the organization exists (404),
which scopes the token has in it (``access``) and which teams it has (``teams``). A stack with alerts or metric
monitors as workflows and detectors also lists one workflow: a Sentry older than 26.7 answers 404 there, and the
stack needs ``legacyAlerts``.

Each problem is one line that starts with the setting to fix (and where its value came from) and says what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from infra.connection import ConnectionValues
from infra.sentry.client import BASE_URL_ADVICE, Connection, SentryClient, json_of
from infra.sentry.errors import (
    SentryApiError,
    SentryConfigError,
    SentryNotFound,
    SentryProtocolError,
    SentryTransportError,
    describe_text,
)

#: a single try of a few seconds: a base URL that does not answer fails the preview quickly
ATTEMPTS = 2
TIMEOUT = (5.0, 20.0)
CREDENTIAL_ADVICE = (
    "create a user auth token (sntryu_…) or an internal-integration token with org:read, project:admin, "
    "alerts:write and project:releases and set it with `pulumi config set --secret sentry:token <token>`"
)


@dataclass(frozen=True)
class Needs:
    """What the stack will do in Sentry, so what the token must be allowed to do."""

    team: str | None = None  # the team that owns created projects (checked to exist)
    alerts: bool = False  # alerts, metric or cron monitors
    releases: bool = False  # releases and deploys
    workflows: bool = False  # alerts or metric monitors as workflows and detectors (not legacyAlerts)
    namespace: str = "sentry-stacks"  # the project's settings namespace (its Pulumi project name), for messages


def _required(needs: Needs) -> list[tuple[str, tuple[str, ...]]]:
    """Scope groups: (what needs it, any one of these scopes)."""
    groups: list[tuple[str, tuple[str, ...]]] = [("projects, keys and filters", ("project:admin", "project:write"))]
    if needs.alerts:
        groups.append(("alerts and monitors", ("alerts:write", "org:write", "org:admin")))
    if needs.releases:
        groups.append(("releases and deploys", ("project:releases", "project:write", "project:admin")))
    return groups


class SentryPreflightError(SentryConfigError):
    """The connection cannot be used; the message names the setting to fix."""


def _setting(source: str | None, key: str) -> str:
    """The setting a value came from: the config key, or the environment variable (or localsentry's file)."""
    if source is None or ":" in source:
        return source or key
    if source == "localsentry":
        return f"{key} (not set: the embedded localsentry's .localsentry/info.json)"
    return f"{key} (from the environment variable {source})"


def _missing_scopes(access: Iterable[Any], needs: Needs) -> list[str]:
    have = {str(s) for s in access}
    return [f"{' or '.join(any_of)} (for {what})" for what, any_of in _required(needs) if not have & set(any_of)]


def check_connection(connection: Connection, values: ConnectionValues, needs: Needs) -> dict[str, Any]:
    """Read the organization once; raise :class:`SentryPreflightError` (one line) when the connection cannot do
    what the stack needs. Returns the organization as Sentry answered it."""
    org, root = connection.organization, connection.api_root
    base = f"{_setting(values.base_url_source, 'sentry:baseUrl')} = {values.base_url}"
    token = _setting(values.token_source, "sentry:token")
    organization = f"{_setting(values.organization_source, 'sentry:organization')} = {org}"
    what = f"organization '{org}'"
    try:
        response = SentryClient(connection).request(
            "GET", f"organizations/{org}/", action="read", what=what, max_attempts=ATTEMPTS, timeout=TIMEOUT,
            advice=lambda _status: "",
        )
        data = json_of(response, "read", what)
    except SentryTransportError as exc:
        cause = str(exc).rsplit(": ", 1)[-1]
        raise SentryPreflightError(f"{base}: no answer from {root} ({cause}); {BASE_URL_ADVICE}") from None
    except SentryProtocolError as exc:
        kind = str(exc).split(" with ", 1)[-1].split(";", 1)[0]
        raise SentryPreflightError(f"{base}: {root} answers with {kind}; {BASE_URL_ADVICE}") from None
    except SentryApiError as exc:
        if exc.body is not None and not isinstance(exc.body, dict | list):
            kind = describe_text(str(exc.body)) or f"{str(exc.body)[:60]!r}, not Sentry's JSON"
            raise SentryPreflightError(
                f"{base}: {root} answers HTTP {exc.status} with {kind}; {BASE_URL_ADVICE}") from None
        if exc.status == 401:
            raise SentryPreflightError(
                f"{token}: Sentry at {root} refuses the token (HTTP 401: {exc.detail or 'invalid or expired'}); "
                f"{CREDENTIAL_ADVICE}") from None
        if exc.status == 403:
            raise SentryPreflightError(
                f"{token}: the token may not read {what} (HTTP 403: it lacks org:read, or is not a member); "
                f"{CREDENTIAL_ADVICE}") from None
        if exc.status == 404:
            raise SentryPreflightError(
                f"{organization}: Sentry at {root} has no organization '{org}' (HTTP 404); check "
                "sentry:organization (the slug in your Sentry URLs; sentry.io organizations live in the us or de "
                "region: sentry:baseUrl us|de)") from None
        raise SentryPreflightError(f"{base}: reading {what} failed: {exc}") from None
    if not isinstance(data, dict) or not data.get("slug") or data.get("id") is None:
        shape = type(data).__name__ if not isinstance(data, dict) else f"an object with {', '.join(sorted(data))}"
        raise SentryPreflightError(
            f"{base}: {root} answers {what} with JSON that is not a Sentry organization ({shape[:120]}); "
            f"{BASE_URL_ADVICE}")
    access = data.get("access")
    if isinstance(access, list):
        missing = _missing_scopes(access, needs)
        if missing:
            raise SentryPreflightError(f"{token}: the token lacks the scope {'; '.join(missing)}; {CREDENTIAL_ADVICE}")
    teams = data.get("teams")
    if needs.team and isinstance(teams, list):
        slugs = sorted(str(t.get("slug")) for t in teams if isinstance(t, dict))
        if needs.team not in slugs:
            raise SentryPreflightError(
                f"{needs.namespace}:team = {needs.team}: organization '{org}' has no such team (it has "
                f"{', '.join(slugs[:10]) or 'none'}{', …' if len(slugs) > 10 else ''}); set {needs.namespace}:team "
                "to the slug of the team that should own the projects")
    if needs.workflows:
        _workflow_api(connection, base, needs.namespace)
    return data


def _workflow_api(connection: Connection, base: str, namespace: str) -> None:
    """Sentry before 26.7 has no workflow or detector API (404): such a stack needs the legacy alert APIs."""
    org, root = connection.organization, connection.api_root
    try:
        SentryClient(connection).request(
            "GET", f"organizations/{org}/workflows/", action="list", what="workflows", params={"per_page": 1},
            max_attempts=ATTEMPTS, timeout=TIMEOUT, advice=lambda _status: "")
    except SentryNotFound:
        raise SentryPreflightError(
            f"{namespace}:legacyAlerts = false: Sentry at {root} has no workflow API (HTTP 404 for "
            f"organizations/{org}/workflows/): it is older than 26.7, which brought workflows and detectors; set "
            f"{namespace}:legacyAlerts: true to use its legacy alert APIs (or upgrade Sentry); checked with "
            f"{base}") from None


__all__ = ["ATTEMPTS", "TIMEOUT", "Needs", "SentryPreflightError", "check_connection"]
