"""Render a stack's .env files and docker-compose.yml without running `pulumi up`, or check the files on disk.

  %(prog)s --stack dev                 write the files (default: the stack's deployDir, deploy/<stack>)
  %(prog)s --stack dev --check         write nothing; exit 1 when a file differs from the stack
  %(prog)s --stack dev --out DIR       write to DIR instead

The DSNs and (unless the config pins one) the release come from the stack's outputs of its last `up`;
everything else (services, sampling, ports...) from its current config, with Pulumi.yaml's defaults.
Files are written with mode 0600, atomically.

--check   writes nothing; exits 1 when a file on disk is missing or differs from what would be rendered,
          printing which files and lines differ (secrets masked). Exit 0 when everything matches.
Exit 2 on bad settings or a stack without outputs (run `pulumi up -s NAME` first).

For tests and offline use, --outputs-json FILE and --config-json FILE read the output of
`pulumi stack output --json --show-secrets` and `pulumi config --json --show-secrets` instead of asking
Pulumi (through the Automation API, with the project's CLI and backend settings: infra/workspace.py).
Nothing printed contains a DSN, a key or a secret config value.

Installed, the toolkit's `sentry-stacks-render-env` runs it for the project in the current folder (or --cwd); in the
toolkit's repository, scripts/render-env runs it for the repository's project.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path
from typing import Any

from infra.commands import RENDER_ENV, invoked_as
from infra.deploy.base import mask_dsn_keys
from infra.files import write_atomic
from infra.program import env_file_owners
from infra.render import RenderedSet, parse_dotenv, render_all
from infra.sampling import derive_rates
from infra.settings import (
    SettingsError,
    StackSettings,
    load_settings,
    project_defaults,
    with_defaults,
)
from infra.workspace import ROOT, project_name

MASK = "[secret]"


class Masker:
    """Replaces every known secret string (DSNs, secret config values) in text that gets printed."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return mask_dsn_keys(text)


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None else [str(value)]


