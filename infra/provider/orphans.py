"""``sentry-stacks-orphans``: the live Sentry objects a stack's state does not know.

Two kinds, one line each, with the ``pulumi import`` that would take it over:

* **named for the stack**: an object carrying the stack's naming (a key ``<stack>-<generation>``, an alert or monitor
  ``[<app>/<stack>] <name>``, a cron monitor ``<name>-<stack>``, a project ``<project>-<stack>``) that the state does
  not hold: what ``adoptExisting`` or a rerun after a crash would take over, or what a lost state left behind;
* **declared by nothing**: any other object in one of the stack's projects (a key, a monitor, a cron monitor, an
  alert, an inbound filter that is on) that the state does not hold, made by hand or by another tool.

The state comes from ``pulumi stack export`` (``--stack``, run in ``--dir``) or a file (``--export``); Sentry is read
only (GET), with the token from ``SENTRY_AUTH_TOKEN`` (or the embedded localsentry), never printed. Exit 0 with no
orphan, 3 with some (so a CI job can fail on them), 1 or 2 on an error.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from infra.provider.adopt import Found, discover
from infra.provider.config import ProviderConfig
from infra.provider.kinds import BY_TOKEN, KINDS
from infra.sentry.client import SentryClient, connection_from_values
from infra.sentry.errors import SentryError

SOME = 3


def state_resources(export: Mapping[str, Any]) -> list[dict[str, Any]]:
    resources = (export.get("deployment") or {}).get("resources") or []
    return [r for r in resources if isinstance(r, dict)]


def known_ids(resources: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str], str | None, str | None]:
    """(import ids the state holds, its project slugs, its organization, the explicit provider's URL)."""
    ids: set[str] = set()
    projects: set[str] = set()
    org: str | None = None
    url: str | None = None
    for res in resources:
        kind = BY_TOKEN.get(str(res.get("type")))
        outputs = res.get("outputs") or {}
        if str(res.get("type")) == "pulumi:providers:sentrystacks":
            url = url or (res.get("inputs") or {}).get("baseUrl")
        if kind is None or not res.get("id"):
            continue
        org = org or outputs.get("organization")
        if kind.name == "Project" and outputs.get("slug"):
            projects.add(str(outputs["slug"]))
            ids.add(f"{str(res['id']).split('/')[0]}/{outputs['slug']}")
        ids.add(str(res["id"]))
    return ids, projects, org, url


def named_for(stack: str, found: Found) -> bool:
    """True when `found` carries the stack's naming."""
    name = str(found.inputs.get("name") or found.inputs.get("slug") or "")
    if found.kind == "ClientKey":
        return name.startswith(f"{stack}-")
    if found.kind in ("Alert", "MetricMonitor", "IssueAlert", "MetricAlert"):
        return f"/{stack}] " in name
    if found.kind in ("CronMonitor", "Project"):
        return name.endswith(f"-{stack}")
    return False


def orphans(client: SentryClient, stack: str, export: Mapping[str, Any]) -> list[tuple[Found, bool]]:
    """(object, named for the stack) for each live object of the stack's projects the state does not hold."""
    ids, projects, _org, _url = known_ids(state_resources(export))
    named = {str(p.get("slug")) for p in client.paginate(f"organizations/{client.org}/projects/", what="projects")
             if str(p.get("slug")).endswith(f"-{stack}")}  # per-environment projects of this stack
    out: list[tuple[Found, bool]] = []
    for found in discover(client, sorted(projects | named)):
        if found.import_id in ids:
            continue
        if found.kind == "InboundFilter" and not (found.inputs.get("active") or found.inputs.get("subfilters")):
            continue  # off, as Sentry makes it: nobody's setting
        out.append((found, named_for(stack, found)))
    return out


def _export(args: argparse.Namespace) -> dict[str, Any]:
    if args.export is not None:
        return dict(json.loads(args.export.read_text(encoding="utf-8")))
    proc = subprocess.run(["pulumi", "stack", "export", "--stack", args.stack, "--non-interactive"], cwd=args.dir,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["pulumi stack export failed"])[-1]
        raise SentryError(f"--stack {args.stack}: {last}")
    return dict(json.loads(proc.stdout))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sentry-stacks-orphans", description=__doc__.split("\n\n")[0] if __doc__
                                     else None)
    parser.add_argument("--stack", required=True, help="the stack whose state and naming to compare")
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="the Pulumi project folder (default: here)")
    parser.add_argument("--export", type=Path, help="a `pulumi stack export` file instead of running pulumi")
    parser.add_argument("--url", help="Sentry's URL; default the stack's provider, then SENTRY_BASE_URL")
    args = parser.parse_args(argv)
    try:
        export = _export(args)
        _ids, projects, org, url = known_ids(state_resources(export))
        if not projects:
            print(f"sentry-stacks-orphans: stack {args.stack!r} holds no sentrystacks Project: nothing to compare",
                  file=sys.stderr)
            return 2
        values = ProviderConfig(base_url=args.url or url, organization=org).connection(root=args.dir)
        found = orphans(SentryClient(connection_from_values(values)), args.stack, export)
    except (SentryError, ValueError, OSError) as exc:
        print(f"sentry-stacks-orphans: {exc}", file=sys.stderr)
        return 1
    for item, named in found:
        why = f"named for stack {args.stack}" if named else "in the stack's project, declared by nothing"
        print(f"{item.kind:14} {item.import_id:50} {why}: pulumi import {KINDS[item.kind].token} {item.name} "
              f"{item.import_id}")
    print(f"sentry-stacks-orphans: {len(found)} object(s) in {len(projects)} project(s) the state of "
          f"{args.stack!r} does not hold", file=sys.stderr)
    return SOME if found else 0


__all__ = ["SOME", "known_ids", "main", "named_for", "orphans", "state_resources"]
