"""Privacy as code: what the SDKs collect and what Sentry scrubs, per stack, with a production guardrail.

One vocabulary for every service, in the stack file::

    sentry-stacks:dataCollection:      # what the SDKs collect (rendered into SENTRY_DATA_COLLECTION)
      userInfo: false                  # user.* fields and the client IP address
      cookies: false                   # true | false | {allow: [...]} | {deny: [...]}
      httpHeaders: {deny: [forwarded, -ip, remote-, via, -user]}   # or {request: ..., response: ...}
      httpBodies: []                   # incomingRequest, outgoingRequest, incomingResponse, outgoingResponse
      urlQueryParams: true
      stackFrameVariables: true        # or {allow: [...]} / {deny: [...]}
    sentry-stacks:privacy:             # the Sentry projects' Security & Privacy settings
      dataScrubber: true
      dataScrubberDefaults: true
      scrubIPAddresses: true
      sensitiveFields: [iban]
      safeFields: [order_id]
    sentry-stacks:allowPersonalData: false

The names and shapes are the JavaScript SDK 11's ``dataCollection`` (``@sentry/core``
``types/datacollection.d.ts``); :func:`python_options` renders them as sentry-python 2.75's
``data_collection`` (``sentry_sdk/_types.py``: ``{"mode": "off"|"denylist"|"allowlist", "terms": [...]}``),
:func:`javascript_options` as ``dataCollection``. Both SDKs collect *everything* for an omitted field
once the option is given, so the toolkit always renders every field, with its own defaults below.

Defaults (nothing set): what the SDKs collect without ``sendDefaultPii``, i.e. sentry-python's
``_map_from_send_default_pii(False)``: no user info, no cookies, headers and query parameters without the
IP-carrying ones, bodies, stack frame variables, no GraphQL/AI/database/queue payloads.

``sendDefaultPii`` is a deprecated alias: ``true`` means the SDK's ``send_default_pii=True`` mapping
(everything), ``false`` the defaults. When ``dataCollection`` is set too, ``dataCollection`` wins (as in
both SDKs) and a warning says so.

Project settings (``privacy``) are Sentry's project PUT fields; a field left out is not managed. In a project
shared by several stacks the strictest value any stack applied wins: a stack writes its own asks, and its `up`
never lowers what Sentry has below another stack's ask (infra/sentry/privacy_floor.py, docs/privacy.md);
:func:`sibling_privacy` reads the other stacks' asks from their files for that decision, :func:`shared_privacy`
keeps them with a warning for each file that cannot be read.

Guardrail (:func:`personal_data_problems`): a production stack (environment ``production`` or ``prod``)
that collects user info, or IP addresses (``httpHeaders`` keeping X-Forwarded-For and friends) without
``privacy.scrubIPAddresses: true``, is refused unless ``allowPersonalData: true``.

Modules, one concern each: ``model`` (the settings model and the production guardrail), ``problems`` (its
validation errors as config keys), ``shared`` (a project shared by several stacks: the other stacks' asks read from
their files), ``sdk`` (each SDK's option as rendered into SENTRY_DATA_COLLECTION, and the env files'
description). The package is a leaf: it imports only pydantic, PyYAML and the standard library; everything is
re-exported here (``from infra import privacy as pv``).
"""

from __future__ import annotations

from infra.privacy.model import (
    COLLECT_RULE,
    DEFAULT,
    EVERYTHING,
    HTTP_BODIES,
    IP_HEADERS,
    IP_TERMS,
    PRODUCTION_ENVIRONMENTS,
    PROJECT_FIELDS,
    PYTHON_HTTP_BODIES,
    SENTRY_PROJECT_DEFAULTS,
    Allow,
    Collect,
    DataCollection,
    Deny,
    GenAI,
    GraphQL,
    HttpHeaders,
    ProjectPrivacy,
    StackPrivacy,
    collects_ip_headers,
    compact,
    personal_data_problems,
)
from infra.privacy.problems import PrivacyProblem, load_stack_privacy, problems_from
from infra.privacy.sdk import describe, env_json, javascript_options, python_options
from infra.privacy.shared import UNREADABLE, SharedPrivacy, project_values, shared_privacy, sibling_privacy

__all__ = [
    "COLLECT_RULE",
    "DEFAULT",
    "EVERYTHING",
    "HTTP_BODIES",
    "IP_HEADERS",
    "IP_TERMS",
    "PRODUCTION_ENVIRONMENTS",
    "PROJECT_FIELDS",
    "PYTHON_HTTP_BODIES",
    "SENTRY_PROJECT_DEFAULTS",
    "UNREADABLE",
    "Allow",
    "Collect",
    "DataCollection",
    "Deny",
    "GenAI",
    "GraphQL",
    "HttpHeaders",
    "PrivacyProblem",
    "ProjectPrivacy",
    "SharedPrivacy",
    "StackPrivacy",
    "collects_ip_headers",
    "compact",
    "describe",
    "env_json",
    "javascript_options",
    "load_stack_privacy",
    "personal_data_problems",
    "problems_from",
    "project_values",
    "python_options",
    "shared_privacy",
    "sibling_privacy",
]
