"""The privacy settings of a stack (``dataCollection``, ``privacy``, ``allowPersonalData``, the deprecated
``sendDefaultPii``) as one pydantic model, and the production guardrail.

The names and shapes of ``dataCollection`` are the JavaScript SDK 11's (``@sentry/core``
``types/datacollection.d.ts``). Defaults (nothing set): what the SDKs collect without ``sendDefaultPii``, i.e.
sentry-python's ``_map_from_send_default_pii(False)``: no user info, no cookies, headers and query parameters
without the IP-carrying ones, bodies, stack frame variables, no GraphQL/AI/database/queue payloads.
``sendDefaultPii`` is a deprecated alias: ``true`` means everything, ``false`` the defaults; ``dataCollection``
wins when both are set (a warning says so).

Project settings (``privacy``) are Sentry's project PUT fields; a field left out is not managed.

Guardrail (:func:`personal_data_problems`): a production stack (environment ``production`` or ``prod``) that
collects user info, or IP addresses (``httpHeaders`` keeping X-Forwarded-For and friends) without
``privacy.scrubIPAddresses: true``, is refused unless ``allowPersonalData: true``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

# --------------------------------------------------------------------------- vocabulary

HttpBody = Literal["incomingRequest", "outgoingRequest", "incomingResponse", "outgoingResponse"]
HTTP_BODIES: tuple[HttpBody, ...] = ("incomingRequest", "outgoingRequest", "incomingResponse", "outgoingResponse")
#: sentry-python's names (``data_collection._ALL_HTTP_BODY_TYPES``); it captures no incoming response body
PYTHON_HTTP_BODIES: dict[str, str] = {
    "incomingRequest": "incoming_request",
    "outgoingRequest": "outgoing_request",
    "outgoingResponse": "outgoing_response",
}
#: header/cookie/query terms sentry-python drops without send_default_pii (``_map_from_send_default_pii``)
IP_TERMS: tuple[str, ...] = ("forwarded", "-ip", "remote-", "via", "-user")
PRODUCTION_ENVIRONMENTS: tuple[str, ...] = ("production", "prod")
#: Sentry's defaults for a new project (what an unmanaged field is assumed to be)
SENTRY_PROJECT_DEFAULTS: dict[str, Any] = {
    "dataScrubber": True,
    "dataScrubberDefaults": True,
    "scrubIPAddresses": False,
    "sensitiveFields": [],
    "safeFields": [],
}
PROJECT_FIELDS: tuple[str, ...] = tuple(SENTRY_PROJECT_DEFAULTS)
TERM_RE = re.compile(r"^[A-Za-z0-9_.*-]{1,64}$")
TERM_RULE = "1-64 letters, digits, '_', '.', '*' or '-' (a name or part of one, e.g. forwarded, -ip, x-request-id)"
FIELD_RE = re.compile(r"^[^\s\n\r]{1,200}$")
SENSITIVE_FIELDS_MAX = 4000  # Sentry: total characters of sensitiveFields

Term = Annotated[str, Field(pattern=TERM_RE.pattern, description=f"a key name or part of one ({TERM_RULE})")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Allow(_Model):
    """Collect only keys containing one of these terms (sensitive values are still filtered by the SDK)."""

    allow: tuple[Term, ...] = Field(min_length=1, description="the keys (or parts of keys) to collect")


class Deny(_Model):
    """Collect every key except those containing one of these terms (besides the SDK's sensitive list)."""

    deny: tuple[Term, ...] = Field(description="the keys (or parts of keys) to leave out")


COLLECT_RULE = "true (all), false (none), {allow: [terms]} or {deny: [terms]}"


def _terms(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise PydanticCustomError("collect", f"{what} must be a list of terms ({TERM_RULE})")
    bad = [t for t in value if not TERM_RE.match(t)]
    if bad:
        rule = f"bad term '{{term}}' in {what}: each must be {TERM_RULE}"
        raise PydanticCustomError("collect", rule, {"term": bad[0]})
    return tuple(value)


def _collect(value: Any) -> Any:
    """Check a key-value behaviour's shape first, so a bad value gets one clear message (not one per member)."""
    if isinstance(value, bool | Allow | Deny):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("allow", "deny"):
        kind, terms = next(iter(value.items()))
        checked = _terms(terms, kind)
        if kind == "allow":
            if not checked:
                raise PydanticCustomError("collect", "allow needs at least one term (use false to collect none)")
            return Allow(allow=checked)
        return Deny(deny=checked)
    raise PydanticCustomError("collect", f"must be {COLLECT_RULE}")


def _headers(value: Any) -> Any:
    if isinstance(value, Mapping) and value and set(value) <= {"request", "response"}:
        out: dict[str, Any] = {}
        for direction, item in value.items():
            try:
                out[direction] = _collect(item)
            except PydanticCustomError as exc:
                raise PydanticCustomError("collect", f"{direction}: {exc.message()}") from None
        return HttpHeaders(**out)
    if isinstance(value, HttpHeaders):
        return value
    try:
        return _collect(value)
    except PydanticCustomError:
        if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("allow", "deny"):
            raise  # the shape is right: the message says what is wrong with its terms
        # braces are literal here: pydantic fills only {names} of the context, and this message has none
        raise PydanticCustomError("collect", f"must be {COLLECT_RULE}, or {{request: ..., response: ...}}") from None


Collect = Annotated[bool | Allow | Deny, BeforeValidator(_collect)]


class HttpHeaders(_Model):
    """Header collection per direction."""

    request: Collect = Field(default=Deny(deny=IP_TERMS), description=f"headers of requests: {COLLECT_RULE}")
    response: Collect = Field(default=Deny(deny=IP_TERMS), description=f"headers of responses: {COLLECT_RULE}")


class GraphQL(_Model):
    """GraphQL operation data the SDKs attach."""

    document: bool = Field(default=False, description="the GraphQL document (query source)")
    variables: bool = Field(default=False, description="the variables of GraphQL operations")


class GenAI(_Model):
    """Inputs and outputs of generative AI calls the SDKs attach."""

    inputs: bool = Field(default=False, description="prompts and other inputs of AI calls")
    outputs: bool = Field(default=False, description="responses of AI calls")


class DataCollection(_Model):
    """What the SDKs collect automatically (every service of the stack, one vocabulary)."""

    userInfo: bool = Field(default=False, description="user.* fields (id, email, username) and the client IP address")
    cookies: Collect = Field(default=False, description=f"request cookies: {COLLECT_RULE}")
    httpHeaders: Annotated[bool | Allow | Deny | HttpHeaders, BeforeValidator(_headers)] = Field(
        default=HttpHeaders(), description=f"HTTP headers: {COLLECT_RULE}, or {{request: ..., response: ...}}"
    )
    httpBodies: tuple[HttpBody, ...] = Field(
        default=("incomingRequest", "outgoingRequest", "outgoingResponse"),
        description=f"which HTTP bodies to attach ([] = none): {', '.join(HTTP_BODIES)}",
    )
    urlQueryParams: Collect = Field(default=Deny(deny=IP_TERMS), description=f"URL query parameters: {COLLECT_RULE}")
    graphQL: GraphQL = Field(default=GraphQL(), description="GraphQL operation data")
    genAI: GenAI = Field(default=GenAI(), description="generative AI inputs and outputs")
    databaseQueryData: bool = Field(default=False, description="query parameters and results of database spans")
    queues: bool = Field(default=False, description="arguments of queued tasks")
    stackFrameVariables: Collect = Field(default=True, description="local variables of stack frames")
    frameContextLines: int = Field(default=5, ge=0, le=50, description="source lines around each stack frame (0-50)")

    @field_validator("httpBodies")
    @classmethod
    def _unique_bodies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("duplicate", "lists a body type twice")
        return value

    def headers(self) -> HttpHeaders:
        """``httpHeaders`` as the per-direction form."""
        h = self.httpHeaders
        return h if isinstance(h, HttpHeaders) else HttpHeaders(request=h, response=h)


#: sendDefaultPii: true, i.e. sentry-python's ``_map_from_send_default_pii(True)``: everything
EVERYTHING = DataCollection(
    userInfo=True,
    cookies=True,
    httpHeaders=True,
    urlQueryParams=True,
    graphQL=GraphQL(document=True, variables=True),
    genAI=GenAI(inputs=True, outputs=True),
    databaseQueryData=True,
    queues=True,
)
DEFAULT = DataCollection()


def _fields(value: Sequence[str], what: str) -> tuple[str, ...]:
    out: list[str] = []
    for item in value:
        text = item.strip()
        if not FIELD_RE.match(text):
            raise PydanticCustomError("field", f"{what}: '{{item}}' is not a field name (1-200 characters, no spaces)",
                                      {"item": item})
        if text.lower() in (o.lower() for o in out):
            raise PydanticCustomError("duplicate", f"{what}: '{{item}}' is listed twice", {"item": item})
        out.append(text)
    return tuple(out)


class ProjectPrivacy(_Model):
    """A Sentry project's Security & Privacy settings (project PUT fields). Unset = not managed."""

    dataScrubber: bool | None = Field(default=None, description="scrub data server-side (Sentry's default: true)")
    dataScrubberDefaults: bool | None = Field(
        default=None, description="apply Sentry's default sensitive keys (password, secret, token, ...; default: true)"
    )
    scrubIPAddresses: bool | None = Field(default=None, description="never store IP addresses (default: false)")
    sensitiveFields: tuple[str, ...] | None = Field(
        default=None, description="more keys whose values are replaced with [Filtered] (needs dataScrubber)"
    )
    safeFields: tuple[str, ...] | None = Field(default=None, description="keys the data scrubber never touches")

    @field_validator("sensitiveFields", "safeFields")
    @classmethod
    def _clean(cls, value: tuple[str, ...] | None, info: Any) -> tuple[str, ...] | None:
        if value is None:
            return None
        out = _fields(value, info.field_name)
        if info.field_name == "sensitiveFields" and sum(len(v) for v in out) > SENSITIVE_FIELDS_MAX:
            raise PydanticCustomError("too_long", f"Sentry allows at most {SENSITIVE_FIELDS_MAX} characters in all")
        return out

    def declared(self) -> dict[str, Any]:
        """The managed fields as Sentry PUT body values (lists for list fields)."""
        out: dict[str, Any] = {}
        for name in PROJECT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def effective(self, name: str) -> Any:
        value = getattr(self, name)
        return SENTRY_PROJECT_DEFAULTS[name] if value is None else (list(value) if isinstance(value, tuple) else value)


class StackPrivacy(_Model):
    """A stack's privacy settings. Validation applies the alias rule and the production guardrail."""

    environment: str = Field(description="the stack's Sentry environment (production and prod are guarded)")
    dataCollection: DataCollection | None = Field(default=None, description="what the SDKs collect")
    sendDefaultPii: bool | None = Field(
        default=None, description="deprecated: use dataCollection", json_schema_extra={"deprecated": True}
    )
    privacy: ProjectPrivacy = Field(default=ProjectPrivacy(), description="the Sentry projects' privacy settings")
    allowPersonalData: bool = Field(default=False, description="let a production stack collect personal data")

    @model_validator(mode="after")
    def _guardrail(self) -> StackPrivacy:
        problems = personal_data_problems(self)
        if problems:
            raise PydanticCustomError(
                "personal_data", "{summary}", {"summary": "; ".join(m for _, _, m in problems), "problems": problems}
            )
        return self

    @property
    def collection(self) -> DataCollection:
        """What the SDKs collect: dataCollection, else the sendDefaultPii alias, else the defaults."""
        if self.dataCollection is not None:
            return self.dataCollection
        if self.sendDefaultPii:
            return EVERYTHING
        return DEFAULT

    @property
    def warnings(self) -> tuple[str, ...]:
        if self.sendDefaultPii is None:
            return ()
        if self.dataCollection is not None:
            return (
                f"sentry-stacks:sendDefaultPii ({str(self.sendDefaultPii).lower()}) is deprecated and ignored: "
                "sentry-stacks:dataCollection is set too and wins (remove sendDefaultPii)",
            )
        replacement = json.dumps(compact(self.collection), separators=(", ", ": "))
        return (
            "sentry-stacks:sendDefaultPii is deprecated: use sentry-stacks:dataCollection instead "
            f"(sendDefaultPii: {str(self.sendDefaultPii).lower()} is dataCollection: {replacement})",
        )

    @property
    def production(self) -> bool:
        return self.environment.strip().lower() in PRODUCTION_ENVIRONMENTS


# --------------------------------------------------------------------------- guardrail


def _keeps(behaviour: Collect, terms: Iterable[str]) -> bool:
    """Whether a key-value behaviour lets keys containing any of `terms` through."""
    if behaviour is True:
        return True
    if behaviour is False:
        return False
    if isinstance(behaviour, Allow):
        return any(t.lower() in a.lower() or a.lower() in t.lower() for a in behaviour.allow for t in terms)
    assert isinstance(behaviour, Deny)
    denied = [d.lower() for d in behaviour.deny]
    return not all(any(d in t.lower() for d in denied) for t in terms)


#: headers that carry a client IP address (what ``IP_TERMS`` matches)
IP_HEADERS: tuple[str, ...] = ("forwarded", "x-forwarded-for", "x-real-ip", "remote-addr", "via", "x-client-ip")


def collects_ip_headers(dc: DataCollection) -> bool:
    return _keeps(dc.headers().request, IP_HEADERS)


def personal_data_problems(sp: StackPrivacy) -> list[tuple[str, Any, str]]:
    """(config key, value, message) for each way a production stack collects personal data; [] when allowed."""
    if not sp.production or sp.allowPersonalData:
        return []
    dc = sp.collection
    source = "dataCollection" if sp.dataCollection is not None else "sendDefaultPii"
    how = "set it to false, or set sentry-stacks:allowPersonalData: true to accept it"
    problems: list[tuple[str, Any, str]] = []
    if dc.userInfo:
        key = f"{source}.userInfo" if source == "dataCollection" else source
        problems.append((key, True, (
            f"stack environment '{sp.environment}' is production and sentry-stacks:{key} makes the SDKs collect "
            f"user info (user id, email, username, IP address): {how}"
        )))
    if collects_ip_headers(dc) and not sp.privacy.scrubIPAddresses:
        key = f"{source}.httpHeaders" if source == "dataCollection" else source
        problems.append((key, compact(dc)["httpHeaders"], (
            f"stack environment '{sp.environment}' is production and sentry-stacks:{key} keeps IP-address headers "
            f"(X-Forwarded-For, X-Real-IP, ...) while sentry-stacks:privacy.scrubIPAddresses is not true: deny "
            f"them ({{deny: [{', '.join(IP_TERMS)}]}}), set privacy.scrubIPAddresses: true, or set "
            "sentry-stacks:allowPersonalData: true to accept it"
        )))
    return problems


def compact(dc: DataCollection) -> dict[str, Any]:
    """The vocabulary form (what a stack file would say), for messages and outputs."""
    return dc.model_dump(mode="json")
