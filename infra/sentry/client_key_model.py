"""Pure conversion for the ClientKey resource."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.sentry.base import PROVIDER_KEY
from infra.sentry.compare import as_int

LOADER_OPTIONS = ("hasReplay", "hasPerformance", "hasDebug", "hasFeedback", "hasLogsAndMetrics")
MUTABLE = ("name", "isActive", "rateLimit", "browserSdkVersion", "dynamicSdkLoaderOptions")
IDENTITY = ("project",)
FLAGS = ("adopt",)
INPUT_KEYS = (*IDENTITY, *MUTABLE, *FLAGS)
SECRET_OUTPUTS = ("dsn", "dsnSecret", "secret")
COMPUTED = ("keyId", "public", "projectId", "organization", "dateCreated", "rateLimitApplied",
            "rateLimitWarning", *SECRET_OUTPUTS)
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


def norm_loader(declared: Any, live: Any) -> dict[str, bool] | None:
    """The live loader options restricted to the declared sub-keys (None when nothing is declared)."""
    if not isinstance(declared, Mapping):
        return None
    source = live if isinstance(live, Mapping) else {}
    return {k: bool(source.get(k, False)) for k in declared if k in LOADER_OPTIONS}


@dataclass(frozen=True)
class ClientKeyInputs:
    """Checked inputs of a ClientKey. None = not managed (left as Sentry has it)."""

    project: str
    name: str
    is_active: bool = True
    rate_limit: dict[str, int] | None = None
    browser_sdk_version: str | None = None
    loader: dict[str, bool] | None = None
    adopt: bool = False

    @staticmethod
    def from_props(props: Mapping[str, Any]) -> ClientKeyInputs:
        loader = props.get("dynamicSdkLoaderOptions")
        return ClientKeyInputs(
            project=str(props["project"]),
            name=str(props["name"]),
            is_active=bool(props.get("isActive", True)),
            rate_limit=norm_rate_limit(props.get("rateLimit")),
            browser_sdk_version=props.get("browserSdkVersion") or None,
            loader={k: bool(v) for k, v in loader.items()} if isinstance(loader, Mapping) else None,
            adopt=bool(props.get("adopt", False)),
        )

    def to_props(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "project": self.project, "name": self.name, "isActive": self.is_active, "adopt": self.adopt,
        }
        if self.rate_limit is not None:
            props["rateLimit"] = dict(self.rate_limit)
        if self.browser_sdk_version is not None:
            props["browserSdkVersion"] = self.browser_sdk_version
        if self.loader is not None:
            props["dynamicSdkLoaderOptions"] = dict(self.loader)
        return props

    def create_body(self) -> dict[str, Any]:
        """Body of POST /projects/{org}/{project}/keys/ (``rateLimit: null`` is refused on POST)."""
        body: dict[str, Any] = {"name": self.name}
        if self.rate_limit is not None:
            body["rateLimit"] = dict(self.rate_limit)
        return body

    def to_body(self, live: Mapping[str, Any]) -> dict[str, Any]:
        """PUT body with what differs from `live`. ``browserSdkVersion`` is always sent: Sentry resets it
        to the project default when a PUT leaves it out."""
        body: dict[str, Any] = {}
        if self.name != live.get("name"):
            body["name"] = self.name
        if self.is_active != bool(live.get("isActive", True)):
            body["isActive"] = self.is_active
        if self.rate_limit != norm_rate_limit(live.get("rateLimit")):
            body["rateLimit"] = dict(self.rate_limit) if self.rate_limit else None
        if self.loader is not None and self.loader != norm_loader(self.loader, live.get("dynamicSdkLoaderOptions")):
            body["dynamicSdkLoaderOptions"] = dict(self.loader)
        wanted_sdk = self.browser_sdk_version or live.get("browserSdkVersion")
        if body or wanted_sdk != live.get("browserSdkVersion"):
            if wanted_sdk:
                body["browserSdkVersion"] = wanted_sdk
        return body


def outputs_from_api(
    key: Mapping[str, Any], inputs: ClientKeyInputs, *, organization: str, rate_limit_applied: bool | None = None
) -> dict[str, Any]:
    """State of a key: the inputs with live values, the key material and DSNs (secret outputs).

    When Sentry dropped a declared rate limit (plan without ``projects:rate-limits``), the declared
    value is kept in ``rateLimit`` (so it is not diffed forever) and ``rateLimitApplied`` is False with
    a ``rateLimitWarning``."""
    live_limit = norm_rate_limit(key.get("rateLimit"))
    outs = inputs.to_props()
    outs["name"] = key.get("name")
    outs["isActive"] = bool(key.get("isActive", True))
    applied: bool | None = None
    if inputs.rate_limit is not None:
        applied = live_limit == inputs.rate_limit if rate_limit_applied is None else rate_limit_applied
        if applied or live_limit is not None:
            outs["rateLimit"] = live_limit
    elif live_limit is not None:
        outs["rateLimit"] = live_limit
    if inputs.browser_sdk_version is not None:
        outs["browserSdkVersion"] = key.get("browserSdkVersion")
    if inputs.loader is not None:
        outs["dynamicSdkLoaderOptions"] = norm_loader(inputs.loader, key.get("dynamicSdkLoaderOptions"))
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


def inputs_from_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: outs[k] for k in INPUT_KEYS if outs.get(k) is not None and k != PROVIDER_KEY}


def changed_fields(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Declared fields of `news` that differ from the stored outputs `olds`."""
    changed = []
    for key in INPUT_KEYS:
        if key not in news:
            if key == "isActive" and olds.get("isActive") is False:
                changed.append(key)  # default True
            continue
        new, old = news[key], olds.get(key)
        if key == "rateLimit":
            new, old = norm_rate_limit(new), norm_rate_limit(old)
        elif key == "dynamicSdkLoaderOptions":
            old = norm_loader(new, old)
            new = {k: bool(v) for k, v in new.items()} if isinstance(new, Mapping) else new
        if new != old:
            changed.append(key)
    return changed


__all__ = [
    "COMPUTED",
    "IDENTITY",
    "INPUT_KEYS",
    "LOADER_OPTIONS",
    "MUTABLE",
    "RATE_LIMIT_WARNING",
    "SECRET_OUTPUTS",
    "ClientKeyInputs",
    "changed_fields",
    "inputs_from_outputs",
    "norm_loader",
    "norm_rate_limit",
    "outputs_from_api",
]
