"""Run this repository's Pulumi project from scripts through the Automation API.

The environment matches `scripts/env.sh` and the Makefile: the CLI in ./tools/bin (or yours on PATH),
the file backend in ./state with its passphrase file, no update checks and no plugin downloads. Values
already set in the environment win, so a team on Pulumi Cloud or S3 keeps its settings.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "sentry-stacks"


def project_name(root: Path = ROOT) -> str:
    """The Pulumi project's name (``name:`` of its Pulumi.yaml), which is also the namespace of its settings
    (``sentry-stacks:`` in this repository, ``<name>:`` in a project of yours)."""
    import yaml

    try:
        data = yaml.safe_load((root / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return PROJECT
    name = data.get("name") if isinstance(data, dict) else None
    return str(name) if name else PROJECT


#: the Pulumi CLI's Go garbage collector, unless the environment says otherwise: it runs less often (GOGC, default
#: 100) within a soft memory limit, which saves about 15 % of the CLI's CPU in a change of 201 objects, where it
#: collects the garbage of every checkpoint save (docs/benchmarks.md); also in the Makefile and scripts/env.sh
CLI_GC = {"GOGC": "400", "GOMEMLIMIT": "1GiB"}


def pulumi_env(root: Path = ROOT) -> dict[str, str]:
    """Environment variables for running the project's pulumi (without secrets in their values)."""
    env = {
        "PULUMI_BACKEND_URL": os.environ.get("PULUMI_BACKEND_URL", f"file://{root / 'state'}"),
        "PULUMI_HOME": os.environ.get("PULUMI_HOME", str(root / "state" / "pulumi-home")),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        **{k: os.environ.get(k, v) for k, v in CLI_GC.items()},
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
    for local in (root / "tools" / "bin" / "pulumi", ROOT / "tools" / "bin" / "pulumi"):
        if local.exists():
            return str(local)
    found = shutil.which("pulumi")
    if not found:
        raise SystemExit("The Pulumi CLI is not installed: run `make pulumi` (or install pulumi >= 3.274).")
    return found


# Keys of a stack file that belong to one backend's copy of the stack (its secrets provider), not to the
# settings: a copy of the project for another backend or passphrase must drop them.
STACK_LOCAL_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt")
_STACK_LOCAL_LINE = re.compile(rf"^(?:{'|'.join(STACK_LOCAL_KEYS)}):")


def without_stack_local_keys(text: str) -> str:
    """A stack file's text without its secrets-provider lines (every other line, comment and value as written)."""
    return "".join(line for line in text.splitlines(keepends=True) if not _STACK_LOCAL_LINE.match(line))


def with_salt_line(text: str, salt_line: str) -> str:
    """`text` with Pulumi's `encryptionsalt:` line added before the first top-level key, nothing else changed."""
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), len(lines))
    if lines and not lines[-1].endswith("\n") and at == len(lines):
        lines[-1] += "\n"
    return "".join([*lines[:at], salt_line.rstrip("\n") + "\n", *lines[at:]])


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _yaml_key(key: str) -> str:
    return key if _PLAIN_KEY.match(key) and key.lower() not in _YAML_WORDS else json.dumps(key)


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(str(value))  # a JSON string is a YAML double-quoted scalar


