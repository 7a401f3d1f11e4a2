"""Live DSN: re-read the rendered env file when it changes and re-initialise sentry-sdk, with no restart.

The contract with sentry-stacks (`dsnReload: file` on a service):

* the deploy folder is mounted read-only into the container and ``SENTRY_STACKS_ENV_FILE`` names the
  service's own rendered ``.env`` file in it (owned by the container's user, mode 0600);
* the inline environment carries every variable except ``SENTRY_DSN``, so a rotated DSN changes only that
  file and never the compose file: compose and swarm have nothing to replace, no request is refused.

This module reads the file at start (``SENTRY_*`` values from the file win over the environment) and then
polls it (``RELOAD_INTERVAL`` seconds, default 1): the rendered file is replaced atomically (rename), so a
change shows as a new inode, size or mtime, and a read never sees half a file. When a ``SENTRY_*`` value
changed, :func:`watch` calls ``apply`` with the new environment; the caller (``sentry_config``) builds a new
SDK client, binds it, then flushes and closes the old one, so events queued for the old key are still sent
(the old key stays active until ``rotate-dsn finish``). A file that cannot be read or parsed is logged
(without values) and the running client is kept.

Standard library only (the image does not ship the toolkit); the format is the one the toolkit renders:
``KEY='literal'`` or ``KEY="escaped"`` lines, comments and blank lines.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

ENV_FILE_VAR = "SENTRY_STACKS_ENV_FILE"
INTERVAL_VAR = "SENTRY_STACKS_RELOAD_INTERVAL"
LIVE_PREFIX = "SENTRY_"
_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "$": "$"}


class EnvFileError(ValueError):
    """The env file is missing or not in the rendered format (the message never holds a value)."""


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
            continue
        if len(rest) < 2 or rest[0] != '"' or rest[-1] != '"':
            raise EnvFileError(f"line {number}: the value of {key} is not quoted")
        value, i, body = [], 0, rest[1:-1]
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                value.append(_UNESCAPE.get(body[i + 1], "\\" + body[i + 1]))
                i += 2
            else:
                value.append(body[i])
                i += 1
        out[key] = "".join(value)
    return out


def read_live(path: str) -> dict[str, str]:
    """The ``SENTRY_*`` variables of the env file at `path`."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise EnvFileError(f"{ENV_FILE_VAR}={path} cannot be read: {exc.strerror or exc}") from None
    return {k: v for k, v in parse_env(text).items() if k.startswith(LIVE_PREFIX)}


def effective_env(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with the ``SENTRY_*`` values of ``SENTRY_STACKS_ENV_FILE`` on top (just `environ` without it)."""
    path = (environ.get(ENV_FILE_VAR) or "").strip()
    env = dict(environ)
    if path:
        env.update(read_live(path))
    return env


def _signature(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def watch(
    environ: Mapping[str, str], apply: Callable[[dict[str, str]], None], interval: float | None = None
) -> threading.Thread | None:
    """Start a daemon thread that calls ``apply(new_env)`` whenever the env file's ``SENTRY_*`` values change.

    Returns None (and starts nothing) without ``SENTRY_STACKS_ENV_FILE``. `apply` runs on the watcher thread;
    an exception in it is logged and the watcher goes on.
    """
    path = (environ.get(ENV_FILE_VAR) or "").strip()
    if not path:
        return None
    every = interval if interval is not None else float(environ.get(INTERVAL_VAR) or 1.0)
    base = dict(environ)
    stop = threading.Event()

    def loop() -> None:
        seen = _signature(path)
        try:
            applied = read_live(path)
        except EnvFileError:
            applied = {}
        while not stop.wait(every):
            now = _signature(path)
            if now == seen:
                continue
            seen = now
            try:
                live = read_live(path)
            except EnvFileError as exc:
                log.error("Sentry env file not reloaded, keeping the running client: %s", exc)
                continue
            if live == applied:
                continue
            changed = sorted(k for k in set(live) | set(applied) if live.get(k) != applied.get(k))
            log.info("Sentry env file changed (%s): re-initialising the SDK", ", ".join(changed))
            try:
                apply({**base, **live})
            except Exception:  # keep watching; the old client keeps sending
                log.exception("re-initialising the Sentry SDK failed; the running client is kept")
                continue
            applied = live

    thread = threading.Thread(target=loop, name="sentry-env-watch", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread


__all__ = ["ENV_FILE_VAR", "EnvFileError", "effective_env", "parse_env", "read_live", "watch"]
