"""A Flask app configured only through sentry-stacks-runtime: init() and set_user() per request."""

from flask import Flask, g, request

import sentry_stacks_runtime

sentry_stacks_runtime.init()
app = Flask(__name__)


class FlaskFailure(RuntimeError):
    pass


@app.before_request
def _user() -> None:
    headers = request.headers
    g.user = sentry_stacks_runtime.sentry_user(headers.get("X-User-Id"), email=headers.get("X-User-Email"))
    sentry_stacks_runtime.set_user(g.user)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/hello")
def hello() -> dict[str, object]:
    return {"hello": True}


@app.get("/boom")
def boom() -> dict[str, str]:
    raise FlaskFailure(f"flask failed {request.args.get('tag', '')}")
