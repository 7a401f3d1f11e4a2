"""Prove that a stack's alerts and monitors fire and reach their people.

  %(prog)s --stack dev [--timeout 60] [--max-burst 200] [--keep] [--cwd PROJECT]

For each alert (workflow), metric monitor and cron monitor of the stack: send what makes it fire through the
service's real DSN (marked with the tag sentry-stacks.proof and its own fingerprint), wait for Sentry's record of
the firing, and report per alert: fired or not, after how long, which actions were delivered (on localsentry, at the
receiver; elsewhere Sentry's test-fire of the actions), or why it can never fire. The proof issues are deleted
afterwards (--keep leaves them). Logic: infra/alert_proof.py and infra/alert_proof_plan.py.

Exit codes: 0 every alert and monitor fired and every action was delivered; 1 some did not (the lines say which and
why); 2 the proof could not run (no such stack, no alerts, Sentry not answering). Installed, the toolkit's
`sentry-stacks-verify-alerts` runs it for the project in the current folder (or --cwd); in the toolkit's repository,
scripts/verify-alerts runs it for the repository's project.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra.alert_proof import ProofError, prove_stack
from infra.commands import VERIFY_ALERTS, invoked_as
from infra.workspace import ROOT


def main(argv: list[str] | None = None, default_root: Path = ROOT, prog: str = VERIFY_ALERTS) -> int:
    """The command line; `prog` is the command as the user ran it (the usage; its name starts each error line)."""
    ap = argparse.ArgumentParser(prog=prog, description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--stack", required=True, help="the Pulumi stack (environment), e.g. dev")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each firing (default 60)")
    ap.add_argument("--max-burst", type=int, default=200, help="most events sent for one alert or monitor")
    ap.add_argument("--keep", action="store_true", help="leave the proof issues in place")
    ap.add_argument("--cwd", default=None, help=f"the project folder (default: {default_root})")
    args = ap.parse_args(argv)
    try:
        outcomes = prove_stack(args.stack, lambda line: print(line, flush=True), timeout=args.timeout,
                               max_burst=args.max_burst, keep=args.keep,
                               root=Path(args.cwd).resolve() if args.cwd else default_root)  # fmt: skip
    except ProofError as exc:
        print(f"{os.path.basename(prog)}: {exc}", file=sys.stderr)
        return 2
    failed = [o for o in outcomes if not o.ok]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} proven" + (f"; not proven: "
          f"{', '.join(o.name for o in failed)}" if failed else ""))  # fmt: skip
    return 1 if failed else 0


def cli() -> None:
    """``sentry-stacks-verify-alerts``: the project in the current folder."""
    sys.exit(main(default_root=Path.cwd(), prog=invoked_as(sys.argv[0], VERIFY_ALERTS)))


__all__ = ["cli", "main"]