def _yaml_block(value: Any, indent: int) -> list[str]:
    """`value` (JSON-like) as block-style YAML lines at `indent` spaces; empty containers in flow style."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines += [f"{pad}{_yaml_key(str(key))}:", *_yaml_block(item, indent + 2)]
            else:
                lines.append(f"{pad}{_yaml_key(str(key))}: {_yaml_flow(item)}")
    else:
        for item in value:
            if isinstance(item, dict | list) and item:
                nested = _yaml_block(item, indent + 2)
                lines += [f"{pad}- {nested[0].lstrip()}", *nested[1:]]
            else:
                lines.append(f"{pad}- {_yaml_flow(item)}")
    return lines


def _yaml_flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{}" if not value else json.dumps(value)
    if isinstance(value, list):
        return "[]" if not value else json.dumps(value)
    return _yaml_scalar(value)


def with_config_values(text: str, values: dict[str, Any]) -> str:
    """A stack file's text with the `config:` entries `values` set (replaced in place, or added at the end of
    the config block), every other line and comment as written.

    `pulumi config set` re-serialises the whole file (comments gone, `true` becomes `"true"`, `1.0` becomes
    `1`); a script that records its own state in the stack file (rotate-dsn) must not rewrite the user's lines.
    """
    lines = text.splitlines()
    top = re.compile(r"^config:\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if top.match(line)), None)
    if start is None:
        lines += ["config:"]
        start = len(lines) - 1
    end = start + 1  # the config block: indented, blank or comment lines up to the next top-level key
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t") or lines[end].startswith("#")):
        end += 1
    body = [i for i in range(start + 1, end) if lines[i].strip() and not lines[i].lstrip().startswith("#")]
    indent = (len(lines[body[0]]) - len(lines[body[0]].lstrip(" "))) if body else 2
    pad = " " * indent
    for key, value in values.items():
        rendered = (
            [f"{pad}{key}:", *_yaml_block(value, indent + 2)] if isinstance(value, dict | list) and value
            else [f"{pad}{key}: {_yaml_flow(value)}"]
        )
        head = re.compile(rf"^{pad}{re.escape(key)}:(\s|$)")
        at = next((i for i in range(start + 1, end) if head.match(lines[i])), None)
        if at is None:
            last = max((i for i in range(start + 1, end) if lines[i].strip() and lines[i][:1] == " "), default=start)
            lines[last + 1:last + 1] = rendered
            end += len(rendered)
            continue
        stop = at + 1  # the entry's own lines: deeper-indented (or blank lines inside it)
        while stop < end and (not lines[stop].strip() or len(lines[stop]) - len(lines[stop].lstrip(" ")) > indent):
            stop += 1
        while stop > at + 1 and not lines[stop - 1].strip():
            stop -= 1  # blank lines after the entry belong to what follows
        lines[at:stop] = rendered
        end += len(rendered) - (stop - at)
    return "\n".join(lines) + "\n"


def write_config_values(path: Path, values: dict[str, Any]) -> None:
    """Set `values` (plain, non-secret config entries) in the stack file at `path` as text, atomically; the
    result is parsed back and must hold exactly the old settings plus `values`, or nothing is written."""
    import yaml

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    new = with_config_values(text, values)
    before = yaml.safe_load(text) or {}
    after = yaml.safe_load(new) or {}
    expected = {**before, "config": {**(before.get("config") or {}), **values}}
    if after != expected:
        keys = ", ".join(values)
        raise RuntimeError(f"cannot edit {path.name} as text (an unusual layout), so nothing was written; "
                           f"record {keys} with `pulumi config set --path`")
    _atomic_write(path, new)


def _atomic_write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class PulumiCommandError(subprocess.CalledProcessError):
    """A pulumi command of these scripts failed; its message says which command and what the CLI said (a bare
    CalledProcessError shows neither stderr nor stdout)."""

    hint = ""  # what to do, when the cause is known

    def __str__(self) -> str:
        said = " ".join(str(self.stderr or self.output or "").split()) or "no output"
        command = " ".join(str(part) for part in self.cmd[1:]) if isinstance(self.cmd, list) else str(self.cmd)
        return f"`pulumi {command}` exited {self.returncode}: {said}" + (f" -- {self.hint}" if self.hint else "")


def run_pulumi(command: list[str], cwd: Path | str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a pulumi command, capturing its output; raise :class:`PulumiCommandError` when it fails."""
    proc = subprocess.run(command, cwd=cwd, env=env, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PulumiCommandError(proc.returncode, command, proc.stdout, proc.stderr)
    return proc


def init_stack(name: str, root: Path = ROOT, env: dict[str, str] | None = None) -> None:
    """`pulumi stack init NAME` that leaves the user's `Pulumi.NAME.yaml` as written.

    Pulumi keeps a passphrase stack's salt in its stack file, and `stack init` re-serialises that whole file to
    add it (comments gone, `true` becomes `"true"`, `1.0` becomes `1`). So the stack is created from a scratch
    folder holding only `Pulumi.yaml`, and the one `encryptionsalt:` line it wrote is added to the user's file as
    text. A file that already has a salt is left alone: Pulumi then checks the passphrase against it.
    """
    env = {**os.environ, **(env if env is not None else pulumi_env(root))}
    stack_file = root / f"Pulumi.{name}.yaml"
    text = stack_file.read_text(encoding="utf-8") if stack_file.exists() else None
    provider = [] if env.get("PULUMI_SECRETS_PROVIDER") else ["--secrets-provider", "passphrase"]
    command = [pulumi_binary(root), "stack", "init", name, *provider, "--non-interactive"]
    if text is None or any(_STACK_LOCAL_LINE.match(line) for line in text.splitlines()):
        try:
            run_pulumi(command, root, env)
        except PulumiCommandError as exc:
            if text is not None and "passphrase" in str(exc.stderr):
                exc.hint = (f"{stack_file.name} holds the encryptionsalt of another passphrase (another backend or "
                            "machine; a stack file's salt belongs to one backend's copy of the stack and is not to "
                            "be committed): without `secure:` values in it, delete its `encryptionsalt:` line and "
                            "run again; otherwise set PULUMI_CONFIG_PASSPHRASE to the passphrase it was made with")
            raise
        return
    with tempfile.TemporaryDirectory(prefix="stack-init-") as scratch:
        shutil.copy2(root / "Pulumi.yaml", Path(scratch) / "Pulumi.yaml")
        run_pulumi(command, scratch, env)
        written = (Path(scratch) / f"Pulumi.{name}.yaml").read_text(encoding="utf-8")
    local = [line for line in written.splitlines() if _STACK_LOCAL_LINE.match(line)]
    if local:
        _atomic_write(stack_file, with_salt_line(text, "\n".join(local)))


def stack_exists(name: str, root: Path = ROOT) -> bool:
    env = {**os.environ, **pulumi_env(root)}
    listing = run_pulumi([pulumi_binary(root), "stack", "ls", "--json", "--non-interactive"], root, env)
    return any(str(s.get("name", "")).split("/")[-1] == name for s in json.loads(listing.stdout or "[]"))


def select_stack(name: str, root: Path = ROOT, create: bool = False) -> Any:
    """The stack `name` of this project as an Automation API Stack (a local program in `root`).

    With `create`, a missing stack is created by `init_stack`, which keeps the user's stack file as written.
    """
    from pulumi import automation as auto

    env = pulumi_env(root)
    os.makedirs(root / "state" / "pulumi-home", exist_ok=True)
    command = auto.PulumiCommand(root=str(Path(pulumi_binary(root)).parent.parent))
    opts = auto.LocalWorkspaceOptions(work_dir=str(root), env_vars=env, pulumi_command=command)
    if create and not stack_exists(name, root):
        init_stack(name, root, env)
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


__all__ = ["CLI_GC", "PROJECT", "ROOT", "STACK_LOCAL_KEYS", "PulumiCommandError", "config_object",
           "ensure_passphrase_file", "init_stack", "project_name", "pulumi_binary", "pulumi_env", "run_pulumi",
           "select_stack", "stack_exists", "with_config_values", "with_salt_line", "without_stack_local_keys",
           "write_config_values"]
