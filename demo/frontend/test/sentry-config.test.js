// node --test: the runtime config both sides build from their environment (src/lib/sentry-config.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, initOptions, masked, runtimeConfig } from "../src/lib/sentry-config.js";

const DSN = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/42";

test("the browser's config reflects the PUBLIC_ variables", () => {
  const config = runtimeConfig(
    {
      PUBLIC_SENTRY_DSN: DSN,
      PUBLIC_SENTRY_ENVIRONMENT: "prod",
      PUBLIC_SENTRY_RELEASE: "shop@2",
      PUBLIC_SENTRY_TRACES_SAMPLE_RATE: "0.1",
      PUBLIC_SENTRY_REPLAYS_SESSION_SAMPLE_RATE: "0.05",
      PUBLIC_SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE: "1",
      PUBLIC_SENTRY_SEND_DEFAULT_PII: "false",
      PUBLIC_SENTRY_DATA_COLLECTION: '{"userInfo":false}',
      PUBLIC_BACKEND_URL: "http://127.0.0.1:18000/",
      SENTRY_DSN: "http://server@127.0.0.1:9/1",
    },
    "PUBLIC_",
  );
  assert.deepEqual(config, {
    dsn: DSN,
    environment: "prod",
    release: "shop@2",
    sampleRate: 1,
    tracesSampleRate: 0.1,
    replaysSessionSampleRate: 0.05,
    replaysOnErrorSampleRate: 1,
    sendDefaultPii: false,
    debug: false,
    dataCollection: { userInfo: false },
    backendUrl: "http://127.0.0.1:18000",
    tracePropagationTargets: ["http://127.0.0.1:18000"],
  });
});

test("the server reads the unprefixed names", () => {
  const config = runtimeConfig({ SENTRY_DSN: DSN, PUBLIC_SENTRY_DSN: "http://other@127.0.0.1:9/1" });
  assert.equal(config.dsn, DSN);
  assert.equal(config.environment, "development");
  assert.equal(initOptions(config).enabled, true);
  assert.equal(initOptions(runtimeConfig({})).enabled, false);
});

test("dataCollection userInfo=false turns sendDefaultPii off for SDK 10", () => {
  const options = initOptions(runtimeConfig({ SENTRY_SEND_DEFAULT_PII: "true", SENTRY_DATA_COLLECTION: '{"userInfo":false}' }));
  assert.equal(options.sendDefaultPii, false);
  assert.deepEqual(options.dataCollection, { userInfo: false });
  assert.equal(options.enableLogs, true);
});

for (const [name, value] of [
  ["PUBLIC_SENTRY_REPLAYS_SESSION_SAMPLE_RATE", "2"],
  ["PUBLIC_SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE", "x"],
  ["PUBLIC_SENTRY_TRACES_SAMPLE_RATE", "-1"],
  ["PUBLIC_SENTRY_DEBUG", "perhaps"],
  ["PUBLIC_SENTRY_DATA_COLLECTION", "[1]"],
  ["PUBLIC_BACKEND_URL", "127.0.0.1:8000"],
]) {
  test(`a bad ${name} is refused, naming it`, () => {
    assert.throws(() => runtimeConfig({ [name]: value }, "PUBLIC_"), (error) => error instanceof ConfigError && error.message.includes(name));
  });
}

test("logs show the DSN without its key", () => {
  assert.equal(masked(runtimeConfig({ SENTRY_DSN: DSN })).dsn, "http://***@127.0.0.1:9/42");
});
