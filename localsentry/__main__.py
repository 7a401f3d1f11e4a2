"""Command line: `python -m localsentry [serve options]` or `python -m localsentry token create ...`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from localsentry.app import Config, write_secret_file
from localsentry.auth import ALL_SCOPES, create_token
from localsentry.db import Database
from localsentry.migrations import MigrationError
from localsentry.server import serve
from localsentry.vocabulary import LEGACY_MODES


def serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m localsentry", description="Sentry-compatible API + ingest on SQLite")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--db", default=".localsentry/localsentry.sqlite3", help="SQLite file or :memory:")
    p.add_argument("--info-file", help="also write the startup JSON to this file")
    p.add_argument("--token-file", help="admin token file (default: admin-token next to the db)")
    p.add_argument("--rate-limit", type=int, default=40, help="API requests per second per token (0 = off)")
    p.add_argument("--concurrent-limit", type=int, default=25, help="concurrent API requests per token (0 = off)")
    p.add_argument("--faults", help="fault injection spec as JSON (see localsentry/faults.py)")
    p.add_argument("--organization", default="localsentry", help="organization slug created at first start")
    p.add_argument("--team", default="localsentry", help="team slug created at first start")
    p.add_argument("--legacy-alerts", choices=LEGACY_MODES, default="gone",
                   help="mode of the legacy rules/alert-rules APIs for new organizations")  # fmt: skip
    p.add_argument("--url", help="public base URL used in DSNs and links (default http://host:port)")
    p.add_argument("--smtp-port", type=int, help="start the built-in SMTP server on this port (0 picks a free one); "
                   "email actions are delivered to it and shown on the page")
    p.add_argument("--slack-url", help="URL that Slack actions POST their chat.postMessage body to")
    p.add_argument("--member-email", default="admin@localsentry.invalid",
                   help="email address of the organization's member (recipient of email actions)")
    p.add_argument("--log-level", default="WARNING")
    return p


def token_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m localsentry token create")
    p.add_argument("action", choices=["create"])
    p.add_argument("--db", required=True)
    p.add_argument("--scopes", default="", help=f"comma separated, from: {','.join(ALL_SCOPES)}")
    p.add_argument("--kind", choices=["user", "org", "integration"], default="user")
    p.add_argument("--organization", help="organization slug (org tokens; default: the first one)")
    p.add_argument("--out", required=True, help="file to write the token to (mode 0600)")
    args = p.parse_args(argv)
    if args.db != ":memory:" and not Path(args.db).exists():
        p.error(f"database {args.db} does not exist (start the server on it once)")
    try:
        db = Database(args.db)
    except MigrationError as exc:
        p.error(str(exc))
    try:
        if args.organization:
            row = db.one("SELECT id, slug FROM orgs WHERE slug = ?", (args.organization,))
        else:
            row = db.one("SELECT id, slug FROM orgs ORDER BY id LIMIT 1")
        if row is None:
            p.error("no such organization in the database")
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        try:
            token, token_id = create_token(db, scopes, args.kind, int(row["id"]), str(row["slug"]))
        except ValueError as exc:
            p.error(str(exc))
        write_secret_file(Path(args.out), token + "\n")
        print(json.dumps({"id": token_id, "kind": args.kind, "scopes": scopes if args.kind != "org" else ["org:ci"],
                          "token_file": str(Path(args.out).resolve())}))  # fmt: skip
    finally:
        db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "token":
        return token_main(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    args = serve_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    faults = json.loads(args.faults) if args.faults else None
    config = Config(
        host=args.host, port=args.port, db=args.db, info_file=args.info_file, token_file=args.token_file,
        rate_limit=args.rate_limit, concurrent_limit=args.concurrent_limit, faults=faults,
        organization=args.organization, team=args.team, legacy_alerts=args.legacy_alerts, url=args.url,
        smtp_port=args.smtp_port, slack_url=args.slack_url, member_email=args.member_email,
    )  # fmt: skip
    try:
        return serve(config)
    except MigrationError as exc:
        print(f"localsentry: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
