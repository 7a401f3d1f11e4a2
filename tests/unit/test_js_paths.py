"""Sentry's path and name rules for JavaScript frames, as localsentry applies them after symbolication."""

from __future__ import annotations

import pytest

from localsentry.models import js_paths


@pytest.mark.parametrize(("base", "path", "joined"), [
    ("http://h:8080/_app/immutable/nodes/2.js.map", "../../../../../../src/routes/+page.svelte",
     "http://h:8080/src/routes/+page.svelte"),
    ("https://h/assets/app.js.map", "../src/a.js", "https://h/src/a.js"),
    ("https://h/assets/app.js", "app.js.map", "https://h/assets/app.js.map"),
    ("~/assets/app.js", "app.js.map", "~/assets/app.js.map"),
    ("app:///dist/main.js.map", "../src/main.ts", "app:///src/main.ts"),
    ("https://h/a.js", "webpack:///./src/a.js", "webpack:///./src/a.js"),
    ("https://h/a.js", "https://cdn/b.js", "https://cdn/b.js"),
    ("https://h/js/a.js", "~/b.js", "https://h/b.js"),
])  # fmt: skip
def test_join(base: str, path: str, joined: str) -> None:
    assert js_paths.join_path(base, path) == joined


@pytest.mark.parametrize(("path", "module"), [
    ("http://h/src/routes/+page.svelte", "src/routes/+page"),
    ("http://google.com/js/v1.0/foo/bar/baz.js", "foo/bar/baz"),
    ("https://h/static/js/app.min.js", "app"),
    ("http://h/node_modules/svelte/src/internal/client/render.js", "svelte/src/internal/client/render"),
    ("~/assets/0123456789abcdef0123456789abcdef/app.js", "app"),
    ("./src/checkout.js", "src/checkout"),  # webpack names lose their "./"
])  # fmt: skip
def test_module(path: str, module: str) -> None:
    assert js_paths.module_of(path) == module


def test_candidates_in_app_and_names() -> None:
    assert js_paths.candidate_urls("https://h/assets/app.js?v=3#x") == [
        "https://h/assets/app.js?v=3", "https://h/assets/app.js", "~/assets/app.js?v=3", "~/assets/app.js"]
    assert js_paths.in_app("http://h/node_modules/svelte/a.js", "../node_modules/svelte/a.js") is False
    assert js_paths.in_app("webpack:///./src/a.js", "./src/a.js") is True
    assert js_paths.in_app("http://h/src/a.js", "../src/a.js") is None  # the path says nothing: as sent
    assert js_paths.function_name("HTMLButtonElement.le", "testSentry", None) == "testSentry"
    assert js_paths.function_name("Or", "<anonymous>", "onClick") == "onClick"  # the caller's name for the call
    assert js_paths.function_name("Or", "<anonymous>", None) == "Or"
    assert js_paths.function_name(None, "<anonymous>", None) == "<anonymous>"
    assert js_paths.fold("a.a.a.b.b.onError") == "{a#3}.{b#2}.onError"
    assert js_paths.fixup_webpack("webpack://app/./src/a.js") == "./src/a.js"
    assert js_paths.is_node_builtin("node:internal/timers", "node")
    assert not js_paths.is_node_builtin("/app/a.js", "node")
