"""What the toolkit renders from a stack's privacy settings: each SDK's data collection option in its own shape
(``SENTRY_DATA_COLLECTION``) and the env files' few lines saying what is collected and scrubbed.

:func:`python_options` renders the vocabulary as sentry-python 2.75's ``data_collection``
(``sentry_sdk/_types.py``: ``{"mode": "off"|"denylist"|"allowlist", "terms": [...]}``), :func:`javascript_options`
as the JavaScript SDK 11's ``dataCollection``. Both SDKs collect *everything* for an omitted field once the option
is given, so every field is always rendered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from infra.privacy.model import PYTHON_HTTP_BODIES, SENTRY_PROJECT_DEFAULTS, Allow, Collect, DataCollection, Deny


def _python_kv(b: Collect) -> dict[str, Any]:
    if b is True:
        return {"mode": "denylist"}
    if b is False:
        return {"mode": "off"}
    if isinstance(b, Allow):
        return {"mode": "allowlist", "terms": list(b.allow)}
    assert isinstance(b, Deny)
    return {"mode": "denylist", "terms": list(b.deny)}


def _js_kv(b: Collect) -> Any:
    if isinstance(b, bool):
        return b
    if isinstance(b, Allow):
        return {"allow": list(b.allow)}
    assert isinstance(b, Deny)
    return {"deny": list(b.deny)}


def python_options(dc: DataCollection) -> dict[str, Any]:
    """sentry-python 2.75's ``data_collection`` option (every field given, so none falls back to "collect")."""
    frames = dc.stackFrameVariables
    return {
        "user_info": dc.userInfo,
        "cookies": _python_kv(dc.cookies),
        "http_headers": {"request": _python_kv(dc.headers().request)},
        "http_bodies": [PYTHON_HTTP_BODIES[b] for b in dc.httpBodies if b in PYTHON_HTTP_BODIES],
        "url_query_params": _python_kv(dc.urlQueryParams),
        "graphql": {"document": dc.graphQL.document, "variables": dc.graphQL.variables},
        "gen_ai": {"inputs": dc.genAI.inputs, "outputs": dc.genAI.outputs},
        "database_query_data": dc.databaseQueryData,
        "queues": dc.queues,
        "stack_frame_variables": frames if isinstance(frames, bool) else _python_kv(frames),
        "frame_context_lines": dc.frameContextLines,
    }


def javascript_options(dc: DataCollection) -> dict[str, Any]:
    """The JavaScript SDK 11's ``dataCollection`` option (``mcp`` falls back to ``genAI`` in the SDK)."""
    h = dc.headers()
    return {
        "userInfo": dc.userInfo,
        "cookies": _js_kv(dc.cookies),
        "httpHeaders": {"request": _js_kv(h.request), "response": _js_kv(h.response)},
        "httpBodies": list(dc.httpBodies),
        "urlQueryParams": _js_kv(dc.urlQueryParams),
        "graphQL": {"document": dc.graphQL.document, "variables": dc.graphQL.variables},
        "genAI": {"inputs": dc.genAI.inputs, "outputs": dc.genAI.outputs},
        "databaseQueryData": dc.databaseQueryData,
        "queues": dc.queues,
        "stackFrameVariables": _js_kv(dc.stackFrameVariables),
        "frameContextLines": dc.frameContextLines,
    }


def env_json(options: Mapping[str, Any]) -> str:
    """An SDK option as the one-line JSON the reference app parses (keys sorted)."""
    return json.dumps(options, sort_keys=True, separators=(",", ":"))

# --------------------------------------------------------------------------- describing it


def _say(b: Collect) -> str:
    if b is True:
        return "yes"
    if b is False:
        return "no"
    if isinstance(b, Allow):
        return f"only {', '.join(b.allow)}"
    assert isinstance(b, Deny)
    return f"yes, without {', '.join(b.deny)}" if b.deny else "yes"


def describe(
    dc: DataCollection, project: Mapping[str, Any] | None = None, *,
    kept: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """A few short lines saying what the environment collects and what Sentry scrubs (the env files' comment).

    `project`: the projects' privacy fields as they are in Sentry (unset ones are Sentry's defaults); `kept`: for a
    shared project, each field Sentry keeps stricter than this stack asks, with the stacks that use the project
    (where the user meets another stack's scrubbing, e.g. `[ip]` in this stack's events)."""
    h = dc.headers()
    payloads = dc.databaseQueryData or dc.queues or dc.graphQL.variables or dc.genAI.inputs or dc.genAI.outputs
    lines = [
        f"user info and IP address: {'yes' if dc.userInfo else 'no'}; cookies: {_say(dc.cookies)}",
        f"request headers: {_say(h.request)}; URL query: {_say(dc.urlQueryParams)}",
        f"HTTP bodies: {', '.join(dc.httpBodies) or 'none'}; stack frame variables: {_say(dc.stackFrameVariables)}",
        f"database, queue, GraphQL and AI payloads: {'yes' if payloads else 'no'}",
    ]
    if project is None:
        return lines

    def by(name: str) -> str:
        if kept is None or name not in kept:
            return ""
        users = ", ".join(kept[name]) or "another stack"
        return f" (kept in Sentry for the shared project, asked by stack {users}: docs/privacy.md)"

    def value(name: str) -> Any:
        return project.get(name, SENTRY_PROJECT_DEFAULTS[name])

    scrub = "off" if not value("dataScrubber") else (
        "on, with Sentry's default sensitive keys" if value("dataScrubberDefaults") else "on")
    extra = list(value("sensitiveFields"))
    safe = list(value("safeFields"))
    lines.append(
        f"Sentry scrubs: data {scrub}{by('dataScrubber') or by('dataScrubberDefaults')}; IP addresses "
        f"{'removed' if value('scrubIPAddresses') else 'kept'}{by('scrubIPAddresses')}"
    )
    if extra or safe:
        lines.append(f"Sentry also filters: {', '.join(extra) or '-'}{by('sensitiveFields')}; never filters: "
                     f"{', '.join(safe) or '-'}{by('safeFields')}")
    return lines


__all__ = ["describe", "env_json", "javascript_options", "python_options"]
