"""Print how many operations of Sentry's published schema localsentry serves and the contract tests validate.

    python -m localsentry.contract_coverage [--list]

Every operation counted here is driven and validated by tests/sentry/test_localsentry_contract*.py (a test
there fails if one is implemented but not validated).
"""

from __future__ import annotations

import sys

from localsentry.contract import all_operations, implemented


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    covered = implemented()
    total = all_operations()
    print(f"{len(covered)} of {len(total)} operations")
    if "--list" in argv:
        for method, template in covered:
            print(f"  {method:6} {template}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
