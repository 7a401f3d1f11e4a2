"""Run this repository's Pulumi project from scripts through the Automation API.

The environment matches `scripts/env.sh` and the Makefile: the CLI in ./tools/bin (or yours on PATH),
the file backend in ./state with its passphrase file, no update checks and no plugin downloads. Values
already set in the environment win, so a team on Pulumi Cloud or S3 keeps its settings.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "sentry-stacks"


def pulumi_env(root: Path = ROOT) -> dict[str, str]:
    """Environment variables for running the project's pulumi (without secrets in their values)."""
    env = {
        "PULUMI_BACKEND_URL": os.environ.get("PULUMI_BACKEND_URL", f"file://{root / 'state'}"),
        "PULUMI_HOME": os.environ.get("PULUMI_HOME", str(root / "state" / "pulumi-home")),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PATH": f"{root / 'tools' / 'bin'}:{root / 'venv' / 'bin'}:{os.environ.get('PATH', '')}",
    }
    if "PULUMI_CONFIG_PASSPHRASE" not in os.environ:
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = os.environ.get(
            "PULUMI_CONFIG_PASSPHRASE_FILE", str(ensure_passphrase_file(root))
        )
    return env


def ensure_passphrase_file(root: Path = ROOT) -> Path:
    """state/passphrase, generated once with mode 0600 when the file backend is the default."""
    path = root / "state" / "passphrase"
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    return path


def pulumi_binary(root: Path = ROOT) -> str:
    local = root / "tools" / "bin" / "pulumi"
    if local.exists():
        return str(local)
    found = shutil.which("pulumi")
    if not found:
        raise SystemExit("The Pulumi CLI is not installed: run `make pulumi` (or install pulumi >= 3.274).")
    return found


def select_stack(name: str, root: Path = ROOT, create: bool = False) -> Any:
    """The stack `name` of this project as an Automation API Stack (a local program in `root`)."""
    from pulumi import automation as auto

    env = pulumi_env(root)
    os.makedirs(root / "state" / "pulumi-home", exist_ok=True)
    command = auto.PulumiCommand(root=str(Path(pulumi_binary(root)).parent.parent))
    opts = auto.LocalWorkspaceOptions(work_dir=str(root), env_vars=env, pulumi_command=command)
    if create:
        return auto.create_or_select_stack(stack_name=name, work_dir=str(root), opts=opts)
    return auto.select_stack(stack_name=name, work_dir=str(root), opts=opts)


def config_object(stack: Any, key: str) -> Any:
    """A structured config value (object or list) of the stack, or None when unset."""
    values = stack.get_all_config()
    value = values.get(key)
    if value is None:
        return None
    try:
        return json.loads(value.value)
    except (TypeError, ValueError):
        return value.value


def set_config_object(stack: Any, key: str, value: Any) -> None:
    """Write a structured (object) config value, keeping it structured in Pulumi.<stack>.yaml."""
    import subprocess

    payload = json.dumps({key: {"value": json.dumps(value), "objectValue": value, "secret": False}})
    subprocess.run(
        [pulumi_binary(), "config", "set-all", "--json", payload, "--stack", stack.name, "--non-interactive"],
        cwd=stack.workspace.work_dir, env={**os.environ, **pulumi_env(Path(stack.workspace.work_dir))},
        check=True, capture_output=True, text=True,
    )


__all__ = ["PROJECT", "ROOT", "config_object", "ensure_passphrase_file", "pulumi_binary", "pulumi_env",
           "select_stack", "set_config_object"]
