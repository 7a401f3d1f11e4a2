"""The rendered env file of ``dsnReload: file`` (``SENTRY_STACKS_ENV_FILE``): reading and parsing it.

The toolkit writes ``KEY='literal'`` or ``KEY="escaped"`` lines, comments and blank lines, and replaces the file
atomically (rename), so a read never sees half a file and a change shows as a new inode, size or mtime. Only the
``SENTRY_*`` values of the file are used; they win over the process environment. Messages never hold a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sentry_stacks_runtime.config import ENV_FILE_VAR, ConfigError

LIVE_PREFIX = "SENTRY_"
_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "$": "$"}


class EnvFileError(ConfigError):
    """The env file is missing or not in the rendered format (the message never holds a value)."""


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(_UNESCAPE.get(body[i + 1], "\\" + body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def parse_env(text: str) -> dict[str, str]:
    """The variables of a rendered env file."""
    out: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, rest = line.partition("=")
        if not sep or not key or not (key[0].isalpha() or key[0] == "_") or not key.replace("_", "a").isalnum():
            raise EnvFileError(f"line {number}: expected KEY='value' or KEY=\"value\"")
        if len(rest) >= 2 and rest[0] == rest[-1] == "'":
            out[key] = rest[1:-1]
        elif len(rest) >= 2 and rest[0] == rest[-1] == '"':
            out[key] = _unescape(rest[1:-1])
        else:
            raise EnvFileError(f"line {number}: the value of {key} is not quoted")
    return out


def read_live(path: str) -> dict[str, str]:
    """The ``SENTRY_*`` variables of the env file at `path`."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise EnvFileError(f"{ENV_FILE_VAR}={path} cannot be read: {exc.strerror or exc}") from None
    try:
        values = parse_env(text)
    except EnvFileError as exc:
        raise EnvFileError(f"{ENV_FILE_VAR}={path}: {exc}") from None
    return {k: v for k, v in values.items() if k.startswith(LIVE_PREFIX)}


def env_file_path(environ: Mapping[str, str]) -> str | None:
    path = (environ.get(ENV_FILE_VAR) or "").strip()
    return path or None


def effective_env(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with the ``SENTRY_*`` values of ``SENTRY_STACKS_ENV_FILE`` on top (just `environ` without it)."""
    env = dict(environ)
    path = env_file_path(environ)
    if path:
        env.update(read_live(path))
    return env


def signature(path: str) -> tuple[int, int, int] | None:
    """What changes when the file is replaced or rewritten: inode, size, mtime (None while it is missing)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


__all__ = ["LIVE_PREFIX", "EnvFileError", "effective_env", "env_file_path", "parse_env", "read_live", "signature"]
