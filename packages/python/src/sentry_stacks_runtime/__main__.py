"""``python -m sentry_stacks_runtime`` (or ``sentry-stacks-check``): check the environment without starting anything.

Exit 0 with one line of what is in effect (never the DSN), or 2 with the one-line error naming the variable. A
container's entry point runs it first, so a bad value stops the start with a clear message.
"""

from __future__ import annotations

import os
import sys

from sentry_stacks_runtime.config import ConfigError, RuntimeConfig
from sentry_stacks_runtime.envfile import effective_env


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    try:
        config = RuntimeConfig.from_env(effective_env(os.environ))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(f"sentry: {config.describe()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
