"""Client key storage and shape: a new key's row, its DSNs (from the server or the org's relay endpoint)."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from localsentry.db import Database, dumps, loads, now_iso
from localsentry.http import Request
from localsentry.models.common import org_settings
from localsentry.vocabulary import BROWSER_SDK_CHOICES, DEFAULT_BROWSER_SDK

LOADER_KEYS = ("hasReplay", "hasPerformance", "hasDebug", "hasFeedback", "hasLogsAndMetrics")
DEFAULT_LOADER = {"hasReplay": True, "hasPerformance": True, "hasDebug": False, "hasFeedback": False,
                  "hasLogsAndMetrics": False}  # fmt: skip
USE_CASES = ("user", "profiling", "tempest", "demo")
ADJECTIVES = "Able Brave Calm Eager Fair Gentle Happy Jolly Kind Liked Merry Noble Proud Quiet Sunny Witty".split()
ANIMALS = "Badger Condor Dolphin Falcon Gecko Heron Ibis Jaguar Koala Lynx Marmot Otter Pegasus Quail Wren".split()


def petname() -> str:
    return f"{secrets.choice(ADJECTIVES)} {secrets.choice(ANIMALS)}"


def insert_key(
    db: Database, project_id: int, label: str | None = None, public: str | None = None, secret: str | None = None,
    rate_limit: tuple[int, int] | None = None, use_case: str = "user",
) -> int:  # fmt: skip
    return db.run(
        "INSERT INTO keys (project_id, public, secret, label, active, rl_count, rl_window, browser_sdk, loader, "
        "created, use_case) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        (
            project_id, public or secrets.token_hex(16), secret or secrets.token_hex(16), label or petname(),
            rate_limit[0] if rate_limit else None, rate_limit[1] if rate_limit else None, DEFAULT_BROWSER_SDK,
            dumps(DEFAULT_LOADER), now_iso(), use_case,
        ),
    )  # fmt: skip


def ingest_base(req: Request, org_id: int) -> str:
    org = req.app.db.one("SELECT * FROM orgs WHERE id = ?", (org_id,))
    endpoint = org_settings(org).get("relayDsnEndpoint") if org is not None else None
    return str(endpoint or req.base_url).rstrip("/")


def dsn_fields(base: str, project_id: int, public: str, secret: str) -> dict[str, str]:
    parts = urlsplit(base)
    host = parts.netloc + parts.path.rstrip("/")
    api = f"{base}/api/{project_id}"
    return {
        "secret": f"{parts.scheme}://{public}:{secret}@{host}/{project_id}",
        "public": f"{parts.scheme}://{public}@{host}/{project_id}",
        "csp": f"{api}/csp-report/?sentry_key={public}",
        "security": f"{api}/security/?sentry_key={public}",
        "minidump": f"{api}/minidump/?sentry_key={public}",
        "nel": f"{api}/nel/?sentry_key={public}",
        "unreal": f"{api}/unreal/{public}/",
        "crons": f"{api}/cron/___MONITOR_SLUG___/{public}/",
        "cdn": f"https://js.sentry-cdn.com/{public}.min.js",
        "playstation": f"{api}/playstation/?sentry_key={public}",
        "integration": f"{api}/integration/",
        "otlp_traces": f"{api}/integration/otlp/v1/traces",
        "otlp_logs": f"{api}/integration/otlp/v1/logs",
    }


def serialize_key(req: Request, key: sqlite3.Row, org_id: int) -> dict[str, Any]:
    count, window = key["rl_count"], key["rl_window"]
    loader = dict(DEFAULT_LOADER, **(loads(key["loader"]) or {}))
    body: dict[str, Any] = {
        "id": str(key["public"]),
        "name": str(key["label"]),
        "label": str(key["label"]),
        "public": str(key["public"]),
        "secret": str(key["secret"]),
        "projectId": int(key["project_id"]),
        "isActive": bool(key["active"]),
        "rateLimit": {"window": int(window), "count": int(count)} if count and window else None,
        "dsn": dsn_fields(ingest_base(req, org_id), int(key["project_id"]), str(key["public"]), str(key["secret"])),
        "browserSdkVersion": str(key["browser_sdk"]),
        "browserSdk": {"choices": [[v, v] for v in BROWSER_SDK_CHOICES]},
        "dateCreated": key["created"],
        "dynamicSdkLoaderOptions": {k: bool(loader[k]) for k in LOADER_KEYS},
    }
    if req.principal is not None and req.principal.is_admin:
        body["useCase"] = str(key["use_case"])
    return body
