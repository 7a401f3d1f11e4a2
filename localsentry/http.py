"""Request, response, errors and the small router that maps Sentry path templates to handlers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from localsentry.app import App
    from localsentry.auth import Principal

NOT_FOUND = {"detail": "The requested resource does not exist"}
PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}


class ApiError(Exception):
    """An error answered to the client as-is (status, JSON body, extra headers)."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def not_found() -> ApiError:
    return ApiError(404, dict(NOT_FOUND))


def bad_request(body: Any) -> ApiError:
    return ApiError(400, body)


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.status == 204 or (self.body is None and self.status in (202, 204)):
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes
    client: str
    app: App
    params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    template: str = ""
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    _json: Any = None
    _query: dict[str, list[str]] | None = None

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True)
        return self._query

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        if self._json is None:
            if not self.body.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.body)
                except ValueError as exc:
                    raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from exc
        return self._json

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(
                400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]}
            )
        return data

    @property
    def base_url(self) -> str:
        return self.app.url


@dataclass(frozen=True)
class FormPart:
    """One part of a `multipart/form-data` body: its field name, file name (None for a plain field) and bytes."""

    name: str
    filename: str | None
    data: bytes


def form_parts(req: Request) -> list[FormPart]:
    """The parts of a `multipart/form-data` request body (the standard library's MIME parser; bytes kept as sent).

    Raises a 400 naming what is wrong when the body is not multipart form data."""
    content_type = req.header("Content-Type") or ""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise ApiError(400, {"detail": f'Unsupported media type "{content_type or "none"}" in request.'})
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
                                                   + req.body)  # fmt: skip
    if not message.is_multipart():
        raise ApiError(400, {"detail": "Multipart form parse error - Invalid boundary in multipart: None"})
    parts: list[FormPart] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts.append(FormPart(name, part.get_filename(), payload))
    return parts


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    scopes: tuple[str, ...] | None
    kind: str


_PARAM = re.compile(r"\{([a-z_]+)\}")


def compile_template(template: str) -> re.Pattern[str]:
    pattern = ""
    pos = 0
    for match in _PARAM.finditer(template):
        pattern += re.escape(template[pos : match.start()]) + f"(?P<{match.group(1)}>[^/]+)"
        pos = match.end()
    pattern += re.escape(template[pos:])
    return re.compile(f"^{pattern}$")


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._by_depth: dict[int, list[Route]] = {}

    def add(
        self, method: str, template: str, handler: Handler, scopes: tuple[str, ...] | None, kind: str = "api"
    ) -> None:
        route = Route(method, template, compile_template(template), handler, scopes, kind)
        self.routes.append(route)
        self._by_depth.setdefault(template.count("/"), []).append(route)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | tuple[None, list[str]]:
        """The route and its params, or None and the methods allowed on that path."""
        allowed: list[str] = []
        for route in self._by_depth.get(path.count("/"), ()):
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict()
            allowed.append(route.method)
        return None, allowed

    def templates(self) -> list[tuple[str, str, str]]:
        return [(r.method, r.template, r.kind) for r in self.routes]