def config_from_json(data: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """`pulumi config --json --show-secrets` -> (full key -> value, secret keys)."""
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for key, entry in data.items():
        if isinstance(entry, dict) and ("value" in entry or "objectValue" in entry):
            values[key] = entry["objectValue"] if "objectValue" in entry else entry.get("value")
            if entry.get("secret"):
                secret.add(key)
        else:
            values[key] = entry
    return values, secret


def outputs_from_json(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data)


def fetch(stack_name: str, root: Path = ROOT) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """Outputs and config of the project's stack through the Automation API (secrets shown, kept in memory only)."""
    from infra.workspace import select_stack

    stack = select_stack(stack_name, root)
    outputs = {k: v.value for k, v in stack.outputs().items()}
    config: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in stack.get_all_config().items():
        try:
            config[key] = json.loads(value.value) if value.value[:1] in "{[" else value.value
        except ValueError:
            config[key] = value.value
        if value.secret:
            secret.add(key)
    return outputs, config, secret


def render_stack(
    stack: str, outputs: dict[str, Any], config: dict[str, Any], secret_keys: set[str], root: Path
) -> tuple[StackSettings, RenderedSet]:
    project = project_name(root)  # the settings' namespace: `shop:` in a project of yours
    config = with_defaults(config, project_defaults(root / "Pulumi.yaml", project))
    if f"{project}:release" not in config and outputs.get("release"):
        config[f"{project}:release"] = outputs["release"]
    settings = load_settings(config, stack=stack, project=project, secret_keys=secret_keys, root=root,
                             require_sentry=False)  # fmt: skip
    dsns = outputs.get("dsns")
    if not isinstance(dsns, dict):
        raise LookupError(f"stack {stack} has no `dsns` output: run `pulumi up -s {stack}` first")
    missing = [s.name for s in settings.sentry_services() if not dsns.get(s.name)]
    if missing:
        raise LookupError(
            f"stack {stack} has no DSN for {', '.join(missing)} (new since the last up?): run `pulumi up -s {stack}`"
        )
    privacy = outputs.get("privacy")
    kept = privacy.get("keptInSentry") if isinstance(privacy, dict) else None  # what Sentry keeps (docs/privacy.md)
    dsn_texts = {k: str(v) for k, v in dsns.items()}
    rendered = render_all(settings, dsn_texts, derive_rates(settings.sampling), root,
                          kept=kept if isinstance(kept, dict) else None)
    return settings, rendered


def describe_difference(name: str, want: str, have: str, mask: Masker) -> list[str]:
    """What differs in one file, safe to print: env keys by name; other files as a masked diff."""
    if name.endswith(".env"):
        try:
            have_env = parse_dotenv(have)
        except ValueError as exc:
            return [f"  {name}: not in the toolkit's format ({exc})"]
        want_env = parse_dotenv(want)
        lines = []
        for key in sorted(set(want_env) | set(have_env)):
            if key not in have_env:
                lines.append(f"  {name}: {key} is missing on disk")
            elif key not in want_env:
                lines.append(f"  {name}: {key} is on disk but would not be rendered")
            elif want_env[key] != have_env[key]:
                lines.append(f"  {name}: {key} differs")
        return lines or [f"  {name}: same variables, different text (comments or layout)"]
    diff = difflib.unified_diff(
        have.splitlines(), want.splitlines(), f"{name} (on disk)", f"{name} (rendered)", lineterm="", n=1
    )
    return ["  " + mask(line) for line in diff]


def main(argv: list[str] | None = None, default_root: Path = ROOT, prog: str = RENDER_ENV) -> int:
    """The command line; `prog` is the command as the user ran it (the usage; its name starts each error line)."""
    me = os.path.basename(prog)
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--stack", required=True, help="the stack (dev, prod, ...)")
    parser.add_argument("--out", help="folder to write to (default: the stack's deployDir)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when files differ")
    parser.add_argument("--outputs-json", help="stack outputs as JSON (instead of asking Pulumi)")
    parser.add_argument("--config-json", help="stack config as `pulumi config --json` (instead of asking Pulumi)")
    parser.add_argument("--cwd", "--root", dest="root", default=str(default_root), metavar="PROJECT",
                        help=f"the project folder (default: {default_root})")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()

    if args.outputs_json or args.config_json:
        if not (args.outputs_json and args.config_json):
            parser.error("--outputs-json and --config-json go together")
        outputs = outputs_from_json(json.loads(Path(args.outputs_json).read_text(encoding="utf-8")))
        config, secret = config_from_json(json.loads(Path(args.config_json).read_text(encoding="utf-8")))
    else:
        try:
            outputs, config, secret = fetch(args.stack, root)
        except Exception as exc:  # the Automation API raises many kinds: report the last line, never a trace
            first = str(exc).strip().splitlines()
            print(
                f"{me}: cannot read stack {args.stack}: {first[-1] if first else type(exc).__name__}",
                file=sys.stderr,
            )
            return 2
    mask = Masker(_leaves(outputs.get("dsns")) + [leaf for key in secret for leaf in _leaves(config.get(key))])
    try:
        settings, rendered = render_stack(args.stack, outputs, config, secret, root)
    except SettingsError as exc:
        print(f"{me}: {mask(str(exc))}", file=sys.stderr)
        return 2
    except (LookupError, ValueError) as exc:
        print(f"{me}: {mask(str(exc))}", file=sys.stderr)
        return 2

    out_dir = Path(args.out) if args.out else Path(settings.deploy_dir)
    out_dir = out_dir if out_dir.is_absolute() else (Path.cwd() / out_dir if args.out else root / out_dir)
    problems: list[str] = []
    for name, content in rendered.files.items():
        path = out_dir / name
        try:
            have: str | None = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            have = None
        if args.check:
            if have is None:
                problems.append(f"  {name}: missing ({path})")
            elif have != content:
                problems += describe_difference(name, content, have, mask)
            continue
        if have == content:
            print(f"unchanged  {path}")
        else:
            # the stack's own folder: live env files (dsnReload: file) belong to their container's user
            owner = None if args.out else env_file_owners(settings).get(name)
            write_atomic(str(path), content, owner=owner)
            print(f"wrote      {path}")
    if args.check:
        if problems:
            print(f"{me}: {args.stack}: files in {out_dir} differ from the stack:", file=sys.stderr)
            print("\n".join(problems), file=sys.stderr)
            return 1
        print(f"{me}: {args.stack}: {len(rendered.files)} files in {out_dir} match the stack")
    return 0



def cli() -> None:
    """``sentry-stacks-render-env``: the project in the current folder."""
    sys.exit(main(default_root=Path.cwd(), prog=invoked_as(sys.argv[0], RENDER_ENV)))


__all__ = ["Masker", "cli", "config_from_json", "describe_difference", "fetch", "main", "render_stack"]
