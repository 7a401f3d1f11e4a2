"""HTTP endpoints of the reference backend (all JSON)."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

import redis
from celery.result import AsyncResult
from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

import sentry_stacks_runtime
from demoapp import tasks
from demoapp.celery_app import app as celery_app
from sentry_stacks_runtime.django import account_user

noise_log = logging.getLogger("demoapp.noise")


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness; `?deep=1` also pings Redis. Never sampled for tracing."""
    config = sentry_stacks_runtime.current_config()
    body: dict[str, Any] = {"status": "ok", "service": "backend", "release": config and config.release}
    if request.GET.get("deep"):
        try:
            _redis().ping()
            body["redis"] = "ok"
        except redis.RedisError as exc:
            return JsonResponse({**body, "status": "degraded", "redis": type(exc).__name__}, status=503)
    return JsonResponse(body)


@require_GET
def sentry_debug(request: HttpRequest) -> JsonResponse:
    """Raises ZeroDivisionError on purpose: the first event a new setup should see."""
    division_by_zero = 1 / 0
    return JsonResponse({"result": division_by_zero})


@require_GET
def hello(request: HttpRequest) -> JsonResponse:
    """An ordinary traced request with a Redis call in it."""
    try:
        count: int | None = int(_redis().incr("demo:hello"))
    except redis.RedisError:
        count = None
    user = getattr(request, "sentry_user", None)
    return JsonResponse({"message": "hello from the backend", "count": count, "user": user and user["id"]})


@require_GET
def noise(request: HttpRequest) -> JsonResponse:
    """Logs an error on the `demoapp.noise` logger: dropped in development, sent elsewhere."""
    noise_log.error("demo noise event (dropped by before_send in development environments)")
    config = sentry_stacks_runtime.current_config()
    return JsonResponse({"logged": True, "environment": config and config.environment})


@require_POST
def enqueue(request: HttpRequest) -> JsonResponse:
    """Enqueue `demoapp.add` (or `demoapp.fail` with {"fail": true}); answers 202 with the task id."""
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        x, y = int(body.get("x", 2)), int(body.get("y", 3))
    except (ValueError, TypeError) as exc:
        return JsonResponse({"error": f"bad request: {exc}"}, status=400)
    if body.get("fail"):
        result = tasks.fail.delay(str(body.get("message") or "demo task failure"))
    else:
        result = tasks.add.delay(x, y)
    return JsonResponse({"task_id": result.id}, status=202)


@require_GET
def task_status(request: HttpRequest, task_id: str) -> JsonResponse:
    result = AsyncResult(task_id, app=celery_app)
    body: dict[str, Any] = {"task_id": task_id, "state": result.state}
    if result.successful():
        body["result"] = result.result
    elif result.failed():
        body["error"] = type(result.result).__name__
    return JsonResponse(body)


def _user_body(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.is_authenticated:
        return None
    return {"id": str(user.pk), "username": user.get_username()}


@require_POST
def login(request: HttpRequest) -> JsonResponse:
    """The demo login: {"username", "password"} -> a session (cookie demo_sessionid) and {"user": {...}}."""
    try:
        body = json.loads(request.body or b"{}")
        username, password = str(body["username"]), str(body["password"])
    except (ValueError, TypeError, KeyError):
        return JsonResponse({"error": "bad request: send {\"username\": ..., \"password\": ...}"}, status=400)
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        return JsonResponse({"error": "wrong username or password"}, status=401)
    auth.login(request, user)
    body = _user_body(request)
    assert body is not None
    sentry_stacks_runtime.set_user(account_user(user))
    return JsonResponse({"user": body})


@require_POST
def logout(request: HttpRequest) -> JsonResponse:
    """Ends the session; later events of this request and client carry no logged-in user."""
    auth.logout(request)
    sentry_stacks_runtime.set_user(None)
    return JsonResponse({"user": None})


@require_GET
def me(request: HttpRequest) -> JsonResponse:
    """The logged-in user of this session, or null."""
    return JsonResponse({"user": _user_body(request)})
