"""Request middleware: CORS for the browser frontend (the Sentry user is sentry_stacks_runtime.django's)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Handler = Callable[[HttpRequest], HttpResponse]
# the browser sends sentry-trace and baggage to the backend (tracePropagationTargets) and the user id
CORS_HEADERS = "content-type, sentry-trace, baggage, x-user-id, x-user-email"


class CorsMiddleware:
    """Answers preflight requests and allows the configured origins (CORS_ALLOWED_ORIGINS)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin and request.headers.get("Access-Control-Request-Method"):
            response = HttpResponse(status=204)
        else:
            response = self.get_response(request)
        allowed = settings.CORS_ALLOWED_ORIGINS
        if origin and ("*" in allowed or origin in allowed):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = CORS_HEADERS
            response["Access-Control-Max-Age"] = "600"
            # the page shows a failed call's Sentry event id (sentry_stacks_runtime's middleware sets it on a 5xx)
            response["Access-Control-Expose-Headers"] = "X-Sentry-Event-Id"
            # the page's fetches send the session cookie (credentials: "include"): allowed for allowed origins
            # only, and the cookie is SameSite=Lax, so other sites' pages never send it (settings.py)
            response["Access-Control-Allow-Credentials"] = "true"
            response["Vary"] = "Origin"
        return response
