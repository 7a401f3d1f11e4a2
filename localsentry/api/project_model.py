"""Project storage defaults, serializers (summary and detailed shapes) and creation with Sentry's side effects."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from typing import Any

from localsentry.api.common import (
    SLUG_ERROR,
    has_feature,
    project_data,
    project_teams,
    slugify,
    str_field,
    unique_slug,
    valid_slug,
)
from localsentry.db import Database, dumps, now_iso
from localsentry.http import ApiError, Request

PLATFORMS = frozenset(
    "other python python-django python-flask python-fastapi python-celery python-starlette python-aiohttp "
    "python-tornado python-pyramid python-bottle python-falcon python-sanic python-quart python-rq "
    "python-awslambda python-gcpfunctions python-serverless python-tryton python-pylons python-chalice "
    "python-asgi python-wsgi node node-express node-koa node-connect node-nestjs node-hapi node-fastify "
    "node-awslambda node-gcpfunctions node-azurefunctions javascript javascript-react javascript-vue "
    "javascript-angular javascript-nextjs javascript-remix javascript-svelte javascript-sveltekit "
    "javascript-astro javascript-ember javascript-gatsby javascript-solid javascript-nuxt bun deno go go-gin "
    "go-echo go-fiber go-http go-net-http java java-spring java-spring-boot java-log4j2 java-logback kotlin "
    "android apple apple-ios apple-macos dotnet dotnet-aspnetcore dotnet-aspnet php php-laravel php-symfony "
    "ruby ruby-rails ruby-rack rust elixir dart flutter react-native unity unreal native electron capacitor "
    "cordova ionic minidump".split()
)
RESERVED_SLUGS = frozenset(
    "api-keys audit-log auth members projects rate-limits repos settings teams billing payments legal "
    "subscription support integrations developer-settings usage".split()
)
BROWSER_SDK_CHOICES = ["10.x", "9.x", "8.x", "7.x"]
DEFAULT_BROWSER_SDK = "9.x"
LEGACY_BROWSER_DEFAULTS = ["ie", "opera_mini", "opera", "safari", "android", "edge", "firefox", "chrome"]
PROJECT_FEATURES = [
    "alert-filters", "data-forwarding", "discard-groups", "minidump", "releases", "servicehooks",
    "similarity-indexing", "similarity-view",
]  # fmt: skip
PROJECT_NAME_MAX = 50
PROJECT_SLUG_MAX = 100


def default_data(platform: str | None) -> dict[str, Any]:
    js = bool(platform) and str(platform).startswith("javascript")
    return {
        "isBookmarked": False,
        "digestsMinDelay": 300,
        "digestsMaxDelay": 1800,
        "subjectPrefix": "",
        "subjectTemplate": "$shortID - $title",
        "allowedDomains": ["*"],
        "resolveAge": 0,
        "dataScrubber": True,
        "dataScrubberDefaults": True,
        "safeFields": [],
        "storeCrashReports": None,
        "sensitiveFields": [],
        "securityToken": secrets.token_hex(32),
        "securityTokenHeader": None,
        "verifySSL": False,
        "scrubIPAddresses": False,
        "scrapeJavaScript": True,
        "enableAutoReleaseCreation": True,
        "highlightTags": [],
        "highlightContext": {},
        "defaultEnvironment": None,
        "relayPiiConfig": None,
        "fingerprintingRules": "",
        "groupingEnhancements": "",
        "builtinSymbolSources": [],
        "symbolSources": "[]",
        "scmSourceContextEnabled": False,
        "browserSdkVersion": DEFAULT_BROWSER_SDK,
        "filters": {
            "browser-extensions": js,
            "localhost": False,
            "web-crawlers": js,
            "filtered-transaction": True,
            "legacy-browsers": list(LEGACY_BROWSER_DEFAULTS) if js else [],
        },
        "options": {},
    }


def project_features(org: sqlite3.Row) -> list[str]:
    features = list(PROJECT_FEATURES)
    if has_feature(org, "projects:rate-limits"):
        features.append("rate-limits")
    if has_feature(org, "projects:custom-inbound-filters"):
        features.append("custom-inbound-filters")
    return sorted(features)


def _types(db: Database, project_id: int) -> set[str]:
    return {str(r["type"]) for r in db.all("SELECT type FROM project_item_types WHERE project_id = ?", (project_id,))}


def _latest_release(db: Database, project_id: int) -> dict[str, str] | None:
    row = db.one("SELECT version FROM releases WHERE project_id = ? ORDER BY id DESC LIMIT 1", (project_id,))
    return None if row is None else {"version": str(row["version"])}


def serialize_project_summary(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    db = req.app.db
    org = db.one("SELECT * FROM orgs WHERE id = ?", (row["org_id"],))
    assert org is not None
    data = project_data(row)
    types = _types(db, int(row["id"]))
    teams = project_teams(db, int(row["id"]))
    envs = db.all(
        "SELECT name FROM environments WHERE project_id = ? AND hidden = 0 AND name != '' ORDER BY name", (row["id"],)
    )
    scopes = req.principal.scopes if req.principal else frozenset()
    return {
        "id": str(row["id"]),
        "slug": str(row["slug"]),
        "name": str(row["name"]),
        "platform": row["platform"],
        "dateCreated": str(row["created"]),
        "isBookmarked": bool(data.get("isBookmarked", False)),
        "isMember": True,
        "features": project_features(org),
        "firstEvent": row["first_event"],
        "firstTransactionEvent": "transaction" in types,
        "access": sorted(s for s in scopes if s.startswith(("project:", "event:", "alerts:", "team:"))),
        "hasAccess": True,
        "hasFeedbacks": "feedback" in types,
        "hasFlags": False,
        "hasMinifiedStackTrace": False,
        "hasMonitors": "check_in" in types,
        "hasNewFeedbacks": "feedback" in types,
        "hasProfiles": bool(types & {"profile", "profile_chunk"}),
        "hasReplays": "replay_event" in types,
        "hasSessions": bool(types & {"session", "sessions"}),
        "hasInsightsHttp": False,
        "hasInsightsDb": False,
        "hasInsightsAssets": False,
        "hasInsightsAppStart": False,
        "hasInsightsScreenLoad": False,
        "hasInsightsVitals": False,
        "hasInsightsCaches": False,
        "hasInsightsQueues": False,
        "hasInsightsAgentMonitoring": False,
        "hasInsightsMCP": False,
        "hasLogs": "log" in types,
        "hasTraceMetrics": False,
        "hasUserReports": "user_report" in types,
        "team": teams[0] if teams else None,
        "teams": teams,
        "platforms": [row["platform"]] if row["platform"] else [],
        "environments": [str(e["name"]) for e in envs],
        "latestRelease": _latest_release(db, int(row["id"])),
        "latestDeploys": None,
    }


def raw_options(data: dict[str, Any]) -> dict[str, Any]:
    filters = data.get("filters", {})
    options: dict[str, Any] = {
        "sentry:resolve_age": data.get("resolveAge", 0),
        "mail:subject_prefix": data.get("subjectPrefix", ""),
        "sentry:origins": "\n".join(data.get("allowedDomains", ["*"])),
        "sentry:scrub_ip_address": data.get("scrubIPAddresses", False),
        "sentry:token": data.get("securityToken"),
        "sentry:token_header": data.get("securityTokenHeader"),
        "sentry:verify_ssl": data.get("verifySSL", False),
        "sentry:csp_ignored_sources_defaults": True,
        "sentry:csp_ignored_sources": "",
        "sentry:reprocessing_active": False,
        "filters:blacklisted_ips": "",
        "filters:releases": "",
        "filters:error_messages": "",
        "filters:react-hydration-errors": True,
        "filters:chunk-load-error": True,
        "quotas:spike-protection-disabled": False,
        "feedback:branding": True,
    }
    for fid in ("browser-extensions", "localhost", "web-crawlers", "filtered-transaction"):
        options[f"filters:{fid}"] = "1" if filters.get(fid) else "0"
    options.update(data.get("options", {}))
    return options


def project_flags(row: sqlite3.Row) -> dict[str, Any]:
    """The fields the team-membership answers add to the summary shape."""
    return {
        "isInternal": False,
        "isPublic": False,
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None, "avatarUrl": None},
        "color": "#" + hashlib.md5(str(row["slug"]).encode(), usedforsecurity=False).hexdigest()[:6],
        "status": "active",
    }


def serialize_project_detail(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    from localsentry.api.organizations import serialize_org

    body = serialize_project_summary(req, row)
    data = project_data(row)
    org = req.app.db.one("SELECT * FROM orgs WHERE id = ?", (row["org_id"],))
    assert org is not None
    body.pop("environments", None)
    body.pop("hasUserReports", None)
    body.pop("latestDeploys", None)
    body.update(project_flags(row))
    body.update(
        {
            "options": raw_options(data),
            "groupingConfig": "newstyle:2023-01-11",
            "derivedGroupingEnhancements": "",
            "secondaryGroupingConfig": None,
            "secondaryGroupingExpiry": 0,
            "organization": serialize_org(req, org, detailed=False),
            "processingIssues": 0,
            "dynamicSamplingBiases": None,
            "isDynamicallySampled": False,
            "highlightPreset": {"tags": ["level", "environment", "release"], "context": {"trace": ["trace_id"]}},
            "tempestFetchScreenshots": False,
            "autofixAutomationTuning": "off",
            "seerScannerAutomation": True,
            "seerNightshiftTweaks": None,
            "debugFilesRole": None,
            "plugins": [],
        }
    )
    for name in (
        "digestsMinDelay", "digestsMaxDelay", "subjectPrefix", "subjectTemplate", "allowedDomains", "resolveAge",
        "dataScrubber", "dataScrubberDefaults", "safeFields", "storeCrashReports", "sensitiveFields",
        "securityToken", "securityTokenHeader", "verifySSL", "scrubIPAddresses", "scrapeJavaScript",
        "enableAutoReleaseCreation", "highlightTags", "highlightContext", "defaultEnvironment", "relayPiiConfig",
        "fingerprintingRules", "groupingEnhancements", "builtinSymbolSources", "symbolSources",
        "scmSourceContextEnabled",
    ):  # fmt: skip
        body[name] = data.get(name)
    return body


def validate_create(body: dict[str, Any]) -> tuple[str, str | None, str | None, bool]:
    errors: dict[str, list[str]] = {}
    name = str_field(body, "name", errors, PROJECT_NAME_MAX, nullable=False)
    if "name" not in body or (name is not None and not name.strip()):
        errors.setdefault(
            "name", ["This field is required."] if "name" not in body else ["This field may not be blank."]
        )
    slug = body.get("slug")
    if slug is not None and (not valid_slug(slug) or len(str(slug)) > PROJECT_SLUG_MAX):
        errors["slug"] = [SLUG_ERROR]
    elif slug in RESERVED_SLUGS:
        errors["slug"] = [f'The slug "{slug}" is reserved and not allowed.']
    if name is not None and name.lower() in RESERVED_SLUGS:
        errors["name"] = [f'The name "{name}" is reserved and not allowed.']
    platform = body.get("platform")
    if platform not in (None, "") and platform not in PLATFORMS:
        errors["platform"] = ["Invalid platform"]
    default_rules = body.get("default_rules", True)
    if not isinstance(default_rules, bool):
        errors["default_rules"] = ["Must be a valid boolean."]
    if errors:
        raise ApiError(400, errors)
    assert name is not None
    return name, slug, platform or None, bool(default_rules)


def create_project(req: Request, org: sqlite3.Row, team_id: int, body: dict[str, Any]) -> sqlite3.Row:
    """Insert the project with its team, a "Default" key, `error`/`issue_stream` detectors and default alert."""
    from localsentry.api.alerts import create_default_workflow
    from localsentry.api.client_keys import insert_key
    from localsentry.api.legacy_rules import create_default_rule
    from localsentry.api.metric_monitors import create_builtin_detectors

    name, slug, platform, default_rules = validate_create(body)
    db = req.app.db
    org_id = int(org["id"])
    with db.tx():
        if slug:
            taken = db.one("SELECT id FROM projects WHERE org_id = ? AND slug = ? AND deleted = 0", (org_id, slug))
            if taken is not None:
                raise ApiError(409, {"detail": "A project with this slug already exists."})
        else:
            slug = unique_slug(db, "projects", org_id, slugify(name, PROJECT_SLUG_MAX), PROJECT_SLUG_MAX)
        project_id = db.run(
            "INSERT INTO projects (org_id, slug, name, platform, created, data) VALUES (?, ?, ?, ?, ?, ?)",
            (org_id, slug, name, platform, now_iso(), dumps(default_data(platform))),
        )
        db.run("INSERT INTO project_teams (project_id, team_id) VALUES (?, ?)", (project_id, team_id))
        insert_key(db, project_id, "Default")
        issue_stream_id = create_builtin_detectors(db, org_id, project_id)
        if default_rules:
            create_default_rule(db, project_id)
            create_default_workflow(db, org_id, issue_stream_id)
    row = db.one("SELECT * FROM projects WHERE id = ?", (project_id,))
    assert row is not None
    return row
