"""``sentry-stacks-adopt``: bring a hand-made Sentry setup under code in one command.

Given an organization and project slugs, it finds every object of those projects (the project, its client keys,
its inbound filters, its metric monitors, its cron monitors, and the alerts on them) and writes, in ``--dir``:

* ``Pulumi.yaml``: a Pulumi YAML program (``runtime: yaml``) that declares each object exactly as Sentry has it
  (the inputs ``pulumi import`` will store: :func:`infra.provider.imports.import_read`, the same code), protected
  as ``pulumi import`` leaves them, with the keys' DSNs as (secret) outputs;
* ``Pulumi.<stack>.yaml``: the stack's provider settings (``sentrystacks:baseUrl``, ``sentrystacks:organization``;
  the token stays in ``SENTRY_AUTH_TOKEN`` or ``pulumi config set --secret sentrystacks:token``);
* ``import.json``: one ``pulumi import --file`` entry per object, by its natural id.

``pulumi stack init``, ``pulumi import --file import.json`` and the first ``pulumi up`` then change nothing in
Sentry. It reads only (GET), never prints the token, and refuses to overwrite files that exist unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.provider.config import ProviderConfig
from infra.provider.imports import import_read
from infra.provider.kinds import KINDS
from infra.sentry.client import SentryClient, connection_from_values
from infra.sentry.errors import SentryError
from infra.sentry.project import get_project


@dataclass(frozen=True)
class Found:
    """One live object: its type, its logical name, its import id and the inputs a program declares."""

    kind: str
    name: str
    import_id: str
    inputs: dict[str, Any]


def logical(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") or "x" for p in parts)


def _inputs(client: SentryClient, kind: str, import_id: str) -> dict[str, Any] | None:
    found = KINDS[kind]
    result = import_read(found, found.provider(client), client, import_id)
    return dict(result.inputs or {}) if result.id else None


def discover(client: SentryClient, projects: list[str]) -> Iterator[Found]:
    """Every object of `projects` in the client's organization, in dependency order (projects first)."""
    org = client.org
    workflows: dict[str, str] = {}
    for slug in projects:
        live = get_project(client, org, slug)
        if live is None:
            raise SentryError(f"--project {slug}: no such project in organization '{org}'")
        candidates: list[tuple[str, str, str]] = [("Project", logical(slug), f"{org}/{slug}")]
        for key in client.paginate(f"projects/{org}/{slug}/keys/", what=f"keys of project '{slug}'"):
            candidates.append(("ClientKey", logical(slug, "key", str(key.get("name") or key["id"])),
                               f"{org}/{slug}/{key['id']}"))
        for item in client.get(f"projects/{org}/{slug}/filters/", what=f"inbound filters of '{slug}'") or []:
            candidates.append(("InboundFilter", logical(slug, "filter", str(item["id"])), f"{org}/{slug}/{item['id']}"))
        params = {"project": str(live["id"])}
        for detector in client.paginate(f"organizations/{org}/detectors/", what="detectors", params=params):
            if detector.get("type") == "metric_issue" and str(detector.get("projectId")) == str(live["id"]):
                candidates.append(("MetricMonitor", logical(slug, "monitor", str(detector.get("name"))),
                                   f"{org}/{detector['id']}"))
        for monitor in client.paginate(f"organizations/{org}/monitors/", what="cron monitors", params=params):
            owner = monitor.get("project")
            if (owner.get("slug") if isinstance(owner, dict) else owner) in (slug, None):
                candidates.append(("CronMonitor", logical(slug, "cron", str(monitor["slug"])),
                                   f"{org}/{monitor['slug']}"))
        for workflow in client.get(f"organizations/{org}/workflows/", what="alerts", params=params) or []:
            workflows.setdefault(str(workflow["id"]), logical("alert", str(workflow.get("name"))))
        for kind, name, import_id in candidates:
            inputs = _inputs(client, kind, import_id)
            if inputs is not None:
                yield Found(kind, name, import_id, inputs)
    for workflow_id, name in workflows.items():
        inputs = _inputs(client, "Alert", f"{org}/{workflow_id}")
        if inputs is not None:
            yield Found("Alert", f"{name}-{workflow_id}", f"{org}/{workflow_id}", inputs)


def program(name: str, found: list[Found], plugin_dir: Path) -> dict[str, Any]:
    """The Pulumi YAML program that declares `found` as Sentry has it."""
    resources = {f.name: {"type": KINDS[f.kind].token, "properties": f.inputs, "options": {"protect": True}}
                 for f in found}
    outputs = {f"{f.name}-dsn": f"${{{f.name}.dsn}}" for f in found if f.kind == "ClientKey"}
    return {"name": name, "description": "Sentry objects brought under code by sentry-stacks-adopt",
            "runtime": "yaml", "plugins": {"providers": [{"name": "sentrystacks", "path": str(plugin_dir)}]},
            "resources": resources, "outputs": outputs}


def import_file(found: list[Found]) -> dict[str, Any]:
    return {"resources": [{"type": KINDS[f.kind].token, "name": f.name, "id": f.import_id} for f in found]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sentry-stacks-adopt", description=__doc__.split("\n\n")[0] if __doc__
                                     else None)
    parser.add_argument("--org", required=True, help="the organization slug")
    parser.add_argument("--project", required=True, help="project slugs, comma-separated")
    parser.add_argument("--stack", required=True, help="the stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--url", help="Sentry's URL; default SENTRY_BASE_URL (the token: SENTRY_AUTH_TOKEN)")
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="where to write the files (default: here)")
    parser.add_argument("--name", default="sentry-adopted", help="the Pulumi project name")
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")
    args = parser.parse_args(argv)
    projects = [p.strip() for p in args.project.split(",") if p.strip()]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", args.stack):
        print(f"sentry-stacks-adopt: --stack {args.stack!r}: letters, digits, '-', '_', '.' only", file=sys.stderr)
        return 2
    outputs = {args.dir / "Pulumi.yaml": "", args.dir / f"Pulumi.{args.stack}.yaml": "", args.dir / "import.json": ""}
    existing = [str(p) for p in outputs if p.exists()]
    if existing and not args.force:
        print(f"sentry-stacks-adopt: {', '.join(existing)} already exist(s): nothing written (--force overwrites)",
              file=sys.stderr)
        return 2
    try:
        values = ProviderConfig(base_url=args.url, organization=args.org).connection(root=args.dir)
        client = SentryClient(connection_from_values(values))
        base_url = values.base_url
        found = list(discover(client, projects))
    except SentryError as exc:
        print(f"sentry-stacks-adopt: {exc}", file=sys.stderr)
        return 1
    plugin_dir = Path(sys.executable).parent
    texts = [yaml.safe_dump(program(args.name, found, plugin_dir), sort_keys=False),
             yaml.safe_dump({"config": {"sentrystacks:baseUrl": base_url,
                                        "sentrystacks:organization": client.org}}, sort_keys=False),
             json.dumps(import_file(found), indent=2) + "\n"]
    args.dir.mkdir(parents=True, exist_ok=True)
    for path, text in zip(outputs, texts, strict=True):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    counts: dict[str, int] = {}
    for f in found:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    print(f"sentry-stacks-adopt: {len(found)} objects ({', '.join(f'{n} {k}' for k, n in counts.items())}) in "
          f"{args.dir}: run `pulumi stack init {args.stack}`, `pulumi import --file import.json --yes`, `pulumi up`")
    return 0


__all__ = ["Found", "discover", "import_file", "main", "program"]
