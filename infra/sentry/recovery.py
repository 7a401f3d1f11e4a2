"""Which creates a killed run may have left behind, so that only those are looked up before their POST.

A create POSTs at once and looks its object up only when the outcome is unknown: the POST answered 409,
timed out, lost its connection or got a 5xx after it was sent (:meth:`SentryClient.create`). One more case
makes an outcome unknown: the `pulumi` CLI killed (``kill -9``) while a create was in flight, or after a create
returned but before the CLI wrote it to the state. The engine then calls ``create()`` again on the next run
and nothing in the request says so; client keys, monitors and alerts have no unique name in Sentry, so a
blind POST would make a second one.

This journal remembers those creates, per project directory (the provider's working directory), in
``.sentry-stacks/pending-creates.jsonl``, one JSON line per event:

* ``{"begin": key}`` before a create's POST, ``{"done": key}`` after the create returned;
* when the provider sees the CLI gone (:func:`infra.sentry.base.watch_cli`), ``{"begin": key}`` again for every
  create this process finished: the CLI may have died before recording it;
* once the provider plugin can no longer answer (shut down with calls still running, or a call cancelled:
  :func:`unanswered`), a create that returns writes no ``done``: its answer never reached the engine.

A key whose last line is ``begin`` is *pending*: the next run looks that object up by name before POSTing
(finding it is what makes a rerun converge with no duplicate), then writes ``done``. The journal holds names
only, never a secret. It is active only under the Pulumi CLI (tests that call providers directly have no CLI to
lose); elsewhere :func:`may_exist` is always False and nothing is written.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

JOURNAL = Path(".sentry-stacks") / "pending-creates.jsonl"
COMPACT_ABOVE = 256 * 1024  # bytes: rewrite the journal with only its pending entries beyond this size

_lock = threading.Lock()
_state: dict[str, object] = {"path": None, "pending": None, "dying": False}
_finished_here: set[str] = set()


def enable(path: Path | None = None) -> None:
    """Turn the journal on for this process (the provider runs under the Pulumi CLI)."""
    with _lock:
        _state["path"] = (path or Path.cwd() / JOURNAL).resolve()
        _state["pending"], _state["dying"] = None, False


def disable() -> None:
    with _lock:
        _state["path"], _state["pending"], _state["dying"] = None, None, False
        _finished_here.clear()


def key(kind: str, api_root: str, org: str, scope: str, name: str) -> str:
    """The journal key of one create: kind, connection, organization, project (or ''), name."""
    return "|".join((kind, api_root, org, scope, name))


def _path() -> Path | None:
    value = _state["path"]
    return value if isinstance(value, Path) else None


def _append(lines: list[dict[str, str]]) -> None:
    path = _path()
    if path is None or not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
    finally:
        os.close(fd)  # closing releases the lock


def _load(path: Path) -> set[str]:
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return set()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), "r", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        pending: dict[str, None] = {}
        for line in text.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash
            if not isinstance(event, dict):
                continue
            if isinstance(event.get("begin"), str):
                pending[event["begin"]] = None
            elif isinstance(event.get("done"), str):
                pending.pop(event["done"], None)
        if len(text) > COMPACT_ABOVE:
            kept = "".join(json.dumps({"begin": k}) + "\n" for k in pending).encode()
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, kept)
        return set(pending)
    finally:
        os.close(fd)


def may_exist(journal_key: str) -> bool:
    """True when a killed run may have created this object: look it up before the POST."""
    with _lock:
        path = _path()
        if path is None:
            return False
        pending = _state["pending"]
        if not isinstance(pending, set):
            pending = _state["pending"] = _load(path)
        return journal_key in pending


@contextmanager
def creating(journal_key: str) -> Iterator[None]:
    """Journal one create: ``begin`` before the body runs, ``done`` when it returned normally. A create that
    raised stays pending (its POST may have landed), so the next run looks it up first."""
    if _path() is None:
        yield
        return
    _append([{"begin": journal_key}])
    yield
    settled(journal_key)


def settled(journal_key: str) -> None:
    """The create of `journal_key` returned: no longer pending (until the CLI dies before recording it)."""
    if _path() is None:
        return
    with _lock:
        if _state["dying"]:
            return  # the CLI is gone: this create stays pending
        _finished_here.add(journal_key)
        pending = _state["pending"]
        if isinstance(pending, set):
            pending.discard(journal_key)
    _append([{"done": journal_key}])


def unanswered() -> None:
    """The provider can no longer answer the engine (it is shutting down, or a call was cancelled): a create that
    returns from now on stays pending (its object may be missing from the state); those answered stay done."""
    with _lock:
        _state["dying"] = True


def cli_died() -> None:
    """The CLI is gone: every create this process finished may be missing from the state. Mark them pending."""
    with _lock:
        _state["dying"] = True
        keys = sorted(_finished_here)
    _append([{"begin": k} for k in keys])


__all__ = ["JOURNAL", "cli_died", "creating", "disable", "enable", "key", "may_exist", "settled", "unanswered"]
