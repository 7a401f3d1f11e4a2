"""The one resolver of the Sentry connection, used by the settings and by the providers' ``configure()``.

Each value comes from the first place that gives it:

1. the stack config: ``sentry:baseUrl``, ``sentry:organization``, ``sentry:token`` (a secret);
2. the environment: ``SENTRY_BASE_URL``, ``SENTRY_ORG``, ``SENTRY_AUTH_TOKEN``;
3. the embedded localsentry, described by ``.localsentry/info.json`` under the project root (only when no
   base URL is given at all): its URL, organization, team and token file.

:func:`resolve_connection` only gathers (it never raises, never reads the token file unless asked);
the settings turn what is missing or malformed into problems naming the config key, and
:func:`infra.sentry.client.connection_from_config` turns them into :class:`SentryConfigError`.
A leaf module: standard library and the error tree only.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.sentry.errors import SentryConfigError

LOCALSENTRY_INFO = Path(".localsentry") / "info.json"
REGIONS = {"us": "https://us.sentry.io", "de": "https://de.sentry.io", "sentry.io": "https://sentry.io"}
BASE_URL_KEY, ORG_KEY, TOKEN_KEY = "sentry:baseUrl", "sentry:organization", "sentry:token"
#: the token source-map uploads use (a secret; least scope: an organization token's `org:ci`), else TOKEN_KEY's
UPLOAD_TOKEN_KEY = "sentry:uploadToken"  # noqa: S105 - a config key, not a token
ENV_BASE_URL, ENV_ORG, ENV_TOKEN = "SENTRY_BASE_URL", "SENTRY_ORG", "SENTRY_AUTH_TOKEN"
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_base_url(url: str) -> str:
    """The API root (ending in ``/api/0/``) for a base URL as users write it.

    ``us`` / ``de`` / ``sentry.io`` → the sentry.io region; ``https://sentry.example.com``,
    ``…/api/`` or ``…/api/0`` (self-hosted, localsentry) → ``…/api/0/``. A missing scheme means https.
    Raises :class:`SentryConfigError` for anything that is not an http(s) URL of a host name or IP address.
    """
    text = url.strip()
    if not text:
        raise SentryConfigError("sentry:baseUrl is empty")
    text = REGIONS.get(text.lower(), text)
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SentryConfigError(f"sentry:baseUrl {url!r} is not an http(s) URL")
    if not _valid_host(parts.hostname):
        raise SentryConfigError(f"sentry:baseUrl {url!r} has no valid host name ({parts.hostname!r})")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        raise SentryConfigError(f"sentry:baseUrl {url!r} has an invalid port") from None
    if parts.query or parts.fragment:
        raise SentryConfigError(f"sentry:baseUrl {url!r} must not carry a query or fragment")
    path = parts.path.rstrip("/")
    for suffix in ("/api/0", "/api"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    if "@" in parts.netloc:
        raise SentryConfigError(f"sentry:baseUrl {url!r} must not contain credentials")
    return f"{parts.scheme}://{parts.netloc.lower()}{path}/api/0/"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return all(_HOST_LABEL.match(label) for label in labels)


def is_sentry_io(api_root: str) -> bool:
    """True for sentry.io (any region or customer domain)."""
    host = urlsplit(api_root).hostname or ""
    return host == "sentry.io" or host.endswith(".sentry.io")


def read_localsentry_info(root: Path | None = None) -> dict[str, Any] | None:
    """The embedded localsentry's info file, or None when there is none."""
    path = (root or Path.cwd()) / LOCALSENTRY_INFO
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SentryConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not data.get("url"):
        raise SentryConfigError(f"{path} has no 'url'")
    return data


@dataclass(frozen=True)
class ConnectionValues:
    """The connection as gathered, unchecked. ``*_source`` names where a value came from: the config key,
    the environment variable, or ``localsentry``; None when nothing gave it."""

    base_url: str | None
    organization: str | None
    token: str | None = field(repr=False)
    base_url_source: str | None
    organization_source: str | None
    token_source: str | None
    #: the team of the embedded localsentry (only with the localsentry fallback)
    team: str | None = None
    #: why the localsentry info file could not be used (only when no base URL is given)
    localsentry_error: str | None = None

    @property
    def localsentry(self) -> bool:
        return self.base_url_source == "localsentry"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def resolve_connection(
    get: Callable[[str], Any],
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
    *,
    read_token: bool = False,
    source: Callable[[str], str] | None = None,
) -> ConnectionValues:
    """Gather the connection: stack config (`get` of a full key), then `environ`, then the localsentry info.

    `read_token`: also read the localsentry token file (the providers need the token; the settings do not).
    `source`: the name of the setting a key's value came from, for messages (default: the key).
    """
    env = os.environ if environ is None else environ
    values: dict[str, tuple[str | None, str | None]] = {}
    for name, key, var in (("base", BASE_URL_KEY, ENV_BASE_URL), ("org", ORG_KEY, ENV_ORG),
                           ("token", TOKEN_KEY, ENV_TOKEN)):
        given = _text(get(key))
        if given is not None:
            values[name] = (given, source(key) if source is not None else key)
        elif _text(env.get(var)) is not None:
            values[name] = (_text(env.get(var)), var)
        else:
            values[name] = (None, None)
    (base, base_src), (org, org_src), (token, token_src) = values["base"], values["org"], values["token"]
    team: str | None = None
    error: str | None = None
    if base is None:
        try:
            info = read_localsentry_info(root)
        except SentryConfigError as exc:
            info, error = None, str(exc)
        if info is not None:
            base, base_src = str(info["url"]), "localsentry"
            if org is None and info.get("organization"):
                org, org_src = str(info["organization"]), "localsentry"
            team = str(info["team"]) if info.get("team") else None
            if token is None and read_token and info.get("token_file"):
                token_path = Path(str(info["token_file"]))
                if not token_path.is_absolute():
                    token_path = (root or Path.cwd()) / token_path
                try:
                    token = token_path.read_text(encoding="utf-8").strip() or None
                except OSError as exc:
                    raise SentryConfigError(
                        f"cannot read the localsentry token file {token_path}: {exc}") from None
                token_src = "localsentry"  # noqa: S105 - where the token came from, not a token
    return ConnectionValues(base, org, token, base_src, org_src, token_src, team, error)


__all__ = [
    "BASE_URL_KEY",
    "ENV_BASE_URL",
    "ENV_ORG",
    "ENV_TOKEN",
    "LOCALSENTRY_INFO",
    "ORG_KEY",
    "REGIONS",
    "TOKEN_KEY",
    "UPLOAD_TOKEN_KEY",
    "ConnectionValues",
    "is_sentry_io",
    "normalize_base_url",
    "read_localsentry_info",
    "resolve_connection",
]
