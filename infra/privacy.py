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

This module is a leaf: it imports only pydantic and the standard library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
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


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class PrivacyProblem:
    """One bad privacy setting: the key path below ``sentry-stacks:`` (e.g. ``dataCollection.cookies``)."""

    key: str
    value: Any
    message: str


_TOP = ("dataCollection", "sendDefaultPii", "privacy", "allowPersonalData")


def problems_from(exc: ValidationError) -> list[PrivacyProblem]:
    """A pydantic error as problems naming the config key path (``dataCollection.httpBodies[0]``), the value
    given and what is allowed."""
    out: list[PrivacyProblem] = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        if err["type"] == "personal_data":
            out.extend(PrivacyProblem(k, v, m) for k, v, m in ctx["problems"])
            continue
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"])
        if err["type"] == "bool_parsing":
            msg = "must be a boolean: true or false"
        out.append(PrivacyProblem(path, err.get("input"), msg))
    return out


def load_stack_privacy(raw: Mapping[str, Any], environment: str) -> StackPrivacy:
    """`raw`: the stack's top-level config values by short key (``dataCollection``...). Raises ValidationError."""
    data: dict[str, Any] = {"environment": environment}
    for key in _TOP:
        if raw.get(key) is not None:
            data[key] = raw[key]
    return StackPrivacy.model_validate(data)


#: ``SharedPrivacy.others`` entry of a stack whose file is in the checkout but whose privacy settings are not valid
UNREADABLE = "unreadable"
_BLOCK_KEYS = ("privacy", "projectMode")


def _cheap_config(text: str, project: str) -> dict[str, Any] | None:
    """The ``<project>:privacy`` and ``<project>:projectMode`` values (full keys) of a stack file in block style,
    parsing only their lines (a stack file may hold megabytes of other config); None when the file is written in
    a way this does not follow (the caller parses it whole)."""
    import yaml

    wanted = tuple(f"{project}:{k}:" for k in _BLOCK_KEYS)
    if not any(w in text for w in wanted):
        return {}
    lines = text.splitlines()
    out: dict[str, Any] = {}
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped.startswith(wanted):
            continue
        indent = len(line) - len(stripped)
        block = [stripped]
        for nxt in lines[i + 1:]:
            if nxt.strip() and (len(nxt) - len(nxt.lstrip())) <= indent:
                break
            block.append(nxt[indent:] if len(nxt) >= indent else nxt)
        try:
            data = yaml.safe_load("\n".join(block))
        except yaml.YAMLError:
            return None
        if not isinstance(data, dict):
            return None
        out.update(data)
    return out


def sibling_privacy(root: Path, project: str, stack: str) -> dict[str, ProjectPrivacy | PrivacyProblem]:
    """The ``privacy`` settings of the other stacks of this Pulumi project that share its projects.

    Read from each ``Pulumi.<stack>.yaml`` next to ``Pulumi.yaml`` (defaults from ``Pulumi.yaml``), parsing only the
    two keys it needs; stacks in ``per-environment`` mode are left out. A stack whose file or privacy settings are
    not valid is not skipped: it comes back as a :class:`PrivacyProblem` naming the file and the key."""
    import yaml

    def config_of(path: Path) -> dict[str, Any] | PrivacyProblem:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            return PrivacyProblem(path.name, None, f"cannot be read: {exc.strerror or exc}")
        cheap = _cheap_config(text, project)
        if cheap is not None:
            return cheap
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            return PrivacyProblem(path.name, None, f"is not valid YAML: {' '.join(str(exc).split())[:200]}")
        config = data.get("config") if isinstance(data, dict) else None
        return dict(config) if isinstance(config, dict) else {}

    defaults: dict[str, Any] = {}
    try:
        base = yaml.safe_load((root / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        base = {}
    for key, decl in (base.get("config") or {}).items() if isinstance(base, dict) else ():
        full = key if ":" in key else f"{project}:{key}"
        defaults[full] = decl.get("default", decl.get("value")) if isinstance(decl, dict) else decl
    out: dict[str, ProjectPrivacy | PrivacyProblem] = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi.") : -len(".yaml")]
        if name == stack:
            continue
        found = config_of(path)
        if isinstance(found, PrivacyProblem):
            out[name] = found
            continue
        config = {**defaults, **found}
        if str(config.get(f"{project}:projectMode") or "shared") != "shared":
            continue
        value = config.get(f"{project}:privacy")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                out[name] = PrivacyProblem(f"{path.name}: {project}:privacy", value, "must be an object")
                continue
        try:
            out[name] = ProjectPrivacy.model_validate(value or {})
        except ValidationError as exc:
            first = problems_from(exc)[0]
            key = f"{project}:privacy" + (f".{first.key}" if first.key else "")
            out[name] = PrivacyProblem(f"{path.name}: {key}", first.value, first.message)
    return out


# --------------------------------------------------------------------------- shared projects


@dataclass(frozen=True)
class SharedPrivacy:
    """A shared project's privacy as this stack sees it: ``values``, the fields this stack asks for (its own
    declaration: what it writes); ``others``, every other stack's declared fields as read from this checkout
    (:data:`UNREADABLE` for a stack whose file is not valid), which the provider consults before it lowers a
    setting this stack asked for (infra/sentry/privacy_floor.py); ``notes``, what the preview says about them."""

    values: dict[str, Any]
    others: dict[str, Any]
    notes: tuple[str, ...]


def shared_privacy(stack: str, own: ProjectPrivacy,
                   siblings: Mapping[str, ProjectPrivacy | PrivacyProblem]) -> SharedPrivacy:
    """This stack's asks, the other stacks' asks, and a warning per sibling file whose privacy cannot be read
    (Sentry then keeps whatever scrubbing that stack applied: nothing is lowered on its behalf)."""
    others: dict[str, Any] = {}
    notes: list[str] = []
    for name, found in sorted(siblings.items()):
        if name == stack:
            continue
        if isinstance(found, PrivacyProblem):
            others[name] = UNREADABLE
            value = "" if found.value is None else f" = {json.dumps(found.value, default=str)[:80]}"
            notes.append(
                f"{found.key}{value}: {found.message}. Stack {name} shares this stack's Sentry projects and its "
                f"privacy settings cannot be read: this stack lowers no scrubbing on its behalf (Sentry keeps what "
                f"{name} applied); fix the file, or delete it if stack {name} is gone"
            )
            continue
        others[name] = found.declared()
    return SharedPrivacy(own.declared(), others, tuple(notes))


def project_values(sp: StackPrivacy, shared: SharedPrivacy | None) -> dict[str, Any]:
    """The privacy fields this stack asks its projects to have (Sentry PUT keys)."""
    return dict(shared.values) if shared is not None else sp.privacy.declared()


# --------------------------------------------------------------------------- SDK options


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


def compact(dc: DataCollection) -> dict[str, Any]:
    """The vocabulary form (what a stack file would say), for messages and outputs."""
    return dc.model_dump(mode="json")


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


__all__ = [
    "DEFAULT",
    "EVERYTHING",
    "HTTP_BODIES",
    "IP_TERMS",
    "PRODUCTION_ENVIRONMENTS",
    "PROJECT_FIELDS",
    "SENTRY_PROJECT_DEFAULTS",
    "UNREADABLE",
    "Allow",
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
