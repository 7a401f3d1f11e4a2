"""The path and name rules Sentry's JavaScript processing applies to frames (written here from Symbolicator's
documented behaviour): joining a source map's `sources` entry with the map's URL, the module made from a path,
webpack's file names, the URLs a minified file may be stored under, in-app and function naming.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urljoin, urlsplit

NODE_MODULES = re.compile(r"\bnode_modules/")
WEBPACK_NAMESPACE = re.compile(r"^webpack://[a-zA-Z0-9_\-@.]+/\./")
#: path segments a module name never starts with: slashes, common asset folders, versions and hashes
MODULE_NOISE = re.compile(
    r"^(?:/|(?:(?:java)?scripts?|js|build|static|node_modules|bower_components|[_.~][^/]*|v?(?:\d+\.)*\d+|"
    r"[a-f0-9]{7,8}|[a-f0-9]{32}|[a-f0-9]{40})/)+|(?:[-.][a-f0-9]{7,}$)",
    re.IGNORECASE,
)
#: function names that say nothing; the caller's name for the call is used instead when there is one
USELESS_FUNCTIONS = ("<anonymous>", "__webpack_require__", "__webpack_modules__")
NODE_NOT_BUILTIN = re.compile(r"^((app|webpack|[a-zA-Z]):|/)")


def is_native(abs_path: str) -> bool:
    return abs_path in ("native", "[native code]")


def is_node_builtin(abs_path: str, platform: str | None) -> bool:
    """A Node frame of the runtime itself (`node:internal/…`, `internal/…`): never symbolicated, never in app."""
    return platform == "node" and not NODE_NOT_BUILTIN.match(abs_path)


def strip_host(path: str) -> str:
    """The path of a URL (`~/a.js` -> `/a.js`, `https://h/a.js` -> `/a.js`); other paths as they are."""
    if path.startswith("~"):
        return path[1:]
    if "://" in path:
        rest = path.split("://", 1)[1]
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else rest
    return path


def candidate_urls(abs_path: str) -> list[str]:
    """The names a file served at `abs_path` may be uploaded under: the URL with and without its query, and the
    same as `~/path` (the fragment never counts)."""
    url = abs_path.split("#", 1)[0]
    relative = strip_host(url)
    found = [url, url.split("?", 1)[0], f"~{relative}", f"~{relative.split('?', 1)[0]}"]
    return list(dict.fromkeys(found))


def join_path(base: str, path: str) -> str:
    """`path` (a source map's `sources` entry or reference) relative to `base` (a URL, `~/…` or a file path)."""
    if "://" in path or path.startswith("webpack:"):
        return path
    if base.startswith("~/"):
        return "~" + join_path("/" + base[2:], path)
    if path.startswith("~/"):
        path = path[1:]
    scheme = urlsplit(base).scheme
    if scheme in ("http", "https"):
        return urljoin(base, path)
    if "://" in base:  # app:///…, file://…: join the path part, keep the scheme and host
        prefix, rest = base.split("://", 1)
        host, _, tail = rest.partition("/")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname("/" + tail), path))
        return f"{prefix}://{host}{joined}"
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), path)) if path[:1] != "/" else path


def fixup_webpack(filename: str) -> str:
    """webpack's source names as Sentry shows them: `webpack:///./src/a.js` -> `./src/a.js`."""
    if "/~/" in filename:
        return "~/" + filename.split("/~/", 1)[1]
    if WEBPACK_NAMESPACE.match(filename):
        return WEBPACK_NAMESPACE.sub("./", filename)
    if filename.startswith("webpack:///"):
        return filename[len("webpack:///") :]
    return filename


def module_of(abs_path: str) -> str:
    """The module name Sentry makes of a path: no host, query or extension, without asset folders and hashes
    (`http://h/js/v1.0/foo/bar.min.js` -> `foo/bar`); what follows a 32/40-character hash segment if there is one."""
    path = strip_host(abs_path)
    path = re.split(r"[#?]", path, maxsplit=1)[0]
    dot, slash = path.rfind("."), path.rfind("/")
    if dot > slash:
        path = path[:dot]
    path = path.removesuffix(".min")
    segments = path.split("/")
    for n, segment in enumerate(segments):
        if len(segment) == 32 or (len(segment) == 40 and all(c in "0123456789abcdefABCDEF" for c in segment)):
            return "/".join(segments[n + 1 :])
    return MODULE_NOISE.sub("", path)


def in_app(abs_path: str, filename: str) -> bool | None:
    """Whether a resolved frame is the app's own code, when the path says so (None: it does not)."""
    if abs_path.startswith("webpack:"):
        return filename.startswith("./") and "/node_modules/" not in filename
    if abs_path.startswith("app:"):
        return not NODE_MODULES.search(filename)
    if "/node_modules/" in abs_path:
        return False
    return None


def function_name(raw: str | None, token: str, callsite: str | None) -> str:
    """The original name: the scope's, else the caller's name for the call, else the minified one; dotted names
    with repeated parts folded (`a.a.a.b` -> `{a#3}.b`)."""
    if token not in USELESS_FUNCTIONS:
        chosen = token
    elif callsite:
        chosen = callsite
    elif raw is None:
        chosen = token
    else:
        chosen = raw
    return fold(chosen)


def fold(name: str) -> str:
    parts = name.split(".")
    if len(parts) == 1:
        return name
    *head, tail = parts
    groups: list[list[str]] = []
    for part in head:
        if groups and groups[-1][-1] == part:
            groups[-1].append(part)
        else:
            groups.append([part])
    folded = [g[0] if len(g) == 1 else f"{{{g[0]}#{len(g)}}}" for g in groups]
    return ".".join([*folded, tail])


__all__ = [
    "candidate_urls",
    "fixup_webpack",
    "fold",
    "function_name",
    "in_app",
    "is_native",
    "is_node_builtin",
    "join_path",
    "module_of",
    "strip_host",
]
