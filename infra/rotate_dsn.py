"""Rotate a service's DSN with zero lost events; every step is a stack config change applied by `pulumi up`.

  %(prog)s --stack dev --service backend start     new key, files and containers switch, then verify
  %(prog)s --stack dev --service backend verify    real ingest round trip with the new DSN
  %(prog)s --stack dev --service backend finish    disable the old key (grace + quiet window first)
  %(prog)s --stack dev --all abort                 back to the old keys, new ones disabled
  %(prog)s --stack dev status                      per key: created, active, last event, files, containers

Exit codes: 0 done, 3 refused (the message says why and what to do), 1 error. Installed, the toolkit's
`sentry-stacks-rotate-dsn` runs it for the project in the current folder (or --cwd); in the toolkit's repository,
scripts/rotate-dsn runs it for the repository's project.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from infra import rotation as rot
from infra.commands import ROTATE_DSN, invoked_as
from infra.rotation_ops import (
    StackHandle,
    containers_carrying,
    files_carrying,
    keys_from_config,
    last_event,
    pipeline_notice,
    verify_key,
)
from infra.workspace import ROOT

DURATION = re.compile(r"^(\d+)([smhd]?)$")


def duration(text: str) -> timedelta:
    match = DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: use e.g. 30s, 10m, 2h, 7d")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return timedelta(seconds=int(match.group(1)) * unit)


def log(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None, default_root: Path = ROOT, prog: str = ROTATE_DSN) -> int:
    """The command line; `prog` is the command as the user ran it (the usage, and what a refusal says to run)."""
    ap = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--stack", required=True, help="the Pulumi stack (environment), e.g. dev")
    ap.add_argument("--cwd", default=None, help=f"the project folder (default: {default_root})")
    who = ap.add_mutually_exclusive_group()
    who.add_argument("--service", action="append", help="service to rotate (repeatable)")
    who.add_argument("--all", action="store_true", help="every service with a Sentry key")
    ap.add_argument("--grace", type=duration, default=os.environ.get("ROTATE_GRACE", "15m"),
                    help="minimum time between start and finish (default 15m)")
    ap.add_argument("--quiet", type=duration, default=os.environ.get("ROTATE_QUIET", "5m"),
                    help="the old key must have received no event for this long before finish (default 5m)")
    ap.add_argument("--delete", action="store_true", help="finish: delete the old key instead of only disabling it")
    ap.add_argument("--delete-grace", type=duration, default=os.environ.get("ROTATE_DELETE_GRACE", "7d"),
                    help="finish run again after this long deletes the disabled old key (default 7d)")
    ap.add_argument("--verify-timeout", type=float, default=60.0, help="seconds to wait for the probe event")
    ap.add_argument("action", choices=["start", "verify", "finish", "abort", "status"])
    args = ap.parse_args(argv)

    try:
        handle = StackHandle.open(args.stack, log, Path(args.cwd).resolve() if args.cwd else default_root, prog)
        known = handle.services()
        if args.action == "status":
            services = args.service or known
        elif args.all:
            services = known
        elif args.service:
            services = args.service
        else:
            ap.error(f"{args.action} needs --service NAME or --all (services: {', '.join(known) or 'none'})")
        unknown = sorted(set(services) - set(known))
        if unknown:
            raise rot.RotationRefused(
                f"unknown service(s) {', '.join(unknown)} in stack {args.stack}; services with keys: "
                f"{', '.join(known) or 'none (run pulumi up first)'}"
            )
        return ACTIONS[args.action](handle, services, args)
    except rot.RotationRefused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 3
    except Exception as exc:  # a clear one-line error, never a token (the client never puts it in messages)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _now() -> datetime:
    return datetime.now(UTC)


def start(handle: StackHandle, services: list[str], args: argparse.Namespace) -> int:
    keys = keys_from_config(handle.config.get(handle.keys_key), services)
    rotations = handle.rotations()
    new_keys, records = {}, {}
    for service in services:
        new_keys[service], records[service] = rot.plan_start(service, keys[service], rotations.get(service), _now(),
                                                             command=handle.command)
        log(f"{service}: rotating {records[service].old} -> {records[service].new}")
    handle.write(new_keys, dict(records))
    handle.up()
    code = verify(handle, services, args)
    for line in pipeline_notice(handle, "start", {s: records[s].new for s in services}):
        log(line)
    return code


def verify(handle: StackHandle, services: list[str], args: argparse.Namespace) -> int:
    rotations = handle.rotations()
    records = {}
    for service in services:
        record = rotations.get(service)
        if record is None or record.phase not in ("started", "verified"):
            raise rot.RotationRefused(f"{service}: no rotation under way; run "
                                      f"`{handle.command} --service {service} start` first")
        event_id = verify_key(handle, service, record.new, args.verify_timeout)
        log(f"{service}: key {record.new} verified: probe event {event_id} read back from Sentry")
        records[service] = rot.plan_verified(service, record, _now(), command=handle.command)
    if any(records[s] != rotations.get(s) for s in records):
        handle.write(keys_from_config(handle.config.get(handle.keys_key), services), dict(records))
        handle.up()
    return 0


def finish(handle: StackHandle, services: list[str], args: argparse.Namespace) -> int:
    rotations = handle.rotations()
    client = handle.sentry()
    reasons: list[str] = []
    for service in services:
        record = rotations.get(service)
        seen = None
        if record and record.phase in ("started", "verified"):
            old = handle.key_output(service, record.old)
            if old:
                seen = last_event(client, old["project"], old["id"], max(args.quiet, timedelta(minutes=1)) * 2)
        reasons += rot.finish_refusals(service, record, _now(), args.grace, args.quiet, seen, command=handle.command)
    if reasons:
        raise rot.RotationRefused("\n  ".join(["finish refused:", *reasons]))
    keys = keys_from_config(handle.config.get(handle.keys_key), services)
    new_keys, records = {}, {}
    for service in services:
        record = rotations[service]
        new_keys[service], records[service] = rot.plan_finish(keys[service], record, _now(), args.delete,
                                                              args.delete_grace)
        state = "deleted" if records[service] is None else "disabled"
        log(f"{service}: old key {record.old} {state}; {record.new} is the only active key")
    handle.write(new_keys, records)
    handle.up()
    return 0


def abort(handle: StackHandle, services: list[str], args: argparse.Namespace) -> int:
    keys = keys_from_config(handle.config.get(handle.keys_key), services)
    rotations = handle.rotations()
    new_keys, records = {}, {}
    for service in services:
        new_keys[service], records[service] = rot.plan_abort(service, keys[service], rotations.get(service))
        log(f"{service}: back to key {records[service].old}; key {records[service].new} disabled")
    handle.write(new_keys, dict(records))
    handle.up()
    for line in pipeline_notice(handle, "abort", {s: records[s].old for s in services}):
        log(line)
    return 0


def status(handle: StackHandle, services: list[str], args: argparse.Namespace) -> int:
    client = handle.sentry()
    org = client.connection.organization
    rotations = handle.rotations()
    keys = keys_from_config(handle.config.get(handle.keys_key), services)
    for service in services:
        record = rotations.get(service)
        phase = f"rotation {record.old} -> {record.new}: {record.phase} since {record.started_at:%Y-%m-%d %H:%M}Z" \
            if record else "no rotation under way"
        log(f"{service} ({phase}); current key: {keys[service].current}")
        for generation, wanted_active in keys[service].generations:
            entry = handle.key_output(service, generation)
            if not entry:
                log(f"  {generation}: not created yet (active in config: {wanted_active})")
                continue
            key = client.get_or_none(f"projects/{org}/{entry['project']}/keys/{entry['id']}/",
                                     what=f"key {generation}") or {}
            seen = last_event(client, entry["project"], entry["id"], timedelta(hours=24))
            log(f"  {generation}: key {entry['id'][:8]}… created {key.get('dateCreated', '?')}, "
                f"active in Sentry: {key.get('isActive', 'missing')}, last event: "
                f"{seen.isoformat(timespec='seconds') if seen else 'none in 24h'}")
            log(f"      files: {', '.join(files_carrying(handle, entry['id'])) or 'none'}")
            containers = ", ".join(containers_carrying(entry["id"])) or "none"
            if handle.outputs.get("driver") == "none":
                containers = "not deployed by this stack (driver none: your pipeline runs them)"
            log(f"      containers: {containers}")
    return 0


ACTIONS = {"start": start, "verify": verify, "finish": finish, "abort": abort, "status": status}


def cli() -> None:
    """``sentry-stacks-rotate-dsn``: the project in the current folder."""
    sys.exit(main(default_root=Path.cwd(), prog=invoked_as(sys.argv[0], ROTATE_DSN)))


__all__ = ["ACTIONS", "cli", "main"]
