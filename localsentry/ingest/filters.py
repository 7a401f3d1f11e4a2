"""Inbound data filters applied at ingest, as Relay does for the project's filter settings (a simplified
version of Relay's rules). A filtered item is dropped, counted as `filtered`, and the request still gets 200."""

from __future__ import annotations

import fnmatch
import re
from typing import Any
from urllib.parse import urlsplit

from localsentry.ingest.protocol import Item

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
CRAWLERS = re.compile(
    r"bot|crawler|spider|slurp|bingpreview|facebookexternalhit|pingdom|lighthouse|headlesschrome|phantomjs|"
    r"uptimerobot|google-structured-data-testing-tool|yahoo! slurp",
    re.IGNORECASE,
)
EXTENSIONS = re.compile(
    r"chrome-extension://|moz-extension://|safari-extension://|safari-web-extension://|^resource://|"
    r"top\.GLOBALS|originalCreateNotification|canvas\.contentDocument|MyApp_RemoveAllHighlights|"
    r"atomicFindClose|conduitPage|ComboSearch is not defined|http://tt\.epicplay\.com|"
    r"Can't find variable: ZiteReader|jigsaw is not defined|__gCrWeb|Non-Error promise rejection captured"
)
HEALTH_CHECKS = re.compile(r"healthcheck|healthy|/health$|/healthz$|/ping$|heartbeat|/live$|/ready$", re.IGNORECASE)
LEGACY_BROWSERS = {"ie": re.compile(r"MSIE |Trident/"), "opera_mini": re.compile(r"Opera Mini"),
                   "android": re.compile(r"Android [1-3]\.")}  # fmt: skip


def _header(request: dict[str, Any], name: str) -> str:
    headers = request.get("headers")
    if isinstance(headers, dict):
        pairs = list(headers.items())
    elif isinstance(headers, list):
        pairs = [tuple(p) for p in headers if isinstance(p, list | tuple) and len(p) == 2]
    else:
        return ""
    return next((str(v) for k, v in pairs if str(k).lower() == name), "")


def _exception_texts(event: dict[str, Any]) -> list[str]:
    exc = event.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else exc
    texts: list[str] = []
    for value in values if isinstance(values, list) else []:
        if not isinstance(value, dict):
            continue
        texts.append(f"{value.get('type') or ''}: {value.get('value') or ''}")
        frames = (value.get("stacktrace") or {}).get("frames") if isinstance(value.get("stacktrace"), dict) else None
        texts += [str(f.get("abs_path") or f.get("filename") or "") for f in frames or [] if isinstance(f, dict)]
    return texts


def _globs(options: dict[str, Any], name: str) -> list[str]:
    return [p.strip() for p in str(options.get(name) or "").splitlines() if p.strip()]


def _custom_reason(payload: dict[str, Any], options: dict[str, Any]) -> str | None:
    """Custom filters from project options (`projects:custom-inbound-filters`): messages, releases, IPs."""
    texts = [*_exception_texts(payload)[:1], str(payload.get("message") or "")]
    if any(fnmatch.fnmatch(t, p) for p in _globs(options, "filters:error_messages") for t in texts if t):
        return "error-message"
    release = str(payload.get("release") or "")
    if release and any(fnmatch.fnmatch(release, p) for p in _globs(options, "filters:releases")):
        return "release-version"
    user = payload.get("user") if isinstance(payload.get("user"), dict) else None
    ip = str(user.get("ip_address") or "") if user else ""
    if ip and ip in _globs(options, "filters:blacklisted_ips"):
        return "ip-address"
    return None


def filter_reason(item: Item, filters: dict[str, Any], options: dict[str, Any] | None = None) -> str | None:
    """The filter that drops this item, or None."""
    payload = item.json()
    if not isinstance(payload, dict):
        return None
    if item.type == "transaction":
        name = str(payload.get("transaction") or "")
        return "filtered-transaction" if filters.get("filtered-transaction") and HEALTH_CHECKS.search(name) else None
    if item.type != "event":
        return None
    custom = _custom_reason(payload, options or {})
    if custom is not None:
        return custom
    request: dict[str, Any] = payload["request"] if isinstance(payload.get("request"), dict) else {}
    user: dict[str, Any] = payload["user"] if isinstance(payload.get("user"), dict) else {}
    user_agent = _header(request, "user-agent")
    if filters.get("localhost"):
        host = urlsplit(str(request.get("url") or "")).hostname or ""
        if host in LOCAL_HOSTS or str(user.get("ip_address") or "") in LOCAL_HOSTS:
            return "localhost"
    if filters.get("web-crawlers") and user_agent and CRAWLERS.search(user_agent):
        return "web-crawlers"
    if filters.get("browser-extensions") and any(EXTENSIONS.search(t) for t in _exception_texts(payload)):
        return "browser-extensions"
    legacy = filters.get("legacy-browsers")
    for name in list(LEGACY_BROWSERS) if legacy is True else legacy or []:  # true: all legacy browsers
        pattern = LEGACY_BROWSERS.get(name)
        if pattern is not None and user_agent and pattern.search(user_agent):
            return "legacy-browsers"
    return None
