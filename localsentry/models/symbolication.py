"""JavaScript symbolication at ingest, before grouping, as Sentry's processing (Symbolicator) does it.

An error event from a browser or Node (`platform` javascript or node) has its frames resolved through the source
maps uploaded to its project (`localsentry/models/artifact_bundles.py`), with Sentry's own library
(`symbolic.sourcemapcache`, the one Symbolicator uses):

1. by debug id: the event's `debug_meta.images` of type `sourcemap` name the debug id of each minified file
   (`code_file` = the frame's `abs_path`); the bundle files carrying it give the minified source and its map;
2. else by release and dist: the bundles bound to the event's release hold the file under its URL or `~/path`, and
   its `Sourcemap` header (or `sourceMappingURL` comment) names the map; then the release's older release files.

A resolved frame gets the original `function` (the scope's name, else the caller's name for the call), `filename`
(the map's `sources` entry), `abs_path` (that entry relative to the map's URL), `module`, `lineno`, `colno`,
`context_line`, `pre_context`, `post_context`, `in_app: false` for a file under `node_modules/`, and in `data`
Sentry's flags: `symbolicated: true`, `sourcemap` (the map's URL) and `resolved_with` (`debug-id`, `release`,
`release-old`). The frames as they arrived are kept as the exception's `raw_stacktrace`. A frame that cannot be
resolved stays as it was, and the event says why in `errors`, once per file and reason (`js_no_source`,
`js_invalid_source`, `js_invalid_sourcemap_location`, `js_missing_sources_content`), as Sentry writes them.

Events that need none of this (other platforms, no frame with a location) are not touched. Built source map caches
are kept in memory (by bundle and file), so the next event of a release costs lookups only.
"""

from __future__ import annotations

import copy
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from symbolic.exceptions import SymbolicError
from symbolic.sourcemapcache import SourceMapCache, SourceMapCacheToken

from localsentry.db import Database
from localsentry.models import js_paths
from localsentry.models.artifact_bundles import (
    BundleFile,
    file_content,
    files_by_debug_id,
    files_by_url,
    normalize_debug_id,
    release_bundles,
)
from localsentry.models.release_files import ReleaseFile, release_file_content, release_files_by_url

PLATFORMS = ("javascript", "node")
CONTEXT_LINES = 5
SOURCE_TYPES = ("minified_source", "source")
SOURCE_MAPPING_URL = re.compile(rb"[#@]\s*sourceMappingURL=(\S+)\s*$")
CACHE_SIZE = 256
MISSING_SOURCE, INVALID_SOURCEMAP, INVALID_LOCATION, MISSING_CONTENT = (
    "js_no_source", "js_invalid_source", "js_invalid_sourcemap_location", "js_missing_sources_content")  # fmt: skip

_CACHES: OrderedDict[tuple[Any, ...], SourceMapCache] = OrderedDict()
_CACHES_LOCK = threading.Lock()


@dataclass
class Module:
    """What one minified file (a frame's `abs_path`) resolves to: its map, or why not."""

    cache: SourceMapCache | None = None
    resolved_with: str | None = None
    sourcemap: str | None = None  # the map's URL (Sentry's `data.sourcemap`)
    base: str | None = None  # what the map's `sources` entries are relative to
    error: dict[str, Any] | None = None  # why frames of this file stay as they are
    files: list[BundleFile] = field(default_factory=list)  # where the map came from (to find original sources)


def normalized(frame: dict[str, Any]) -> dict[str, Any]:
    """A frame as Relay stores it: `abs_path` from `filename` when it has none (browser SDKs send only `filename`),
    and a `filename` that repeats a URL `abs_path` cut to the URL's path."""
    abs_path, filename = frame.get("abs_path"), frame.get("filename")
    if not abs_path and isinstance(filename, str) and filename:
        frame = {**frame, "abs_path": filename}
        abs_path = filename
    if isinstance(abs_path, str) and filename in (None, abs_path) and abs_path.startswith(("http:", "https:")):
        frame = {**frame, "filename": js_paths.strip_host(abs_path).split("?", 1)[0] or abs_path}
    return frame


