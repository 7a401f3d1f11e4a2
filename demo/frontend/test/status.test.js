// node --test: the page's status line for backend calls (src/lib/status.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { describe, reason } from "../src/lib/status.js";

const DJANGO_DEBUG_PAGE = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>ZeroDivisionError
  at /api/core/sentry-debug/</title><style>${"x".repeat(5000)}</style></head><body><h1>ZeroDivisionError</h1></body></html>`;

test("a Django error page becomes its title, on one line", () => {
  const line = describe({ path: "/api/core/sentry-debug/", status: 500, statusText: "Internal Server Error",
    contentType: "text/html", body: DJANGO_DEBUG_PAGE, eventId: "0123abcd" });
  assert.equal(line, "GET /api/core/sentry-debug/ -> 500 Internal Server Error: ZeroDivisionError at /api/core/sentry-debug/ (Sentry event 0123abcd)");
  assert.ok(!line.includes("<") && !line.includes("\n"));
});

test("Django's production 500 page, a JSON error, plain text and an empty body", () => {
  assert.equal(reason("text/html", "\n<!doctype html>\n<html><body><h1>Server Error (500)</h1></body></html>\n", "Internal Server Error"), "Server Error (500)");
  assert.equal(reason("application/json", '{"error": "wrong username or password"}', "Unauthorized"), "wrong username or password");
  assert.equal(reason("text/plain", "bad gateway\nupstream down", "Bad Gateway"), "bad gateway upstream down");
  assert.equal(reason("text/html", "", "Service Unavailable"), "Service Unavailable");
  assert.equal(reason("text/html", "<html></html>", ""), "no reason given");
  assert.ok(reason("text/plain", "x".repeat(1000), "").length <= 160);
});

test("a success shows the body on one line", () => {
  assert.equal(describe({ method: "POST", path: "/api/tasks/", status: 202, body: '{"task_id":\n"abc"}' }), 'POST /api/tasks/ -> 202 {"task_id": "abc"}');
});
