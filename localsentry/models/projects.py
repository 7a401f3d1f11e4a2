"""Project storage defaults, serializers (summary and detailed shapes) and create validation.

The create itself, with Sentry's side effects (default key, detectors, alerts), is `projects.create_project`."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from typing import Any

from localsentry.db import Database
from localsentry.http import ApiError, Request
from localsentry.models.common import SLUG_ERROR, has_feature, project_data, project_teams, str_field, valid_slug
from localsentry.models.orgs import serialize_org_base
from localsentry.vocabulary import (
    DEFAULT_BROWSER_SDK,
    LEGACY_BROWSER_DEFAULTS,
    PLATFORMS,
    PROJECT_FEATURES,
    PROJECT_NAME_MAX,
    PROJECT_SLUG_MAX,
    RESERVED_SLUGS,
)


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
    org = db.fetch("orgs", row["org_id"])
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
    body = serialize_project_summary(req, row)
    data = project_data(row)
    org = req.app.db.fetch("orgs", row["org_id"])
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
            "organization": serialize_org_base(req, org, detailed=False),
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
