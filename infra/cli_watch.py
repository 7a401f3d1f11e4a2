"""End a provider process as soon as the `pulumi` CLI that started it is gone (a leaf: standard library only).

A CLI killed with SIGKILL cannot stop its plugins: a provider would go on working (and the dynamic-provider host
would stay alive) with no state to record it. Linux only (/proc); elsewhere, and when no `pulumi` ancestor is found
(tests), :func:`watch` does nothing.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

_WATCHING = threading.Event()


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _command_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def find_cli() -> int | None:
    """The pid of the `pulumi` CLI above this process (python <- launcher script <- pulumi), or None."""
    pid: int | None = os.getpid()
    for _ in range(4):
        pid = _parent_of(pid) if pid else None
        if not pid or pid <= 1:
            return None
        if _command_of(pid) == "pulumi":
            return pid
    return None


def watch(on_start: Callable[[], None] | None = None, on_gone: Callable[[], None] | None = None,
          interval: float = 0.25) -> None:
    """Once per process: when a CLI is found, call `on_start`, then exit (code 70) within `interval` of the CLI's
    death, after `on_gone`."""
    if _WATCHING.is_set():
        return
    _WATCHING.set()
    cli = find_cli()
    if cli is None:
        return
    if on_start is not None:
        on_start()

    def run() -> None:
        while True:
            time.sleep(interval)
            try:
                os.kill(cli, 0)
            except ProcessLookupError:
                if on_gone is not None:
                    on_gone()
                os._exit(70)
            except PermissionError:
                pass

    threading.Thread(target=run, name="pulumi-cli-watch", daemon=True).start()


__all__ = ["find_cli", "watch"]
