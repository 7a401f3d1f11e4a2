"""The SDK side of the wire, parsed as Relay does: auth payloads, body encodings, envelopes."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import brotli  # type: ignore[import-untyped, unused-ignore]

from localsentry.http import ApiError

MAX_DECODED = 200 * 1024 * 1024
PROTOCOL_VERSION = 7


def relay_error(
    status: int, detail: str, causes: list[str] | None = None, headers: dict[str, str] | None = None
) -> ApiError:
    body: dict[str, Any] = {"detail": detail}
    if causes:
        body["causes"] = causes
    return ApiError(status, body, headers)


def parse_sentry_auth(value: str) -> dict[str, str]:
    text = value.strip()
    if text[:7].lower() == "sentry ":
        text = text[7:]
    out: dict[str, str] = {}
    for part in text.split(","):
        key, sep, val = part.strip().partition("=")
        if not sep:
            continue
        key = key.strip()
        out[key[7:] if key.startswith("sentry_") else key] = val.strip()
    return out


@dataclass
class Auth:
    key: str
    version: int | None = None
    client: str | None = None
    source: str = ""


def _checked(payload: dict[str, str], source: str, bad: str) -> Auth:
    key = payload.get("key")
    if not key:
        raise relay_error(401, bad, ["missing authorization information"])
    public = key.split(".")[0]
    if len(public) != 32 or not public.isascii():
        raise relay_error(400, "bad sentry DSN public key")
    version: int | None = None
    if payload.get("version"):
        try:
            version = int(payload["version"])
        except ValueError:
            raise relay_error(401, bad, [f"invalid version {payload['version']!r}"]) from None
        if version > PROTOCOL_VERSION:
            raise relay_error(400, f"unsupported protocol version ({version})")
    return Auth(public, version, payload.get("client"), source)


def request_auth(headers: Any, query_string: str) -> Auth | None:
    """The one auth payload of a request (None if there is none); more than one → 401."""
    found: list[tuple[str, dict[str, str], str]] = []
    x_auth = headers.get("X-Sentry-Auth")
    if x_auth:
        found.append(("x-sentry-auth", parse_sentry_auth(x_auth), "bad x-sentry-auth header"))
    authorization = headers.get("Authorization")
    if authorization:
        scheme = authorization.strip()[:7].lower()
        if scheme == "sentry ":
            found.append(("authorization", parse_sentry_auth(authorization), "bad x-sentry-auth header"))
        elif scheme[:6] == "basic ":
            try:
                decoded = base64.b64decode(authorization.strip()[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                raise relay_error(401, "bad x-sentry-auth header", ["invalid basic auth"]) from None
            found.append(("basic", {"key": decoded.partition(":")[0]}, "bad x-sentry-auth header"))
    query = parse_qs(query_string)
    if any(k.startswith("sentry_") for k in query):
        payload = {k[7:]: v[0] for k, v in query.items() if k.startswith("sentry_")}
        found.append(("query", payload, "bad x-sentry-auth header"))
    if len(found) > 1:
        raise relay_error(401, "multiple authorization payloads detected")
    if not found:
        return None
    source, payload, bad = found[0]
    return _checked(payload, source, bad)


def checked_key(key: str, source: str) -> Auth:
    """A public key given on its own (in a URL path, as the unreal and cron endpoints take it)."""
    return _checked({"key": key}, source, "bad x-sentry-auth header")


def dsn_auth(dsn: Any) -> Auth:
    if not isinstance(dsn, str):
        raise relay_error(401, "bad envelope authentication header", ["invalid dsn"])
    parts = urlsplit(dsn)
    return _checked({"key": parts.username or ""}, "envelope", "bad envelope authentication header")


def decode_body(body: bytes, encoding: str | None) -> bytes:
    encodings = [e.strip().lower() for e in (encoding or "").split(",") if e.strip() and e.strip() != "identity"]
    try:
        for enc in reversed(encodings):
            if enc in ("gzip", "x-gzip"):
                body = gzip.decompress(body)
            elif enc == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
            elif enc == "br":
                body = brotli.decompress(body)
            else:
                raise relay_error(400, "failed to read request body", [f"unsupported content encoding {enc!r}"])
            if len(body) > MAX_DECODED:
                raise relay_error(413, "failed to read request body", ["payload reached its size limit"])
    except (OSError, EOFError, zlib.error, brotli.error) as exc:
        raise relay_error(400, "failed to read request body", [f"failed to decode: {exc}"]) from exc
    return body


_UNPARSED = object()


@dataclass
class Item:
    headers: dict[str, Any]
    payload: bytes
    _parsed: Any = field(default=_UNPARSED, repr=False, compare=False)

    @property
    def type(self) -> str:
        return str(self.headers.get("type"))

    def json(self) -> Any:
        """The payload as JSON (None if it is not JSON); parsed once."""
        if self._parsed is _UNPARSED:
            try:
                self._parsed = json.loads(self.payload) if self.payload.strip() else None
            except (ValueError, UnicodeDecodeError):
                self._parsed = None
        return self._parsed


@dataclass
class Envelope:
    headers: dict[str, Any]
    items: list[Item] = field(default_factory=list)


def invalid_envelope(cause: str) -> ApiError:
    return relay_error(400, "invalid event envelope", [cause])


def parse_envelope(data: bytes) -> Envelope:
    newline = data.find(b"\n")
    header_line = data if newline < 0 else data[:newline]
    try:
        headers = json.loads(header_line)
    except ValueError:
        raise invalid_envelope("invalid envelope header") from None
    if not isinstance(headers, dict):
        raise invalid_envelope("invalid envelope header")
    envelope = Envelope(headers)
    pos = len(data) if newline < 0 else newline + 1
    while pos < len(data):
        end = data.find(b"\n", pos)
        line = data[pos:] if end < 0 else data[pos:end]
        if not line.strip():
            pos = len(data) if end < 0 else end + 1
            continue
        try:
            item_headers = json.loads(line)
        except ValueError:
            raise invalid_envelope("invalid item header") from None
        if not isinstance(item_headers, dict) or not isinstance(item_headers.get("type"), str):
            raise invalid_envelope("invalid item header")
        pos = len(data) if end < 0 else end + 1
        length = item_headers.get("length")
        if length is not None:
            if not isinstance(length, int) or length < 0:
                raise invalid_envelope("invalid item header")
            if pos + length > len(data):
                raise invalid_envelope("unexpected end of file")
            payload = data[pos : pos + length]
            pos += length
            if pos < len(data):
                if data[pos : pos + 1] != b"\n":
                    raise invalid_envelope("missing newline after header or payload")
                pos += 1
        else:
            end = data.find(b"\n", pos)
            payload = data[pos:] if end < 0 else data[pos:end]
            pos = len(data) if end < 0 else end + 1
        envelope.items.append(Item(item_headers, payload))
    return envelope
