"""Organization serializers: the summary shape and the detailed one without projects and teams."""

from __future__ import annotations

import sqlite3
from typing import Any

from localsentry.http import Request
from localsentry.models.common import org_features, org_settings


def serialize_org_base(req: Request, org: sqlite3.Row, detailed: bool = True) -> dict[str, Any]:
    """The organization shape without its projects and teams (those belong to `organizations.serialize_org`)."""
    settings = org_settings(org)
    url = req.base_url
    body: dict[str, Any] = {
        "id": str(org["id"]),
        "slug": str(org["slug"]),
        "name": str(org["name"]),
        "status": {"id": "active", "name": "active"},
        "dateCreated": str(org["created"]),
        "isEarlyAdopter": False,
        "require2FA": False,
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None, "avatarUrl": None},
        "links": {"organizationUrl": url, "regionUrl": url},
        "hasAuthProvider": False,
        "allowMemberInvite": True,
        "allowMemberProjectCreation": True,
        "allowSuperuserAccess": False,
        "features": sorted(org_features(org)),
    }
    if detailed:
        scopes = sorted(req.principal.scopes) if req.principal else []
        body.update(
            {
                "access": scopes,
                "extraOptions": {},
                "onboardingTasks": [],
                "experiments": {},
                "isDefault": False,
                "defaultRole": "member",
                "orgRoleList": [],
                "teamRoleList": [],
                "relayDsnEndpoint": settings.get("relayDsnEndpoint"),
                **DETAILED_DEFAULTS,
            }
        )
        body["defaultCodeReviewTriggers"] = list(body["defaultCodeReviewTriggers"])
    return body


DETAILED_DEFAULTS: dict[str, Any] = {
    "aggregatedDataConsent": False, "alertsMemberWrite": True, "allowJoinRequests": True, "allowSharedIssues": True,
    "attachmentsRole": "member", "autoEnableCodeReview": False, "autoOpenPrs": False, "dataScrubber": False,
    "dataScrubberDefaults": False, "debugFilesRole": "admin", "defaultAutofixAutomationTuning": "off",
    "defaultAutomatedRunStoppingPoint": "code_changes", "defaultCodeReviewTriggers": ("on_ready_for_review",),
    "defaultCodingAgent": "seer", "defaultCodingAgentIntegrationId": None, "defaultSeerScannerAutomation": False,
    "enableSeerCoding": False, "enhancedPrivacy": False, "eventsMemberAdmin": True, "hideAiFeatures": True,
    "isDynamicallySampled": False, "issueAlertsThreadFlag": True, "metricAlertsThreadFlag": True,
    "openMembership": True, "pendingAccessRequests": 0, "relayPiiConfig": None, "requiresSso": False,
    "safeFields": [], "scrapeJavaScript": True, "scrubIPAddresses": False, "sensitiveFields": [],
    "storeCrashReports": 0, "trustedRelays": [],
}  # fmt: skip
