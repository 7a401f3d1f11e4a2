"""``dsnReload: file``: watch the rendered env file and swap the SDK client when its ``SENTRY_*`` values change.

The contract with the toolkit: the deploy folder is mounted read-only into the container and
``SENTRY_STACKS_ENV_FILE`` names the service's own rendered env file in it; the inline environment carries every
variable except ``SENTRY_DSN``, so a rotated DSN changes only that file (no container is restarted).

How a swap loses nothing:

1. the new values are parsed and checked first; a bad file is logged (without values) and the running client is
   kept;
2. a new client is built and bound to the global scope (``sentry_sdk.init``): from then on every capture, in any
   thread, resolves the new client, and a transaction that started before the swap is sent by the new client
   when it finishes;
3. the old client is retired, not closed at once: a thread that fetched it just before the swap may still be
   capturing on it, so it is flushed and closed after a grace period (``RETIRE_GRACE`` seconds) on a separate
   thread; the old key stays active until the rotation finishes, so its queue still delivers. An exit during the
   grace period closes every retiring client first (atexit), and ``flush()`` flushes them too.

The watcher is a daemon thread per process, re-started in a child after ``fork()`` (gunicorn ``--preload``, a
Celery prefork pool), where threads do not survive.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sentry_stacks_runtime.config import ConfigError
from sentry_stacks_runtime.envfile import EnvFileError, read_live, signature

log = logging.getLogger("sentry_stacks_runtime")

RETIRE_GRACE = 5.0
_retiring: list[Any] = []
_retiring_lock = threading.Lock()


def _close(client: Any, grace: float) -> None:
    if grace > 0:
        threading.Event().wait(grace)
    with _retiring_lock:
        if client not in _retiring:
            return  # closed meanwhile (flush_retiring at exit)
        _retiring.remove(client)
    client.close(timeout=client.options.get("shutdown_timeout") or 2.0)


def retire(client: Any, grace: float | None = None) -> None:
    """Flush and close `client` after `grace` seconds (default RETIRE_GRACE), on a daemon thread."""
    grace = RETIRE_GRACE if grace is None else grace
    with _retiring_lock:
        _retiring.append(client)
    threading.Thread(target=_close, args=(client, grace), name="sentry-client-retire", daemon=True).start()


def flush_retiring(timeout: float = 2.0) -> None:
    """Close every client still in its grace period (sends what it holds)."""
    with _retiring_lock:
        clients = list(_retiring)
        _retiring.clear()
    for client in clients:
        client.close(timeout=timeout)


def retiring_count() -> int:
    with _retiring_lock:
        return len(_retiring)


atexit.register(flush_retiring)


class EnvFileWatcher:
    """Calls ``apply(environ + the file's SENTRY_* values)`` whenever those values change (polls every `interval`
    seconds: inode, size, mtime). `apply` runs on the watcher thread; an exception in it is logged and the watcher
    goes on."""

    def __init__(
        self, environ: Mapping[str, str], path: str, interval: float, apply: Callable[[dict[str, str]], Any]
    ) -> None:
        self.base = dict(environ)
        self.path = path
        self.interval = interval
        self.apply = apply
        self.applies = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: tuple[int, int, int] | None = signature(path)
        try:
            self._applied: dict[str, str] = read_live(path)
        except EnvFileError:
            self._applied = {}

    def start(self) -> EnvFileWatcher:
        self._thread = threading.Thread(target=self._loop, name="sentry-env-watch", daemon=True)
        self._thread.start()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)
        return self

    def stop(self) -> None:
        self._stop.set()

    def _after_fork(self) -> None:
        if self._stop.is_set():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sentry-env-watch", daemon=True)
        self._thread.start()

    def check(self) -> bool:
        """One poll: apply a change of the file's SENTRY_* values; True when applied."""
        now = signature(self.path)
        if now == self._seen:
            return False
        self._seen = now
        try:
            live = read_live(self.path)
        except EnvFileError as exc:
            log.error("Sentry env file not reloaded, keeping the running client: %s", exc)
            return False
        if live == self._applied:
            return False
        changed = sorted(k for k in set(live) | set(self._applied) if live.get(k) != self._applied.get(k))
        log.info("Sentry env file changed (%s): swapping the SDK client", ", ".join(changed))
        try:
            self.apply({**self.base, **live})
        except ConfigError as exc:
            log.error("Sentry env file not applied, keeping the running client: %s", exc)
            return False
        except Exception:  # keep watching; the old client keeps sending
            log.exception("swapping the Sentry SDK client failed; the running client is kept")
            return False
        self._applied = live
        self.applies += 1
        return True

    def _loop(self) -> None:
        stop = self._stop
        while not stop.wait(self.interval):
            self.check()


__all__ = ["RETIRE_GRACE", "EnvFileWatcher", "flush_retiring", "retire", "retiring_count"]
