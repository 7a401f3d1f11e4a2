// node --test: src/contract.js is packages/contract.json, and the bin hands a page only the public list.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const DSN = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/42";

test("src/contract.js is generated from packages/contract.json", () => {
  const result = spawnSync(process.execPath, ["scripts/gen-contract.mjs", "--check"], { cwd: root, encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
});

function bin(args, env) {
  return spawnSync(process.execPath, ["bin/public-config.js", ...args], { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
}

test("the bin writes the public config of a framework and nothing secret", () => {
  const dir = mkdtempSync(join(tmpdir(), "ss-bin-"));
  const out = join(dir, "sentry-config.js");
  const result = bin(["--framework", "vite", "--out", out], {
    VITE_SENTRY_DSN: DSN, VITE_SENTRY_ENVIRONMENT: "prod", VITE_SENTRY_TRACES_SAMPLE_RATE: "0.5",
    SENTRY_AUTH_TOKEN: "sntrys_secret", VITE_SENTRY_AUTH_TOKEN: "sntrys_prefixed", SENTRY_DSN: "http://server@x/1",
  });
  assert.equal(result.status, 0, result.stderr);
  const text = readFileSync(out, "utf8");
  assert.match(text, /^window\.__SENTRY_STACKS_CONFIG__ = /);
  const config = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));
  assert.equal(config.dsn, DSN);
  assert.equal(config.tracesSampleRate, 0.5);
  assert.ok(!text.includes("sntrys_") && !text.includes("server@"));
  assert.equal(statSync(out).mode & 0o777, 0o644);
  const json = bin(["--prefix", "NEXT_PUBLIC_", "--format", "json"], { NEXT_PUBLIC_SENTRY_DSN: DSN });
  assert.equal(JSON.parse(json.stdout).dsn, DSN);
});

test("the bin refuses a bad value naming it, and an unknown framework", () => {
  const bad = bin(["--framework", "vite"], { VITE_SENTRY_SAMPLE_RATE: "7" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /VITE_SENTRY_SAMPLE_RATE must be a number between 0 and 1/);
  const unknown = bin(["--framework", "remix"], {});
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /--framework must be one of sveltekit, nextjs, vite, nuxt/);
});
