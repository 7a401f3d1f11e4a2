"""Request middleware: CORS for the browser frontend, and the Sentry user of each request."""

from __future__ import annotations

from collections.abc import Callable

import sentry_sdk
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from demoapp.sentry_config import USER_EMAIL_HEADER, USER_ID_HEADER, current_user, sentry_user, user_from_request

Handler = Callable[[HttpRequest], HttpResponse]
# the browser sends sentry-trace and baggage to the backend (tracePropagationTargets) and the user id
CORS_HEADERS = ", ".join(["content-type", "sentry-trace", "baggage", USER_ID_HEADER.lower(), USER_EMAIL_HEADER.lower()])


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
            # the page's fetches send the session cookie (credentials: "include"): allowed for allowed origins
            # only, and the cookie is SameSite=Lax, so other sites' pages never send it (settings.py)
            response["Access-Control-Allow-Credentials"] = "true"
            response["Vary"] = "Origin"
        return response


class SentryUserMiddleware:
    """Sets the Sentry user on the request's scope: the logged-in Django user (session), else X-User-Id
    (or the demo_user_id cookie), the anonymous id the demo page sends.

    Also tags events with the caller's X-Request-Id (a common correlation header) and answers a 5xx with
    the captured event's id in X-Sentry-Event-Id, so a caller (or a support ticket) can find the event.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = None
        if settings.SESSION_COOKIE_NAME in request.COOKIES:  # no session lookup (database) without a cookie
            account = getattr(request, "user", None)
            if account is not None and account.is_authenticated:
                user = sentry_user({"id": str(account.pk), "username": account.get_username()},
                                   settings.SENTRY.user_info, getattr(account, "email", ""))
        if user is None:
            user = user_from_request(request.headers, request.COOKIES, settings.SENTRY.user_info)
        request.sentry_user = user  # type: ignore[attr-defined]
        if user is not None:
            sentry_sdk.set_user(user)
        request_id = request.headers.get("X-Request-Id")
        if request_id:
            sentry_sdk.set_tag("request_id", request_id[:64])
        token = current_user.set(user)
        try:
            response = self.get_response(request)
        finally:
            current_user.reset(token)
        if response.status_code >= 500:
            event_id = sentry_sdk.last_event_id()
            if event_id:
                response["X-Sentry-Event-Id"] = event_id
        return response
