"""Legacy issue-alert rules (`/api/0/projects/{org}/{project}/rules/`), gated by the org's legacy-alerts mode."""

from __future__ import annotations

import uuid
from typing import Any

from localsentry.db import Database, dumps, now_iso
from localsentry.http import Router

DEFAULT_RULE_NAME = "Send a notification for high priority issues"


def default_rule_data() -> dict[str, Any]:
    return {
        "name": DEFAULT_RULE_NAME,
        "actionMatch": "any",
        "filterMatch": "all",
        "frequency": 30,
        "conditions": [
            {"id": "sentry.rules.conditions.high_priority_issue.NewHighPriorityIssueCondition"},
            {"id": "sentry.rules.conditions.high_priority_issue.ExistingHighPriorityIssueCondition"},
        ],
        "filters": [],
        "actions": [
            {
                "id": "sentry.mail.actions.NotifyEmailAction",
                "targetType": "IssueOwners",
                "targetIdentifier": None,
                "fallthroughType": "ActiveMembers",
                "uuid": str(uuid.uuid4()),
            }
        ],
        "environment": None,
        "owner": None,
        "createdBy": None,
    }


def create_default_rule(db: Database, project_id: int) -> int:
    return db.run(
        "INSERT INTO rules (project_id, data, created) VALUES (?, ?, ?)",
        (project_id, dumps(default_rule_data()), now_iso()),
    )


def register(router: Router) -> None:
    pass
