"""Provider errors reach the CLI as one line that says what to do, never as a Python traceback.

Pulumi's dynamic-provider host (``pulumi/dynamic/__main__.py``, the SDK's and the repository's own launcher
alike) answers an exception raised by check/diff/create/read/update/delete with ``traceback.format_exc()`` as the
gRPC error text, and the CLI prints that text (twice: under the resource and in the summary). The providers'
errors are written for people (``create project 'backend' in organization 'acme': HTTP 403 Forbidden: … . The token
lacks a scope …``), so the traceback only buries them.

:func:`install` is called from each provider's ``configure()`` (the host calls it once per provider, in the
provider process only, never in the program): it makes ``traceback.format_exc`` in that process answer

* the message alone for the errors a provider raises on purpose (the classes passed to :func:`install`:
  :class:`~infra.sentry.errors.SentryError`, ``ComposeError``, an ``OSError`` writing a file, ...);
* one line naming the exception for anything else (a bug), with the full traceback appended to
  ``.sentry-stacks/provider-errors.log`` in the project folder, which the line names.

Every other use of ``traceback.format_exc`` (no exception being handled) is unchanged. A leaf module.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path

LOG = Path(".sentry-stacks") / "provider-errors.log"
_LOCK = threading.Lock()
_EXPECTED: list[type[BaseException]] = []
_ORIGINAL = traceback.format_exc


def one_line(exc: BaseException, log: Path | None = None) -> str:
    """What the CLI shows for `exc`."""
    if isinstance(exc, tuple(_EXPECTED)):
        return str(exc) or type(exc).__name__
    path = (log or LOG).absolute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK, open(path, "a", encoding="utf-8") as handle:
            handle.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} pid {os.getpid()}\n")
            handle.write("".join(traceback.format_exception(exc)))
        where = f"the traceback is in {path}"
    except OSError:
        where = "the traceback could not be written"
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text} (an unexpected error inside the provider, please report it; {where})"


def _format_exc(limit: int | None = None, chain: bool = True) -> str:
    exc = sys.exc_info()[1]
    if exc is None:
        return _ORIGINAL(limit, chain)
    return one_line(exc)


def in_provider_host() -> bool:
    """True in the dynamic-provider host process (``python -m pulumi.dynamic``, or the repository's launcher that
    runs that module as ``__main__``); False in a program, a test or a script that calls a provider directly."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return bool(spec is not None and str(spec.name).startswith("pulumi.dynamic"))


def expect(expected: Iterable[type[BaseException]]) -> None:
    """Errors raised on purpose: :func:`one_line` shows their own message."""
    with _LOCK:
        for cls in expected:
            if cls not in _EXPECTED:
                _EXPECTED.append(cls)


def install(expected: Iterable[type[BaseException]], *, anywhere: bool = False) -> None:
    """Turn provider errors into one line in the provider host (`anywhere`: in this process, whatever it is);
    `expected` errors carry their own message."""
    if not (anywhere or in_provider_host()):
        return
    expect(expected)
    with _LOCK:
        traceback.format_exc = _format_exc


__all__ = ["LOG", "expect", "in_provider_host", "install", "one_line"]
