import logging

from django.http import HttpRequest, JsonResponse

noise_log = logging.getLogger("djangoapp.noise")


class ViewFailure(RuntimeError):
    pass


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def hello(request: HttpRequest) -> JsonResponse:
    user = getattr(request, "sentry_user", None)
    return JsonResponse({"hello": True, "user": user and user["id"]})


def boom(request: HttpRequest) -> JsonResponse:
    raise ViewFailure(f"view failed {request.GET.get('tag', '')}")


def noise(request: HttpRequest) -> JsonResponse:
    noise_log.error("noise %s", request.GET.get("tag", ""))
    return JsonResponse({"logged": True})


def enqueue(request: HttpRequest) -> JsonResponse:
    from djangoapp.tasks import fail

    result = fail.delay(request.GET.get("tag", ""))
    return JsonResponse({"task_id": result.id}, status=202)