def _handled(frame: Any, platform: str | None) -> bool:
    if not isinstance(frame, dict):
        return False
    abs_path, lineno = frame.get("abs_path") or frame.get("filename"), frame.get("lineno")
    return (isinstance(abs_path, str) and bool(abs_path) and isinstance(lineno, int) and lineno > 0
            and not js_paths.is_native(abs_path) and not js_paths.is_node_builtin(abs_path, platform))  # fmt: skip


def _stacktraces(payload: dict[str, Any]) -> Iterator[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """(container, stacktrace) of every stack trace of the event: exceptions, threads and the event's own."""
    for section in ("exception", "threads"):
        block = payload.get(section)
        values = block.get("values") if isinstance(block, dict) else block
        for value in values if isinstance(values, list) else []:
            if isinstance(value, dict) and isinstance(value.get("stacktrace"), dict):
                yield value, value["stacktrace"]
    if isinstance(payload.get("stacktrace"), dict):
        yield None, payload["stacktrace"]


def needs_processing(payload: Any) -> bool:
    """A JavaScript or Node event with at least one frame that has a file and a line."""
    if not isinstance(payload, dict) or payload.get("platform") not in PLATFORMS:
        return False
    platform = str(payload.get("platform"))
    return any(_handled(f, platform) for _, st in _stacktraces(payload) for f in st.get("frames") or [])


def _cache(key: tuple[Any, ...], minified: bytes, sourcemap: bytes) -> SourceMapCache:
    with _CACHES_LOCK:
        found = _CACHES.get(key)
        if found is not None:
            _CACHES.move_to_end(key)
            return found
    built = SourceMapCache.from_bytes(minified, sourcemap)
    with _CACHES_LOCK:
        _CACHES[key] = built
        while len(_CACHES) > CACHE_SIZE:
            _CACHES.popitem(last=False)
    return built


def _map_reference(file: BundleFile | ReleaseFile, content: bytes) -> str | None:
    if file.sourcemap:
        return file.sourcemap
    match = SOURCE_MAPPING_URL.search(content[-2048:])
    return match.group(1).decode("utf-8", "replace") if match else None


class Resolver:
    """Resolves the files of one event (each `abs_path` once) in one project, release and dist."""

    def __init__(self, db: Database, project_id: int, org_id: int, payload: dict[str, Any]) -> None:
        self.db, self.project_id, self.org_id = db, project_id, org_id
        self.release = str(payload["release"]) if payload.get("release") else None
        self.dist = str(payload["dist"]) if payload.get("dist") else None
        images = (payload.get("debug_meta") or {}).get("images") if isinstance(payload.get("debug_meta"), dict) else []
        self.debug_ids = {str(i["code_file"]): normalize_debug_id(i.get("debug_id")) for i in images or []
                          if isinstance(i, dict) and i.get("type") == "sourcemap" and i.get("code_file")}  # fmt: skip
        self.modules: dict[str, Module] = {}

    def module(self, abs_path: str) -> Module:
        if abs_path not in self.modules:
            self.modules[abs_path] = self._resolve(abs_path)
        return self.modules[abs_path]

    def _resolve(self, abs_path: str) -> Module:
        debug_id = self.debug_ids.get(abs_path)
        if debug_id:
            files = files_by_debug_id(self.db, self.project_id, debug_id)
            source = next((f for f in files if f.type in SOURCE_TYPES), None)
            smap = next((f for f in files if f.type == "source_map" and (source is None or f.bundle == source.bundle)),
                        None) or next((f for f in files if f.type == "source_map"), None)  # fmt: skip
            if source is not None and smap is not None:
                minified = file_content(self.db, source)
                reference = _map_reference(source, minified)
                url = js_paths.join_path(abs_path, reference) if reference else abs_path
                return self._build(("bundle", source.bundle, source.path, smap.bundle, smap.path), minified,
                                   file_content(self.db, smap), "debug-id", url, [source, smap])  # fmt: skip
        if self.release:
            found = self._by_release(abs_path)
            if found is not None:
                return found
        return Module(error={"type": MISSING_SOURCE, "url": abs_path, "symbolicator_type": "missing_source"})

    def _by_release(self, abs_path: str) -> Module | None:
        assert self.release is not None
        bundles = release_bundles(self.db, self.project_id, self.release, self.dist)
        candidates = js_paths.candidate_urls(abs_path)
        source = next((f for f in files_by_url(self.db, bundles, candidates) if f.type in SOURCE_TYPES), None)
        if source is not None:
            minified = file_content(self.db, source)
            reference = _map_reference(source, minified)
            if reference is None:
                return Module()  # a plain source file: nothing to map, nothing wrong
            smap = None
            if source.debug_id:
                smap = next((f for f in files_by_debug_id(self.db, self.project_id, source.debug_id)
                             if f.type == "source_map"), None)  # fmt: skip
            if smap is None:
                names = js_paths.candidate_urls(js_paths.join_path(source.url, reference))
                smap = next(iter(files_by_url(self.db, bundles, names)), None)
            map_url = js_paths.join_path(abs_path, reference)
            if smap is None:
                return Module(error={"type": MISSING_SOURCE, "url": map_url, "symbolicator_type": "missing_sourcemap"})
            return self._build(("bundle", source.bundle, source.path, smap.bundle, smap.path), minified,
                               file_content(self.db, smap), "release", map_url, [source, smap])  # fmt: skip
        return self._by_release_files(abs_path)

    def _by_release_files(self, abs_path: str) -> Module | None:
        assert self.release is not None
        by_name = {f.name: f for f in release_files_by_url(self.db, self.org_id, self.release, self.dist or "", "")}
        source = next((by_name[u] for u in js_paths.candidate_urls(abs_path) if u in by_name), None)
        if source is None:
            return None
        found = release_file_content(self.db, self.org_id, source.id)
        minified = found[1] if found else b""
        reference = _map_reference(source, minified)
        if reference is None:
            return Module()
        map_url = js_paths.join_path(abs_path, reference)
        smap = next((by_name[u] for u in js_paths.candidate_urls(js_paths.join_path(source.name, reference))
                     if u in by_name), None)  # fmt: skip
        content = None if smap is None else release_file_content(self.db, self.org_id, smap.id)
        if smap is None or content is None:
            return Module(error={"type": MISSING_SOURCE, "url": map_url, "symbolicator_type": "missing_sourcemap"})
        return self._build(("release_file", source.id, smap.id), minified, content[1], "release-old", map_url, [])

    def _build(self, key: tuple[Any, ...], minified: bytes, sourcemap: bytes, resolved_with: str, map_url: str,
               files: list[BundleFile]) -> Module:  # fmt: skip
        try:
            cache = _cache((self.db.path, *key), minified, sourcemap)
        except SymbolicError:
            return Module(resolved_with=resolved_with, error={"type": INVALID_SOURCEMAP, "url": map_url,
                                                              "symbolicator_type": "malformed_sourcemap"})  # fmt: skip
        return Module(cache, resolved_with, map_url, map_url, files=files)


def _lines(token: SourceMapCacheToken) -> tuple[list[str], str, list[str]] | None:
    if token.context_line is None:
        return None
    return ([line.rstrip("\r\n") for line in token.pre_context], token.context_line.rstrip("\r\n"),
            [line.rstrip("\r\n") for line in token.post_context])  # fmt: skip


def _frame(resolver: Resolver, raw: dict[str, Any], callsite: str | None,
           errors: dict[tuple[str, str], dict[str, Any]]) -> tuple[dict[str, Any], str | None]:  # fmt: skip
    """The resolved frame (or the raw one) and the token name it passes on to the next frame."""
    abs_path, lineno = str(raw["abs_path"]), int(raw["lineno"])
    module = resolver.module(abs_path)
    if module.cache is None:
        if module.error is not None:
            errors.setdefault((abs_path, str(module.error["type"])), module.error)
        return dict(raw), None
    colno = raw.get("colno") if isinstance(raw.get("colno"), int) else 0
    token = module.cache.lookup(lineno, max(int(colno or 0), 1), CONTEXT_LINES)
    if token is None or token.src is None:  # the position maps to nothing: the frame stays as it was
        errors.setdefault((abs_path, INVALID_LOCATION), {
            "type": INVALID_LOCATION, "column": colno, "row": lineno, "source": abs_path,
            "symbolicator_type": "invalid_location"})  # fmt: skip
        return dict(raw), None
    frame = copy.deepcopy(raw)
    data = frame["data"] if isinstance(frame.get("data"), dict) else {}
    frame["data"] = {**data, "sourcemap": module.sourcemap, "resolved_with": module.resolved_with,
                     "symbolicated": True}
    frame["function"] = js_paths.function_name(raw.get("function"), token.function_name or "<unknown>", callsite)
    filename = token.src
    frame["abs_path"] = js_paths.join_path(module.base or abs_path, filename)
    if filename.startswith("webpack:"):
        filename = js_paths.fixup_webpack(filename)
        frame["module"] = js_paths.module_of(filename)
    elif frame["abs_path"].startswith(("http:", "https:", "webpack:", "app:")):
        frame["module"] = js_paths.module_of(frame["abs_path"])
    frame["filename"] = filename
    frame["lineno"], frame["colno"] = token.line, token.col
    in_app = js_paths.in_app(frame["abs_path"], filename)
    if in_app is not None:
        frame["in_app"] = in_app
    for name in ("pre_context", "context_line", "post_context"):
        frame.pop(name, None)  # the minified file's lines describe the raw frame only
    lines = _lines(token)
    if lines is not None:
        frame["pre_context"], frame["context_line"], frame["post_context"] = lines
    else:
        errors.setdefault((abs_path, MISSING_CONTENT), {
            "type": MISSING_CONTENT, "source": frame["abs_path"], "sourcemap": module.sourcemap,
            "symbolicator_type": "missing_source_content"})  # fmt: skip
    return frame, token.name


def symbolicate(db: Database, project_id: int, org_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """A copy of the event with its JavaScript frames resolved (see the module docstring)."""
    event = copy.deepcopy(payload)
    platform = str(event.get("platform"))
    resolver = Resolver(db, project_id, org_id, event)
    errors: dict[tuple[str, str], dict[str, Any]] = {}
    for container, stacktrace in _stacktraces(event):
        raw_frames = stacktrace.get("frames")
        if not isinstance(raw_frames, list):
            continue
        raw_frames = [normalized(f) if isinstance(f, dict) else f for f in raw_frames]
        frames: list[Any] = []
        callsite: str | None = None
        for raw in raw_frames:
            if not _handled(raw, platform):
                if isinstance(raw, dict) and isinstance(raw.get("abs_path"), str) and (
                        js_paths.is_native(raw["abs_path"]) or js_paths.is_node_builtin(raw["abs_path"], platform)):
                    raw = {**raw, "in_app": False}  # fmt: skip
                frames.append(raw)
                callsite = None
                continue
            frame, callsite = _frame(resolver, raw, callsite, errors)
            frames.append(frame)
        if container is not None and any(isinstance(f, dict) and "symbolicated" in (f.get("data") or {})
                                         for f in frames):  # fmt: skip
            container["raw_stacktrace"] = {**stacktrace, "frames": raw_frames}
        stacktrace["frames"] = frames
    if errors:
        event["errors"] = [*(event.get("errors") or []), *errors.values()]
    return event


__all__ = ["CONTEXT_LINES", "PLATFORMS", "Module", "Resolver", "needs_processing", "symbolicate"]
