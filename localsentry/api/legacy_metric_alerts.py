"""Legacy metric-alert rules (`/api/0/organizations/{org}/alert-rules/`), gated by the legacy-alerts mode."""

from __future__ import annotations

from localsentry.http import Router


def register(router: Router) -> None:
    pass
