"""The notes API (FastAPI). Its Sentry setup is six lines, marked "glue": the import and init() below, and the
middleware that names the request's user; the rest is the app. Everything else (DSN, environment, release, rates,
data collection, a DSN rotated under it) comes from the environment the Sentry Stacks toolkit renders, read by
sentry-stacks-runtime."""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

import sentry_stacks_runtime  # glue

sentry_stacks_runtime.init()  # glue: everything from the environment (dsnReload: file too)

app = FastAPI(title="notes")
_notes: list[dict[str, str]] = []
_lock = threading.Lock()


@app.middleware("http")  # glue: the request's user (here a header; a real app takes it from its session)
async def sentry_user(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:  # glue
    sentry_stacks_runtime.set_user(sentry_stacks_runtime.sentry_user(request.headers.get("x-user-id")))  # glue
    return await call_next(request)  # glue


@app.get("/api/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/api/notes")
def list_notes(run: str = "") -> dict[str, object]:
    with _lock:
        return {"notes": list(_notes), "run": run}


@app.post("/api/notes")
def add_note(text: str) -> dict[str, str]:
    note = {"id": str(len(_notes) + 1), "text": text}
    with _lock:
        _notes.append(note)
    return note


class NotesFailure(RuntimeError):
    """Raised on purpose by /api/fail."""


@app.get("/api/fail")
def fail(run: str = "") -> None:
    raise NotesFailure(f"notes api failure {run}")


@app.get("/api/whoami")
def whoami() -> dict[str, str | None]:
    config = sentry_stacks_runtime.current_config()
    return {"environment": config.environment if config else None, "pid": str(os.getpid())}
