// node --test: the server side (src/server.js): the env file, the development log transport, the options.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, readConfig } from "../src/config.js";
import { effectiveEnv, logTransport, parseEnvFile, serverOptions, serverUser } from "../src/server.js";

const DSN = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/42";

test("the env file is read as the toolkit renders it; its SENTRY_* win", () => {
  const text = "# rendered\n\nSENTRY_DSN='file-dsn'\nPORT='9999'\nSENTRY_RELEASE=\"a\\\"b\\\\c\\$d\\n\"\n";
  assert.deepEqual(parseEnvFile(text), { SENTRY_DSN: "file-dsn", PORT: "9999", SENTRY_RELEASE: 'a"b\\c$d\n' });
  const dir = mkdtempSync(join(tmpdir(), "ss-"));
  writeFileSync(join(dir, "svc.env"), text);
  const env = effectiveEnv({ SENTRY_STACKS_ENV_FILE: join(dir, "svc.env"), SENTRY_DSN: "env-dsn", PORT: "80" });
  assert.equal(env.SENTRY_DSN, "file-dsn");
  assert.equal(env.PORT, "80");
  assert.throws(() => effectiveEnv({ SENTRY_STACKS_ENV_FILE: join(dir, "gone.env") }), /SENTRY_STACKS_ENV_FILE=.*gone\.env cannot be read/);
  for (const line of ["SENTRY_DSN=unquoted", "1BAD='x'", "no equals"]) {
    assert.throws(() => parseEnvFile(line), (e) => e instanceof ConfigError && /line 1/.test(e.message) && !e.message.includes("unquoted'"));
  }
});

test("development logs events instead of sending them; the app's transport wins", async () => {
  const Sentry = { SDK_VERSION: "11.17.0" };
  const dev = serverOptions(Sentry, readConfig({ SENTRY_DSN: DSN }));
  const lines = [];
  const transport = logTransport((line) => lines.push(line))();
  await transport.send([{}, [[{ type: "event" }, { event_id: "abc", level: "error", exception: { values: [{ type: "TypeError", value: "x is undefined" }] } }]]]);
  assert.deepEqual(lines, ["not sent (SENTRY_STACKS_LOG_EVENTS): error event abc: TypeError: x is undefined"]);
  assert.equal(typeof dev.transport, "function");
  assert.ok(!("transport" in serverOptions(Sentry, readConfig({ SENTRY_DSN: DSN, SENTRY_ENVIRONMENT: "staging" }))));
  const mine = () => ({});
  assert.equal(serverOptions(Sentry, readConfig({ SENTRY_DSN: DSN }), { transport: mine }).transport, mine);
});

test("the app's options win over the environment", () => {
  const Sentry = { SDK_VERSION: "11.17.0" };
  const config = readConfig({ SENTRY_DSN: DSN, SENTRY_ENVIRONMENT: "prod", SENTRY_TRACES_SAMPLE_RATE: "1" });
  const options = serverOptions(Sentry, config, { environment: "qa", tracesSampleRate: 0, enableLogs: true });
  assert.equal(options.environment, "qa");
  assert.equal(options.enableLogs, true);
  assert.equal(options.tracesSampler({ name: "GET /x" }), 0, "the app's rate, still through the health-aware sampler");
  assert.ok(!("tracesSampleRate" in options));
  assert.equal(serverOptions(Sentry, config).tracesSampler({ name: "GET /x" }), 1);
});

test("a request's user on the server: the id, and details only when user info is collected", () => {
  const user = { id: 42, username: "ada", email: "ada@example.com" };
  const without = readConfig({ SENTRY_DATA_COLLECTION: '{"userInfo":false}' });
  const withInfo = readConfig({ SENTRY_DATA_COLLECTION: '{"userInfo":true}' });
  assert.deepEqual(serverUser(user, without), { id: "42" });
  assert.deepEqual(serverUser(user, withInfo), { id: "42", username: "ada", email: "ada@example.com" });
  assert.equal(serverUser(null, withInfo), null);
  assert.equal(serverUser({ email: "no-id@example.com" }, withInfo), null);
});
