"""Sentry's cursor pagination: `cursor=value:offset:is_prev`, `per_page`, and the exact `Link` header."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from localsentry.http import ApiError, Request, Response

MAX_PER_PAGE = 100


def per_page(req: Request, default: int = 100, maximum: int = MAX_PER_PAGE) -> int:
    raw = req.arg("per_page")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, {"detail": "Invalid per_page parameter."}) from None
    if value > maximum:
        raise ApiError(400, {"detail": f"Invalid per_page value. Cannot exceed {maximum}."})
    if value < 1:
        raise ApiError(400, {"detail": "Invalid per_page parameter."})
    return value


def parse_cursor(raw: str | None) -> tuple[int, int, bool] | None:
    if raw is None or raw == "":
        return None
    parts = raw.split(":")
    try:
        if len(parts) != 3:
            raise ValueError(raw)
        value, offset, is_prev = int(parts[0]), int(parts[1]), int(parts[2])
    except ValueError:
        raise ApiError(400, {"detail": "Invalid cursor parameter."}) from None
    if offset < 0 or value < 0:
        raise ApiError(400, {"detail": "Invalid cursor parameter."})
    return value, offset, bool(is_prev)


def link_header(req: Request, limit: int, page: int, has_next: bool) -> str:
    others = [(k, v) for k, values in req.query.items() if k != "cursor" for v in values]
    base = f"{req.base_url}{req.path}?{urlencode(others)}&cursor="
    prev_cursor = f"{limit}:{page - 1}:1"
    next_cursor = f"{limit}:{page + 1}:0"
    prev_results = "true" if page > 0 else "false"
    next_results = "true" if has_next else "false"
    return (
        f'<{base}{prev_cursor}>; rel="previous"; results="{prev_results}"; cursor="{prev_cursor}", '
        f'<{base}{next_cursor}>; rel="next"; results="{next_results}"; cursor="{next_cursor}"'
    )


def paginate(
    req: Request,
    source: Sequence[Any] | Callable[[int, int], Sequence[Any]],
    serialize: Callable[[Any], Any] = lambda x: x,
    default: int = 100,
    hits: int | None = None,
) -> Response:
    """Offset pagination. `source` is a full list or fetch(offset, limit) returning up to limit items."""
    limit = per_page(req, default)
    cursor = parse_cursor(req.arg("cursor"))
    page = cursor[1] if cursor else 0
    offset = page * limit
    if callable(source):
        rows = list(source(offset, limit + 1))
    else:
        rows = list(source[offset : offset + limit + 1])
    has_next = len(rows) > limit
    body = [serialize(r) for r in rows[:limit]]
    headers = {"Link": link_header(req, limit, page, has_next)}
    if hits is not None:
        headers["X-Hits"] = str(hits)
        headers["X-Max-Hits"] = str(hits)
    return Response(200, body, headers)
