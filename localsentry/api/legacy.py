"""The per-organization switch of the deprecated legacy alert APIs: works / brownout / gone / 404.

- works: normal answers plus the deprecation headers sentry.io adds to deprecated endpoints
- brownout: 410 `{"message": "This API no longer exists."}` plus the deprecation headers
- gone: 410 `{"detail": "This API no longer exists."}` (`organizations:legacy-alerts-api` off)
- 404: the routes were removed (sentry#121879)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from localsentry.http import NOT_FOUND, ApiError, Request, Response
from localsentry.models.common import org_row, org_settings

DEPRECATION_DATE = "2026-05-14T00:00:00+00:00"
GONE = "This API no longer exists."


def deprecation_headers(org: sqlite3.Row, replacement: str) -> dict[str, str]:
    return {
        "X-Sentry-Deprecation-Date": DEPRECATION_DATE,
        "X-Sentry-Replacement-Endpoint": f"/api/0/organizations/{org['slug']}/{replacement}/",
    }


def gated(replacement: str) -> Callable[[Callable[[Request], Response]], Callable[[Request], Response]]:
    """Wrap a legacy endpoint in the organization's legacy-alerts mode."""

    def wrap(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def gate(req: Request) -> Response:
            org = org_row(req)
            mode = org_settings(org).get("legacyAlertsMode", "gone")
            headers = deprecation_headers(org, replacement)
            if mode == "404":
                raise ApiError(404, dict(NOT_FOUND))
            if mode == "gone":
                raise ApiError(410, {"detail": GONE})
            if mode == "brownout":
                raise ApiError(410, {"message": GONE}, headers)
            try:
                resp = handler(req)
            except ApiError as err:
                err.headers.update(headers)
                raise
            resp.headers.update(headers)
            return resp

        gate.__name__ = handler.__name__
        gate.__doc__ = handler.__doc__
        return gate

    return wrap
