"""The ClientKey's typed inputs, and how they meet Sentry: bodies, the key's state, comparison."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from infra.fields import Bool, BrowserSdkVersion, ProjectSlug, RateCount, RateWindow, text
from infra.sentry.compare import as_int, bool_map, flag
from infra.sentry.shape import SentryModel, field, props_of

SECRET_OUTPUTS = ("dsn", "dsnSecret", "secret")
RATE_LIMIT_WARNING = (
    "Sentry ignored the key's rateLimit: the organization's plan lacks the projects:rate-limits feature. "
    "The limit stays declared but is not enforced; remove it or upgrade the plan"
)


def norm_rate_limit(value: Any) -> dict[str, int] | None:
    """``{count, window}`` with ints, or None for no limit (null, or a zero/absent count or window)."""
    if not isinstance(value, Mapping):
        return None
    count, window = as_int(value.get("count")), as_int(value.get("window"))
    if not count or not window:
        return None
    return {"count": count, "window": window}


class RateLimit(SentryModel):
    """At most ``count`` events per ``window`` seconds (applied when the plan allows key rate limits)."""

    count: RateCount = field("count", description="Events per window (at least 1)")
    window: RateWindow = field("window", description="Seconds (1 to 86400)")


class LoaderOptions(SentryModel):
    """The JavaScript loader options of a key (``dynamicSdkLoaderOptions``); an option left out is not managed."""

    has_replay: Bool | None = field("hasReplay", None)
    has_performance: Bool | None = field("hasPerformance", None)
    has_debug: Bool | None = field("hasDebug", None)
    has_feedback: Bool | None = field("hasFeedback", None)
    has_logs_and_metrics: Bool | None = field("hasLogsAndMetrics", None)


LOADER_OPTIONS = tuple(info.alias or name for name, info in LoaderOptions.model_fields.items())


def norm_loader(declared: Any, live: Any) -> dict[str, bool] | None:
    """The live loader options restricted to the declared sub-keys (None when nothing is declared)."""
    if not isinstance(declared, Mapping):
        return None
    source = live if isinstance(live, Mapping) else {}
    return {k: bool(source.get(k, False)) for k in declared if k in LOADER_OPTIONS}


class ClientKeyInputs(SentryModel):
    """A client key (DSN) of a project (``sentrystacks:index:ClientKey``), found again by its name."""

    project: ProjectSlug = field("project", sent=False, replace=True, description="Slug of the key's project")
    name: Annotated[str, text("a key name", max_len=64)] = field("name", description="The key's name")
    active: Bool = field("isActive", True, compare=flag(True), unset="default",
                         description="false disables the key (ingest answers 403)")
    rate_limit: RateLimit | None = field("rateLimit", None, compare=norm_rate_limit,
                                         description="Per-key event rate limit")
    browser_sdk_version: BrowserSdkVersion | None = field(
        "browserSdkVersion", None, description="Loader SDK version; default: the project's")
    loader: LoaderOptions | None = field("dynamicSdkLoaderOptions", None, compare=bool_map, projected=True,
                                         description="JavaScript loader options")
    adopt: Bool = field("adopt", False, sent=False, description="Adopt a key of that name that already exists")
    lookup_first: Bool | None = field(
        "lookupFirst", None, sent=False, diff=False,
        description="false: look the name up before the POST only when a killed run may have created it")
    reuse_default: Bool | None = field(
        "reuseDefault", None, sent=False, diff=False,
        description="Take over the 'Default' key of a project this stack just created")

    @property
    def limit(self) -> dict[str, int] | None:
        return None if self.rate_limit is None else {"count": self.rate_limit.count, "window": self.rate_limit.window}

    @property
    def options(self) -> dict[str, bool] | None:
        return None if self.loader is None else {k: bool(v) for k, v in props_of(self.loader).items()}

    def create_body(self) -> dict[str, Any]:
        """Body of POST /projects/{org}/{project}/keys/ (``rateLimit: null`` is refused on POST)."""
        body: dict[str, Any] = {"name": self.name}
        if self.limit is not None:
            body["rateLimit"] = self.limit
        return body

    def to_body(self, live: Mapping[str, Any]) -> dict[str, Any]:
        """PUT body with what differs from `live`. ``browserSdkVersion`` is always sent: Sentry resets it
        to the project default when a PUT leaves it out."""
        body: dict[str, Any] = {}
        if self.name != live.get("name"):
            body["name"] = self.name
        if self.active != bool(live.get("isActive", True)):
            body["isActive"] = self.active
        if self.limit != norm_rate_limit(live.get("rateLimit")):
            body["rateLimit"] = self.limit
        options = self.options
        if options is not None and options != norm_loader(options, live.get("dynamicSdkLoaderOptions")):
            body["dynamicSdkLoaderOptions"] = options
        wanted_sdk = self.browser_sdk_version or live.get("browserSdkVersion")
        if (body or wanted_sdk != live.get("browserSdkVersion")) and wanted_sdk:
            body["browserSdkVersion"] = wanted_sdk
        return body


class ClientKeyState(ClientKeyInputs):
    """What a ClientKey's state holds besides its inputs; the DSNs and the key's secret are secrets."""

    key_id: str | None = field("keyId", None, sent=False, diff=False, description="The key's id (its public part)")
    public: str | None = field("public", None, sent=False, diff=False)
    secret: str | None = field("secret", None, sent=False, diff=False, secret=True)
    dsn: str | None = field("dsn", None, sent=False, diff=False, secret=True, description="The DSN SDKs use")
    dsn_secret: str | None = field("dsnSecret", None, sent=False, diff=False, secret=True,
                                   description="The DSN with the secret part (legacy)")
    project_id: str | None = field("projectId", None, sent=False, diff=False)
    organization: str | None = field("organization", None, sent=False, diff=False)
    date_created: str | None = field("dateCreated", None, sent=False, diff=False)
    rate_limit_applied: bool | None = field("rateLimitApplied", None, sent=False, diff=False,
                                            description="false: the plan dropped the declared rateLimit")
    rate_limit_warning: str | None = field("rateLimitWarning", None, sent=False, diff=False)


def outputs_from_api(
    key: Mapping[str, Any], inputs: ClientKeyInputs, *, organization: str, rate_limit_applied: bool | None = None
) -> dict[str, Any]:
    """State of a key: the inputs with live values, the key material and DSNs (secret outputs).

    When Sentry dropped a declared rate limit (plan without ``projects:rate-limits``), the declared
    value is kept in ``rateLimit`` (so it is not diffed forever) and ``rateLimitApplied`` is False with
    a ``rateLimitWarning``."""
    live_limit = norm_rate_limit(key.get("rateLimit"))
    outs = props_of(inputs)
    outs["name"] = key.get("name")
    outs["isActive"] = bool(key.get("isActive", True))
    applied: bool | None = None
    if inputs.limit is not None:
        applied = live_limit == inputs.limit if rate_limit_applied is None else rate_limit_applied
        if applied or live_limit is not None:
            outs["rateLimit"] = live_limit
    elif live_limit is not None:
        outs["rateLimit"] = live_limit
    if inputs.browser_sdk_version is not None:
        outs["browserSdkVersion"] = key.get("browserSdkVersion")
    if inputs.options is not None:
        outs["dynamicSdkLoaderOptions"] = norm_loader(inputs.options, key.get("dynamicSdkLoaderOptions"))
    raw_dsn = key.get("dsn")
    dsn: Mapping[str, Any] = raw_dsn if isinstance(raw_dsn, Mapping) else {}
    outs.update(
        keyId=str(key.get("id")),
        public=key.get("public"),
        secret=key.get("secret"),
        dsn=dsn.get("public"),
        dsnSecret=dsn.get("secret"),
        projectId=str(key.get("projectId")),
        organization=organization,
        dateCreated=key.get("dateCreated"),
        rateLimitApplied=applied,
        rateLimitWarning=RATE_LIMIT_WARNING if applied is False else None,
    )
    return outs


__all__ = [
    "LOADER_OPTIONS",
    "RATE_LIMIT_WARNING",
    "SECRET_OUTPUTS",
    "ClientKeyInputs",
    "LoaderOptions",
    "RateLimit",
    "norm_loader",
    "norm_rate_limit",
    "outputs_from_api",
]
