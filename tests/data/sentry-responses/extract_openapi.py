"""Regenerate openapi/*.json from Sentry's published OpenAPI schema (../shared/sentry-api/).

Usage: python tests/data/sentry-responses/extract_openapi.py /path/to/sentry-api
Each file holds one example response of one operation the providers call, unchanged, with where it came from.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OPERATIONS = [  # (schema file, method, path)
    *[("openapi-derefed.json", m, p) for m, p in [
        ("GET", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/"),
        ("PUT", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/"),
        ("POST", "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}/projects/"),
        ("GET", "/api/0/organizations/{organization_id_or_slug}/projects/"),
        ("POST", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/teams/{team_id_or_slug}/"),
        ("GET", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/"),
        ("POST", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/"),
        ("GET", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/{key_id}/"),
        ("PUT", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/{key_id}/"),
        ("GET", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/filters/"),
        ("GET", "/api/0/organizations/{organization_id_or_slug}/workflows/"),
        ("POST", "/api/0/organizations/{organization_id_or_slug}/workflows/"),
        ("GET", "/api/0/organizations/{organization_id_or_slug}/workflows/{workflow_id}/"),
        ("PUT", "/api/0/organizations/{organization_id_or_slug}/workflows/{workflow_id}/"),
        ("GET", "/api/0/organizations/{organization_id_or_slug}/detectors/"),
        ("POST", "/api/0/organizations/{organization_id_or_slug}/projects/{project_id_or_slug}/detectors/"),
        ("GET", "/api/0/organizations/{organization_id_or_slug}/detectors/{detector_id}/"),
        ("PUT", "/api/0/organizations/{organization_id_or_slug}/detectors/{detector_id}/"),
    ]],
    *[("openapi-derefed-59279fd4-with-alert-rules.json", m, p) for m, p in [
        ("GET", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/"),
        ("POST", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/"),
        ("GET", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/{rule_id}/"),
        ("PUT", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/{rule_id}/"),
        ("GET", "/api/0/organizations/{organization_id_or_slug}/alert-rules/"),
        ("POST", "/api/0/organizations/{organization_id_or_slug}/alert-rules/"),
        ("GET", "/api/0/organizations/{organization_id_or_slug}/alert-rules/{alert_rule_id}/"),
        ("PUT", "/api/0/organizations/{organization_id_or_slug}/alert-rules/{alert_rule_id}/"),
    ]],
]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def main(source: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    schemas = {name: json.loads((source / name).read_text()) for name in {o[0] for o in OPERATIONS}}
    for schema, method, path in OPERATIONS:
        op = schemas[schema]["paths"][path][method.lower()]
        for status, response in op["responses"].items():
            for content in (response.get("content") or {}).values():
                for name, example in (content.get("examples") or {}).items():
                    short = path.replace("/api/0/", "").replace("{organization_id_or_slug}", "org")
                    fname = f"{method.lower()}-{slug(short)}-{status}-{slug(name)}.json"
                    record = {"schema": schema, "operation": f"{method} {path}", "status": int(status),
                              "example": name, "body": example.get("value")}
                    (out / fname).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).parent / "openapi")
