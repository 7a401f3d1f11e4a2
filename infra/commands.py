"""The toolkit's commands: their installed names, and the name a message gives the command that is running.

Installed (``pip install`` of the toolkit), each command is a console script of ``pyproject.toml`` for the project in
the current folder (``venv/bin/sentry-stacks-rotate-dsn``); in this repository, ``scripts/<name>`` runs the same for
the repository's own project. A message that tells the user what to run next names the command as the user ran it
(:func:`invoked_as`), so it works where they are: a bare name only when that name finds this very command on PATH.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROTATE_DSN = "sentry-stacks-rotate-dsn"
VERIFY_ALERTS = "sentry-stacks-verify-alerts"
RENDER_ENV = "sentry-stacks-render-env"


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def invoked_as(argv0: str, fallback: str, cwd: Path | None = None) -> str:
    """How to run again the command that was started as `argv0` (``sys.argv[0]``), from the folder `cwd`.

    The bare name when PATH finds the same file under it; else the path as typed when relative (``venv/bin/x``,
    ``scripts/x``); else a path relative to `cwd` when the command lies below it; else the absolute path. `fallback`
    when `argv0` is not a file (``python -c``, a test calling ``main()`` in-process).
    """
    if not argv0 or not os.path.isfile(argv0):
        return fallback
    name = os.path.basename(argv0)
    found = shutil.which(name)
    if found and _same_file(found, argv0):
        return name
    if not os.path.isabs(argv0):
        return argv0 if os.sep in argv0 else f".{os.sep}{argv0}"
    here = (cwd or Path.cwd()).resolve()
    path = Path(argv0)
    try:
        relative = path.relative_to(here)
    except ValueError:
        return str(path)
    return str(relative) if len(relative.parts) > 1 else f".{os.sep}{relative}"


__all__ = ["RENDER_ENV", "ROTATE_DSN", "VERIFY_ALERTS", "invoked_as"]
