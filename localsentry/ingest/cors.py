"""CORS for browser SDKs: preflight answers, response headers, and the project's allowedDomains check."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from localsentry.http import Response

ALLOW_HEADERS = (
    "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, authentication, "
    "authorization, content-encoding, transfer-encoding, baggage, sentry-trace"
)
EXPOSE_HEADERS = "x-sentry-error, x-sentry-rate-limits, retry-after"


def origin_of(headers: Any) -> str | None:
    origin = headers.get("Origin")
    if origin:
        return str(origin)
    referer = headers.get("Referer")
    if referer:
        parts = urlsplit(str(referer))
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return None


def _host_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) or host == pattern[2:]
    return pattern == host


def cors_allowed(origin: str, allowed: list[str]) -> bool:
    if "*" in allowed:
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    host = parts.hostname or ""
    netloc = parts.netloc.lower()
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        if "://" in entry:
            want = urlsplit(entry)
            if want.scheme == parts.scheme and (_host_matches(want.netloc, netloc) or _host_matches(want.netloc, host)):
                return True
        elif _host_matches(entry, netloc) or _host_matches(entry, host):
            return True
    return False


def cors_headers(headers: Any) -> dict[str, str]:
    if not headers.get("Origin"):
        return {}
    return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSE_HEADERS}


def preflight(headers: Any) -> Response:
    return Response(
        200,
        raw=b"",
        content_type="text/plain",
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Expose-Headers": EXPOSE_HEADERS,
            "Access-Control-Max-Age": "3600",
        },
    )
